"""Pixel transforms (resize) that keep the normalised modes intact."""

from __future__ import annotations

import numpy as np
from PIL import Image

# Pre-shrinking by an integer factor before LANCZOS makes large downscales
# (24 MP -> thumbnail) several times faster; at 3.0 Pillow documents the
# result as indistinguishable from a plain resize.
_REDUCING_GAP = 3.0


def target_size(src_width: int, src_height: int, width: int | None, height: int | None) -> tuple[int, int]:
    """The output size PixTools uses: both sides given = exactly that size
    (aspect ratio not kept, as the API does); one side = the other scaled to
    keep the aspect ratio, rounded, at least 1 pixel."""
    if width is None and height is None:
        raise ValueError("resize needs a width or a height")
    for name, value in (("width", width), ("height", height)):
        if value is not None and value <= 0:
            raise ValueError(f"resize {name} must be > 0, got {value}")
    if width is not None and height is not None:
        return width, height
    if width is not None:
        return width, max(1, round(src_height * width / src_width))
    assert height is not None
    return max(1, round(src_width * height / src_height)), height


def resize(image: Image.Image, width: int | None = None, height: int | None = None) -> Image.Image:
    """LANCZOS resize to `target_size(...)`; returns `image` itself when the
    size already matches (no needless 24 MP copy).

    16-bit grey ("I;16") goes through 32-bit "I": Pillow's native I;16
    resampler loses precision (measured: errors of a few hundred levels).
    Alpha is handled by Pillow (it resamples premultiplied), so transparent
    edges do not get dark fringes.
    """
    size = target_size(image.width, image.height, width, height)
    if size == image.size:
        return image
    if image.mode in ("P", "PA", "1", "CMYK"):  # not produced by load_image, but be forgiving
        image = image.convert("RGBA" if image.mode == "PA" or image.has_transparency_data else "RGB")
    if image.mode.startswith("I;16"):
        wide = image.convert("I").resize(size, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
        arr = np.clip(np.asarray(wide), 0, 65535).astype("<u2")
        return Image.frombuffer("I;16", size, arr.tobytes(), "raw", "I;16", 0, 1)
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
