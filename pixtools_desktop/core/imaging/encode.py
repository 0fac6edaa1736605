"""Encode an image into one of PixTools' output formats.

The mode is converted for the target (JPEG has no alpha and no 16-bit; WebP
and AVIF have no grey), and metadata is written only when the caller passes
it, so "strip metadata" is simply passing None.
"""

from __future__ import annotations

import logging
from typing import BinaryIO

import numpy as np
from PIL import Image, PngImagePlugin

from pixtools_desktop.core.imaging._exif import EXIF_HEADER, icc_colour_space, with_exif_header
from pixtools_desktop.core.imaging._tiff import save_tiff

log = logging.getLogger(__name__)

PIL_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF", "tiff": "TIFF"}

# The API's defaults for jpg/webp. AVIF: libavif's/Pillow's own default (75),
# which is what an API passing no quality gets, at Pillow's default speed.
DEFAULT_QUALITY = {"jpg": 85, "webp": 80, "avif": 75}

# optimize=True (zlib level 9 + filter search) is what the API does, but on a
# smooth 24 MP photo it took 50 s against 5 s for the default level, for ~8 %
# smaller files. Above this size we use the default level instead.
PNG_OPTIMIZE_MAX_PIXELS = 4_000_000

# A JPEG APP1 segment holds at most 65533 bytes of payload.
_JPEG_MAX_EXIF = 65533

_WHITE: dict[str, int | tuple[int, int, int]] = {"L": 255, "RGB": (255, 255, 255)}


def _flatten(image: Image.Image) -> Image.Image:
    """Alpha onto white (what a transparent PNG looks like on a page)."""
    base_mode = "L" if image.mode == "LA" else "RGB"
    if image.mode not in ("LA", "RGBA"):
        image = image.convert("RGBA")
    background = Image.new(base_mode, image.size, _WHITE[base_mode])
    background.paste(image.convert(base_mode), mask=image.getchannel("A"))
    return background


def _to_8bit(image: Image.Image) -> Image.Image:
    """16-bit grey to 8-bit by rounding value/257 (exact for 8-bit-origin data)."""
    arr = np.asarray(image).astype(np.uint32)
    return Image.fromarray(((arr + 128) // 257).astype(np.uint8))


def prepare_for_format(image: Image.Image, fmt: str) -> Image.Image:
    """Convert `image` to a mode `fmt` can store; returns it unchanged when
    it already fits (no copy)."""
    mode = image.mode
    if mode.startswith("I;16"):
        if fmt in ("png", "tiff"):
            return image
        image, mode = _to_8bit(image), "L"
    elif mode in ("P", "PA"):
        image = image.convert("RGBA" if mode == "PA" or image.has_transparency_data else "RGB")
    elif mode == "1":
        image = image.convert("L")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    mode = image.mode
    if fmt == "jpg":
        return _flatten(image) if mode in ("LA", "RGBA") else image
    if fmt in ("webp", "avif"):  # no grey in either: expand (alpha kept)
        if mode == "L":
            return image.convert("RGB")
        if mode == "LA":
            return image.convert("RGBA")
    return image


def _icc_for(icc: bytes | None, image: Image.Image) -> bytes | None:
    """Drop a profile that no longer matches the pixels (a grey profile on
    pixels we had to expand to RGB): a mismatched profile breaks readers."""
    if not icc:
        return None
    space = icc_colour_space(icc)
    wanted = "GRAY" if image.mode in ("L", "LA") or image.mode.startswith("I;16") else "RGB"
    if space != wanted:
        log.info("dropping %s ICC profile on %s output", space, image.mode)
        return None
    return icc


def save_image(
    image: Image.Image,
    fp: BinaryIO,
    fmt: str,
    *,
    quality: int | None = None,
    exif: bytes | None = None,
    icc_profile: bytes | None = None,
    xmp: bytes | None = None,
) -> None:
    """Write `image` to `fp` as `fmt` ("jpg", "png", "webp", "avif", "tiff").

    `quality` applies to jpg/webp/avif (defaults in DEFAULT_QUALITY) and is
    ignored by the lossless png/tiff. Metadata arguments are written only
    when given; EXIF may come with or without its "Exif\\0\\0" header.
    """
    if fmt not in PIL_FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(PIL_FORMATS)}")
    out = prepare_for_format(image, fmt)
    params: dict[str, object] = {}
    if fmt in DEFAULT_QUALITY:
        params["quality"] = DEFAULT_QUALITY[fmt] if quality is None else int(quality)
    # Always pass the key: Pillow's PNG, TIFF and AVIF writers fall back to
    # the image's own `info["icc_profile"]` when it is absent, which would
    # defeat stripping metadata from a decoded image.
    params["icc_profile"] = icc_out = _icc_for(icc_profile, out)
    exif_bytes = with_exif_header(exif) if exif else None
    if fmt == "jpg":
        params["optimize"] = True  # Huffman tables only: lossless and cheap
        params["comment"] = None  # not a source JPEG's COM segment, by the same fallback
        if exif_bytes and len(exif_bytes) > _JPEG_MAX_EXIF:
            log.warning("EXIF block of %d bytes is too large for JPEG; not written", len(exif_bytes))
            exif_bytes = None
    elif fmt == "png":
        if out.width * out.height <= PNG_OPTIMIZE_MAX_PIXELS:
            params["optimize"] = True
        if xmp:
            info = PngImagePlugin.PngInfo()
            info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8", "replace"), zip=False)
            params["pnginfo"] = info
            xmp = None
    elif fmt == "tiff":
        if hasattr(out, "tag_v2"):
            # Pillow copies XMP/IPTC/Photoshop tags from a TIFF source into
            # the output whatever we pass; a plain copy carries no tags.
            out = out.copy()
        # LZW-compressed, camera EXIF kept: see _tiff.py for how.
        save_tiff(out, fp, exif=exif_bytes, icc_profile=icc_out, xmp=xmp)
        return
    if exif_bytes and len(exif_bytes) > len(EXIF_HEADER):
        params["exif"] = exif_bytes
    if xmp:
        params["xmp"] = bytes(xmp)
    out.save(fp, PIL_FORMATS[fmt], **params)
