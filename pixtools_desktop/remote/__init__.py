"""Remote backend: run jobs on a PixTools API server (or `pixtools serve`).

The client side of PIXTOOLS_API.md. Nothing here imports Qt or torch.
"""
