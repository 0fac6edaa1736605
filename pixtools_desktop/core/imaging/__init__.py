"""Imaging layer: decode, resize, encode and read metadata.

Pure Python + Pillow + numpy (no Qt, no torch), safe to call from several
worker threads at once. Errors are `ImageDecodeError` / `UnsupportedImageError`
whose text is written for the person who dropped the file.
"""

from pixtools_desktop.core.imaging.decode import DEFAULT_MAX_PIXELS, SourceImage, load_image
from pixtools_desktop.core.imaging.encode import DEFAULT_QUALITY, save_image
from pixtools_desktop.core.imaging.metadata import extract_metadata
from pixtools_desktop.core.imaging.transform import resize

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_QUALITY",
    "SourceImage",
    "extract_metadata",
    "load_image",
    "resize",
    "save_image",
]
