"""Byte-level EXIF and XMP helpers shared by decode, encode and metadata.

Why patch bytes instead of re-serialising with Pillow: camera EXIF blocks
carry maker notes whose internal offsets are absolute (Canon, Nikon, ...).
Pillow's `Exif.tobytes()` rewrites the block and moves those notes, which
silently corrupts them for tools that read them later. Resetting the
Orientation tag in place changes two bytes and keeps everything else exact.
Pillow's serialiser is only the fallback for blocks we cannot walk.
"""

from __future__ import annotations

import re
import struct

from PIL import Image

EXIF_HEADER = b"Exif\x00\x00"
ORIENTATION_TAG = 0x0112
_SHORT = 3


def with_exif_header(exif: bytes) -> bytes:
    """The JPEG APP1 convention ("Exif\\0\\0" + TIFF block), which Pillow's
    JPEG/PNG/WebP/AVIF/TIFF writers all accept."""
    return exif if exif.startswith(EXIF_HEADER) else EXIF_HEADER + exif


def _patch_ifd0_orientation(tiff: bytearray) -> bool:
    """Set IFD0's Orientation to 1 in place; False when the block is not a
    TIFF structure we can walk (the caller then falls back to Pillow)."""
    if len(tiff) < 8 or bytes(tiff[:2]) not in (b"II", b"MM"):
        return False
    end = "<" if tiff[:2] == b"II" else ">"
    magic, ifd_offset = struct.unpack_from(end + "HI", tiff, 2)
    if magic != 42 or ifd_offset + 2 > len(tiff):
        return False
    (count,) = struct.unpack_from(end + "H", tiff, ifd_offset)
    if ifd_offset + 2 + 12 * count > len(tiff):
        return False
    for i in range(count):
        entry = ifd_offset + 2 + 12 * i
        tag, typ, n = struct.unpack_from(end + "HHI", tiff, entry)
        if tag == ORIENTATION_TAG:
            if typ != _SHORT or n < 1:
                return False
            struct.pack_into(end + "H", tiff, entry + 8, 1)
            return True
    return True  # no Orientation tag: nothing to reset


def reset_exif_orientation(exif: bytes) -> bytes | None:
    """EXIF bytes (with the "Exif\\0\\0" header) whose Orientation is 1.

    Returns None when the block is empty or too damaged to be worth keeping:
    writing a broken EXIF block into an output would only move the problem.
    """
    if not exif:
        return None
    data = bytearray(with_exif_header(exif))
    tiff = data[len(EXIF_HEADER) :]
    if _patch_ifd0_orientation(tiff):
        return bytes(EXIF_HEADER + tiff)
    try:
        parsed = Image.Exif()
        parsed.load(bytes(data))
        if not len(parsed):
            return None
        if ORIENTATION_TAG in parsed:
            parsed[ORIENTATION_TAG] = 1
        return with_exif_header(parsed.tobytes())
    except Exception:  # noqa: BLE001 - any parse failure means "unusable block"
        return None


_XMP_ORIENTATION = (
    re.compile(rb'(tiff:Orientation\s*=\s*["\'])\d(["\'])'),
    re.compile(rb"(<tiff:Orientation>\s*)\d(\s*</tiff:Orientation>)"),
)


def reset_xmp_orientation(xmp: bytes) -> bytes:
    """XMP can repeat the orientation (tiff:Orientation); once the pixels are
    upright it must say 1 too, or XMP-aware viewers rotate the image again."""
    for pattern in _XMP_ORIENTATION:
        xmp = pattern.sub(rb"\g<1>1\g<2>", xmp)
    return xmp


def icc_colour_space(icc: bytes | None) -> str | None:
    """The ICC header's data colour space ("RGB", "GRAY", "CMYK", ...)."""
    if not icc or len(icc) < 20:
        return None
    return icc[16:20].decode("ascii", "replace").strip()
