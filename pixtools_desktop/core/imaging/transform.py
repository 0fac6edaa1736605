"""Pixel transforms (resize) that keep the normalised modes intact."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from pixtools_desktop.core.profile import Profile

# Pre-shrinking by an integer factor before LANCZOS makes large downscales
# (24 MP -> thumbnail) several times faster; at 3.0 Pillow documents the
# result as indistinguishable from a plain resize.
_REDUCING_GAP = 3.0


def target_size(
    src_width: int,
    src_height: int,
    width: int | None,
    height: int | None,
    *,
    fit: bool = False,
    enlarge: bool = True,
    cap: tuple[int, int] | None = None,
) -> tuple[int, int]:
    """The output size of a resize, with upstream PixTools' arithmetic.

    Defaults are the API's: both sides given = exactly that size (aspect ratio
    not kept); one side = the other scaled to keep the aspect ratio, truncated
    like upstream's `int((width / src_w) * src_h)`, at least 1 pixel. `cap`
    limits each *given* side first (upstream's 1920x1080: the computed side may
    exceed it). `fit` (desktop): both sides given form a box the image fits in.
    `enlarge=False` (desktop default): an image already inside the box keeps
    its size.
    """
    if width is None and height is None:
        raise ValueError("resize needs a width or a height")
    for name, value in (("width", width), ("height", height)):
        if value is not None and value <= 0:
            raise ValueError(f"resize {name} must be > 0, got {value}")
    if cap is not None:
        width = min(width, cap[0]) if width is not None else None
        height = min(height, cap[1]) if height is not None else None
    if width is not None and height is not None:
        if not fit:
            size = (width, height)
            return size if enlarge or (width <= src_width and height <= src_height) else (src_width, src_height)
        # The limiting side is the one with the smaller scale (compared exactly, in integers).
        if width * src_height <= height * src_width:
            height = None
        else:
            width = None
    if width is not None:
        size = (width, max(1, int((width / src_width) * src_height)))
    else:
        assert height is not None
        size = (max(1, int((height / src_height) * src_width)), height)
    if not enlarge and (size[0] > src_width or size[1] > src_height):
        return src_width, src_height
    return size


def planned_size(src_width: int, src_height: int, resize: dict[str, Any] | None, profile: Profile) -> tuple[int, int]:
    """What one op's `resize` params make of a `src_width` x `src_height` image under `profile`."""
    if not resize:
        return src_width, src_height
    return target_size(
        src_width,
        src_height,
        resize.get("width"),
        resize.get("height"),
        fit=profile.fit_within_box,
        enlarge=bool(resize.get("enlarge", profile.enlarge_by_default)),
        cap=profile.size_cap,
    )


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
