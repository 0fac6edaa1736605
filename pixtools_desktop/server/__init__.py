"""`pixtools serve`: the PixTools HTTP API over the embedded engine.

Speaks PIXTOOLS_API.md so a laptop's remote backend can use a lab's GPU
machine. FastAPI for HTTP, core.runner.LocalRunner for the work.
"""
