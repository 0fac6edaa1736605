"""PixTools Desktop: a crash-safe desktop image pipeline.

Importing this package must stay cheap: no Qt widgets, no torch. The UI and
the model are imported lazily by the code paths that need them.
"""

__version__ = "0.1.0"
