"""Two signs that a JPEG was cut short that libjpeg itself keeps quiet about.

Pillow fails a JPEG whose data simply stops (no end-of-image marker) unless
`LOAD_TRUNCATED_IMAGES` is set, and we never set it. But libjpeg pads a scan
that ends early with grey and only *warns* (Pillow drops libjpeg's warnings):

* a header that declares far more pixels than the file has bytes for (a
  631-byte file claiming 15000 x 15000) decodes into a huge grey picture;
  that is refused before any pixel is decoded (`scan_too_short`);
* a real photo cut part-way whose bytes still end with an end-of-image marker
  (a repaired download, a recovery tool, a cut file with `FF D9` appended)
  decodes with everything after the cut flat mid-grey. Every coefficient of a
  block libjpeg could not read is zero, which is exactly 128 in each YCbCr
  channel, so the picture's last block, the bottom-right corner, is exactly
  (128, 128, 128). That is checked after decoding (`ends_in_grey_fill`) and
  becomes a warning, not a failure: a complete picture may, rarely, have an
  exactly mid-grey corner, and then nothing of the user's is lost.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

GREY_FILL_WARNING = (
    "The end of this JPEG is flat grey, as when a file is cut short: the file may be incomplete; "
    "check the picture, or use the original file if you have it."
)
_CORNER = 2  # pixels: inside the last block at every DCT scale libjpeg decodes at


def scan_too_short(im: Image.Image, file_size: int) -> bool:
    """A baseline or progressive JPEG spends at least one bit per 8x8 luma block
    (a DC code; progressive first scans too), so a file smaller than
    blocks / 8 bytes cannot hold the image its header declares."""
    if im.format not in ("JPEG", "MPO"):
        return False
    w, h = im.size
    blocks = ((w + 7) // 8) * ((h + 7) // 8)
    return file_size * 8 < blocks


def ends_in_grey_fill(im: Image.Image) -> bool:
    """The decoded (not yet rotated) JPEG's bottom-right corner is libjpeg's zero fill."""
    if im.format not in ("JPEG", "MPO") or im.mode not in ("L", "RGB"):
        return False
    w, h = im.size
    k = min(_CORNER, w, h)
    corner = np.asarray(im.crop((w - k, h - k, w, h)))
    return bool((corner == 128).all())
