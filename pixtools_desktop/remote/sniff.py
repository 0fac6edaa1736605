"""What an upload really is, read from its first bytes (shared by client and server).

The PixTools API accepts four declared content types. A client must declare
the type the bytes really have (a PNG named `.jpg` is still a PNG), and
`pixtools serve` must not trust a declared type it did not check. Both sides
use this one table so they agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

ACCEPTED_MIME_TYPES: list[str] = ["image/jpeg", "image/png", "image/webp", "image/avif"]
MIME_TO_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/avif": "avif"}
HEAD_BYTES = 64

_AVIF_BRANDS = (b"avif", b"avis")


def sniff_mime(head: bytes) -> str | None:
    """The MIME type of an image from its leading bytes, or None when not one of ours."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        size = int.from_bytes(head[0:4], "big")
        brands = [head[8:12]] + [head[i : i + 4] for i in range(16, min(size, len(head)), 4)]
        if any(b in _AVIF_BRANDS for b in brands):
            return "image/avif"
    return None


def describe(head: bytes) -> str:
    """A few words on what a non-image (or other image) file looks like, for messages."""
    if not head:
        return "an empty file"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "a TIFF image"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "a GIF image"
    if head.startswith(b"BM"):
        return "a BMP image"
    if head[4:8] == b"ftyp":
        return f"an ISO media file (brand {head[8:12].decode('latin-1', 'replace')!r}, e.g. HEIC or video)"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)"
    if lowered.startswith(b"<"):
        return "a text/XML file"
    return "not an image"


def sniff_file(path: str | Path) -> tuple[str | None, bytes]:
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    return sniff_mime(head), head


def sniff_stream(fh: BinaryIO) -> tuple[str | None, bytes]:
    pos = fh.tell()
    head = fh.read(HEAD_BYTES)
    fh.seek(pos)
    return sniff_mime(head), head
