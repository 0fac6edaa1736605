"""What a file is, read from its first bytes: the one content sniffer.

Used by the decoder for messages (a file no Pillow plugin takes gets "it
looks like an HTML page", a known image signature that fails to open is
damaged, not unsupported), and on both sides of the PixTools API: a client
must declare the type the bytes really have (a PNG named `.jpg` is still a
PNG) and `pixtools serve` must not trust a declared type it did not check.
One table, so the decoder, the remote precheck and the server agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from pixtools_desktop.core.errors import UnsupportedImageError

HEAD_BYTES = 64
ACCEPTED_MIME_TYPES: list[str] = ["image/jpeg", "image/png", "image/webp", "image/avif"]
MIME_TO_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/avif": "avif"}
_FORMAT_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "AVIF": "image/avif"}

_IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)
AVIF_BRANDS = (b"avif", b"avis")
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")


def _ftyp_brands(head: bytes) -> list[bytes]:
    """The major brand and the compatible brands of an ISO media `ftyp` box (AVIF, HEIF, video)."""
    size = int.from_bytes(head[0:4], "big")
    return [head[8:12]] + [head[i : i + 4] for i in range(16, min(size, len(head)), 4)]


def signature_format(head: bytes) -> str | None:
    """The image format named by a file's leading bytes (Pillow's names), or None."""
    for magic, name in _IMAGE_SIGNATURES:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        brands = _ftyp_brands(head)
        if any(b in AVIF_BRANDS for b in brands):
            return "AVIF"
        if head[8:12] in HEIF_BRANDS:
            return "HEIF"
    return None


def sniff_mime(head: bytes) -> str | None:
    """The MIME type of an image from its leading bytes, or None when not one the API accepts."""
    return _FORMAT_MIME.get(signature_format(head) or "")


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


def not_an_image(head: bytes) -> UnsupportedImageError:
    """A message naming what the file seems to be, for files no plugin took."""
    if head[4:8] == b"ftyp":
        return UnsupportedImageError("This file is not an image: it looks like a video or another media file.")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    kinds = (
        (stripped.startswith(b"%pdf"), "a PDF document"),
        (head.startswith(b"PK\x03\x04"), "a ZIP archive (or an Office document)"),
        (head.startswith(b"\x1f\x8b"), "a gzip archive"),
        (head.startswith((b"Rar!", b"7z\xbc\xaf")), "a compressed archive"),
        (
            stripped.startswith((b"<!doctype html", b"<html"))
            or any(t in stripped for t in (b"<html", b"<head", b"<body")),
            "an HTML page (often a download link that returned a web page instead of the picture)",
        ),
        (b"<svg" in stripped, "an SVG vector drawing; export it as PNG first"),
    )
    for matched, what in kinds:
        if matched:
            return UnsupportedImageError(f"This file is not an image: it looks like {what}.")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut by the sniff window still counts as text.
        text = head[:-3].decode("utf-8", "ignore") if len(head) > 3 else ""
    if text and all(ch.isprintable() or ch in "\t\r\n" for ch in text):
        return UnsupportedImageError("This file is not an image: it looks like a text file.")
    return UnsupportedImageError("This file is not in an image format PixTools can read.")


def sniff_file(path: str | Path) -> tuple[str | None, bytes]:
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    return sniff_mime(head), head


def sniff_stream(fh: BinaryIO) -> tuple[str | None, bytes]:
    pos = fh.tell()
    head = fh.read(HEAD_BYTES)
    fh.seek(pos)
    return sniff_mime(head), head
