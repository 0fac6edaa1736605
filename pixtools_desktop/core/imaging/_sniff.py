"""Name what a file is from its first bytes.

Used for messages only: a file no Pillow plugin accepts gets "it looks like
an HTML page" rather than "cannot identify image file", and a known image
signature that fails to open is reported as damaged, not as unsupported.
"""

from __future__ import annotations

from pixtools_desktop.core.errors import UnsupportedImageError

_IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)


HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")


def signature_format(head: bytes) -> str | None:
    for magic, name in _IMAGE_SIGNATURES:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"):
        return "AVIF"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "HEIF"
    return None


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
