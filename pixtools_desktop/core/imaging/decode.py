"""Decode an input file into one upright, normalised image plus its metadata.

Design choices, and why:

* **Identify by content, never by name.** A PNG named `.jpg` is fine; a web
  page saved as `.jpg` gets a message that says so.
* **Our own size guard, checked from the header before any pixel is read.**
  Pillow's guard (`Image.MAX_IMAGE_PIXELS`) is a process-wide global: changing
  it per call would race between the engine's decode threads, and its default
  (~179 MP hard limit) is below our 250 MP setting. So we identify the file
  through Pillow's public plugin registry (`Image.ID` / `Image.OPEN`) exactly
  as `Image.open` does, minus its global check, and apply `max_pixels` here.
* **One pixel guard for every format.** Pillow also checks sizes inside some
  plugins (WebP and MPO at open, TIFF and GIF at load) against its global
  limit, so a 225 MP WebP was refused while a 225 MP PNG passed. At import we
  switch Pillow's global check off (`Image.MAX_IMAGE_PIXELS = None`, once, like
  registering plugins) and `max_pixels` here is the only rule; every decode
  of a user's file in the app goes through `open_image`.
* **No global mutable state** beyond that one-time set-up: plugins (HEIF via
  pillow-heif included) are registered once at import; nothing else
  module-level is written. `ImageFile.LOAD_TRUNCATED_IMAGES` stays False so a
  truncated file is an error, not a grey half-picture; the two cut JPEGs
  libjpeg pads with grey without complaint are caught in `jpeg_cut`.
* **Every decoder failure is "damaged".** Pillow's plugins raise all sorts of
  exceptions on hostile files (TypeError "Missing dimensions" from a TIFF
  without a size, ...): any of them becomes a plain damaged-file message.
* **One decode, few copies.** Pixels are decoded once; mode conversion and
  rotation only allocate when the image actually needs them.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import pillow_heif
from PIL import Image, ImageFile

from pixtools_desktop.core.errors import (
    OUT_OF_MEMORY_MESSAGE,
    ErrorCode,
    ImageDecodeError,
    JobError,
    UnsupportedImageError,
)
from pixtools_desktop.core.imaging import jpeg_cut
from pixtools_desktop.core.imaging._exif import (
    icc_colour_space,
    reset_exif_orientation,
    reset_xmp_orientation,
)
from pixtools_desktop.core.sniff import not_an_image, signature_format

DEFAULT_MAX_PIXELS = 250_000_000

ReduceTo = Callable[[int, int], "tuple[int, int] | None"]

NORMAL_MODES = ("L", "LA", "RGB", "RGBA", "I;16")

# Register every plugin now, on the importing thread, so identification
# later only reads the registry. pillow-heif decodes HEIC/HEIF (phone photos);
# it applies the EXIF orientation itself and resets the tag to 1.
Image.init()
pillow_heif.register_heif_opener()
# Our max_pixels is the one guard (see the module doc).
Image.MAX_IMAGE_PIXELS = None

CheckSize = Callable[[int, int], None]

# Same table as ImageOps.exif_transpose; applied to the already-normalised
# image so that only one rotated copy is ever made.
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

TRUNCATED_MESSAGE = "The image is truncated or damaged: the file ends before the image data does."
DAMAGED_MESSAGE = "The image is damaged: its {fmt} data is corrupt and cannot be decoded."


@dataclass
class SourceImage:
    """A decoded input: upright pixels in one of NORMAL_MODES, plus metadata.

    `exif` keeps the "Exif\\0\\0" APP1 header and has Orientation reset to 1,
    because the pixels are already upright: writing the old tag back would
    make viewers rotate the picture a second time.
    """

    image: Image.Image
    source_format: str
    exif: bytes | None = None
    icc_profile: bytes | None = None
    xmp: bytes | None = None
    warnings: list[str] = field(default_factory=list)
    bit_depth: int = 8
    # Upright size of the file's full-resolution image. Differs from
    # image.size only when a JPEG was decoded at reduced scale (`reduce_to`);
    # resize targets are computed from it so sizes match a full decode exactly.
    original_size: tuple[int, int] | None = None

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


# --------------------------------------------------------------------------
# identification


def _megapixels(pixels: int) -> str:
    mp = pixels / 1_000_000
    if mp < 0.1:  # a small limit set on purpose: "0.0 megapixels" would read as no limit at all
        return f"{mp:.2g}"
    return f"{mp:,.1f}" if mp < 10 else f"{mp:,.0f}"


def too_large_message(width: int, height: int, max_pixels: int) -> str:
    return (
        f"The image is too large: {width} x {height} pixels ({_megapixels(width * height)} megapixels) "
        f"exceeds the limit of {_megapixels(max_pixels)} megapixels."
    )


def too_large_output_message(width: int, height: int, max_pixels: int) -> str:
    return (
        f"the result would be {width} x {height} pixels ({_megapixels(width * height)} megapixels), "
        f"above the limit of {_megapixels(max_pixels)} megapixels."
    )


def _too_large(width: int, height: int, max_pixels: int) -> ImageDecodeError:
    return ImageDecodeError(too_large_message(width, height, max_pixels), code=ErrorCode.TOO_LARGE)


def _identify(fp: BinaryIO, filename: str) -> ImageFile.ImageFile | None:
    """`Image.open` without its process-wide bomb check (see module doc)."""
    fp.seek(0)
    prefix = fp.read(16)
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        if accept is not None:
            verdict = accept(prefix)
            if not verdict or isinstance(verdict, str):
                continue
        fp.seek(0)
        try:
            return factory(fp, filename)
        except (SyntaxError, IndexError, TypeError, struct.error):
            continue  # not this format after all; Pillow does the same
        except (OSError, EOFError, ValueError, MemoryError, Image.DecompressionBombError):
            raise
        except Exception as exc:  # a plugin's own bug on a hostile file is still "damaged"
            raise ValueError(f"{fmt} plugin failed: {type(exc).__name__}: {exc}") from exc
    return None


def _looks_truncated(exc: BaseException, head_fmt: str | None, tail: bytes) -> bool:
    text = str(exc).lower()
    if isinstance(exc, EOFError) or any(
        s in text for s in ("truncated", "end of file", "broken data stream", "not enough data", "premature end")
    ):
        return True
    if head_fmt == "JPEG":
        return not tail.rstrip(b"\x00").endswith(b"\xff\xd9")
    if head_fmt == "PNG":
        return b"IEND" not in tail
    return False


def open_image(fp: BinaryIO, filename: str = "", *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageFile.ImageFile:
    """Identify `fp` (lazily: no pixels decoded) and enforce `max_pixels`.

    Raises ImageDecodeError / UnsupportedImageError with a readable message.
    `max_pixels <= 0` disables the size limit.
    """
    fp.seek(0, io.SEEK_END)
    size = fp.tell()
    if size == 0:
        raise ImageDecodeError("The file is empty (0 bytes).")
    fp.seek(0)
    head = fp.read(1024)
    head_fmt = signature_format(head)
    try:
        im = _identify(fp, filename)
    except Image.DecompressionBombError as exc:  # a plugin's own check (see the module doc)
        raise ImageDecodeError("The image is too large to open safely.", code=ErrorCode.TOO_LARGE) from exc
    except MemoryError as exc:
        raise JobError(OUT_OF_MEMORY_MESSAGE, code=ErrorCode.OUT_OF_MEMORY) from exc
    except (OSError, EOFError, ValueError, SyntaxError, struct.error) as exc:
        fp.seek(max(0, size - 64))
        if _looks_truncated(exc, head_fmt, fp.read()):
            raise ImageDecodeError(TRUNCATED_MESSAGE) from exc
        raise ImageDecodeError(DAMAGED_MESSAGE.format(fmt=head_fmt or "image")) from exc
    if im is None:
        if head_fmt is not None:
            # A known signature no plugin accepted: the header itself is cut or broken.
            fp.seek(max(0, size - 64))
            if size < 64 or _looks_truncated(EOFError(), head_fmt, fp.read()):
                raise ImageDecodeError(TRUNCATED_MESSAGE)
            raise ImageDecodeError(DAMAGED_MESSAGE.format(fmt=head_fmt))
        raise not_an_image(head)
    width, height = im.size
    if width <= 0 or height <= 0:
        raise ImageDecodeError(f"The image is damaged: its header declares a size of {width} x {height} pixels.")
    if max_pixels > 0 and width * height > max_pixels:
        raise _too_large(width, height, max_pixels)
    if jpeg_cut.scan_too_short(im, size):
        raise ImageDecodeError(
            f"The image is truncated or damaged: its header declares {width} x {height} pixels, "
            f"but the file holds only {size:,} bytes, far too few for that picture."
        )
    return im


def upright_size_of(fp: BinaryIO) -> tuple[int, int] | None:
    """The upright (EXIF-rotated) size from a stream's header, or None when it cannot be read."""
    try:
        im = open_image(fp, max_pixels=0)
        return _upright_size(im)
    except Exception:  # noqa: BLE001 - "cannot tell" is an answer here
        return None
    finally:
        fp.seek(0)


# --------------------------------------------------------------------------
# mode normalisation


def _from_uint16(arr: np.ndarray) -> Image.Image:
    arr = np.ascontiguousarray(arr, dtype="<u2")
    return Image.frombuffer("I;16", (arr.shape[1], arr.shape[0]), arr.tobytes(), "raw", "I;16", 0, 1)


def _cmyk_to_rgb(im: Image.Image, icc: bytes | None, notes: list[str]) -> Image.Image:
    """Colour-managed when the file carries a CMYK profile (prints look right),
    plain arithmetic otherwise (what every viewer without a profile does)."""
    if icc_colour_space(icc) == "CMYK":
        try:
            from PIL import ImageCms

            converted = ImageCms.profileToProfile(
                im,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),  # type: ignore[arg-type]
                ImageCms.createProfile("sRGB"),
                renderingIntent=ImageCms.Intent.PERCEPTUAL,
                outputMode="RGB",
            )
            if converted is not None:  # None only for inPlace=True
                return converted
        except Exception:  # noqa: BLE001 - ImportError or a broken profile: fall back below
            notes.append("The CMYK colour profile could not be used; colours were converted without it.")
    notes.append("CMYK colour was converted to RGB.")
    return im.convert("RGB")


def _normalise_mode(im: Image.Image, icc: bytes | None, notes: list[str]) -> tuple[Image.Image, bytes | None]:
    """Bring any Pillow mode to one of NORMAL_MODES; returns (image, icc)."""
    mode = im.mode
    if mode in ("L", "RGB") and "transparency" in im.info:
        # A PNG colour key (tRNS) is transparency too: make it a real alpha
        # channel, or it is lost as soon as the image is converted or resized.
        return im.convert("LA" if mode == "L" else "RGBA"), icc
    if mode in NORMAL_MODES:
        return im, icc
    if mode == "1":
        return im.convert("L"), icc
    if mode in ("P", "PA"):
        return im.convert("RGBA" if mode == "PA" or im.has_transparency_data else "RGB"), icc
    if mode == "CMYK":
        # The output is sRGB; the CMYK profile no longer describes it.
        return _cmyk_to_rgb(im, icc, notes), None
    if mode.startswith("I;16"):  # I;16B, I;16L, I;16N: same values, our byte order
        return _from_uint16(np.asarray(im)), icc
    if mode in ("I", "I;32", "I;32B", "I;32L"):
        arr: np.ndarray = np.asarray(im).astype(np.int64)  # the "F" branch below reuses the name for floats
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            notes.append("32-bit integer values outside 0..65535 were clipped to 16-bit.")
        return _from_uint16(np.clip(arr, 0, 65535)), icc
    if mode == "F":
        # Rule: floats in 0..1 are normalised intensities (scaled to 16-bit);
        # anything else is taken as 16-bit counts and clipped.
        arr = np.nan_to_num(np.asarray(im, dtype=np.float64), nan=0.0, posinf=65535.0, neginf=0.0)
        if arr.size and arr.min() >= 0.0 and arr.max() <= 1.0:
            arr = arr * 65535.0
        else:
            notes.append("32-bit floating-point values were converted to 16-bit.")
        return _from_uint16(np.clip(np.rint(arr), 0, 65535)), icc
    if mode in ("La",):
        return im.convert("LA"), icc
    target = "RGBA" if "A" in im.getbands() or "a" in im.getbands() else "RGB"
    try:
        converted = im.convert(target)
    except (ValueError, OSError) as exc:
        raise UnsupportedImageError(f"This image uses a colour mode ({mode}) that PixTools cannot convert.") from exc
    if icc_colour_space(icc) not in (None, "RGB"):
        icc = None  # e.g. a LAB profile no longer matches RGB pixels
    return converted, icc


def _reads_16bit_colour_as_8bit(im: ImageFile.ImageFile) -> bool:
    """Pillow has no 16-bit-per-channel colour modes: 16-bit RGB(A)/LA PNGs and
    TIFFs are delivered as 8-bit. Detectable from the raw mode before load."""
    if im.mode not in ("RGB", "RGBA", "LA"):
        return False
    for tile in im.tile:
        args = tile.args
        raw = args if isinstance(args, str) else (args[0] if args and isinstance(args[0], str) else "")
        if ";16" in raw:
            return True
    bits = getattr(im, "tag_v2", {}).get(258) if im.format == "TIFF" else None
    return isinstance(bits, tuple) and any(b == 16 for b in bits)


# --------------------------------------------------------------------------
# the public entry point


def _as_bytes(value: object) -> bytes | None:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return bytes(value) if isinstance(value, (bytes, bytearray)) and value else None


def _upright_size(im: ImageFile.ImageFile) -> tuple[int, int]:
    if im.format == "PNG" and "exif" not in im.info:
        return im.size  # Pillow's PNG getexif() would decode every pixel to look for a late eXIf chunk
    try:
        orientation = int(im.getexif().get(0x0112) or 1)
    except Exception:  # noqa: BLE001 - damaged EXIF is reported later, by _decode
        orientation = 1
    w, h = im.size
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def _apply_draft(im: ImageFile.ImageFile, reduce_to: ReduceTo) -> tuple[int, int] | None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when every output is smaller anyway.

    DCT-domain scaling skips most of the decode work for a 24 MP photo headed
    for 1920 px; the final LANCZOS resize still sets the exact size. Only JPEG
    supports it; other formats decode at full size.
    """
    if im.format not in ("JPEG", "MPO") or im.mode not in ("RGB", "L", "CMYK", "YCbCr"):
        return None
    full = _upright_size(im)  # JPEG: EXIF was read with the header, nothing is decoded here
    need = reduce_to(*full)
    if need is None:
        return full
    nw, nh = need
    if full != im.size:  # stored rotated: ask in stored orientation
        nw, nh = nh, nw
    im.draft(im.mode, (max(1, nw), max(1, nh)))
    return full


def _decode(
    im: ImageFile.ImageFile,
    fp: BinaryIO,
    size: int,
    reduce_to: ReduceTo | None = None,
    check_size: CheckSize | None = None,
) -> SourceImage:
    notes: list[str] = []
    if check_size is not None:  # before any pixel is decoded
        check_size(*_upright_size(im))
    original_size = _apply_draft(im, reduce_to) if reduce_to is not None else None
    fmt = "JPEG" if im.format == "MPO" else (im.format or "unknown")
    frames = getattr(im, "n_frames", 1)
    if frames > 1 and im.format != "MPO":  # MPO extras are camera previews, not content
        what = "pages" if fmt == "TIFF" else "frames"
        kind = "Multi-page" if fmt == "TIFF" else "Animated"
        notes.append(f"{kind} {fmt}: only the first of {frames} {what} was used.")
        im.seek(0)
    if _reads_16bit_colour_as_8bit(im):
        notes.append("16-bit colour was reduced to 8-bit (16-bit colour is only kept for greyscale images).")
    try:
        im.load()
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError("The image is too large to decode safely.", code=ErrorCode.TOO_LARGE) from exc
    except MemoryError as exc:  # not transient: the same image needs the same memory next time
        raise JobError(
            f"There is not enough memory to decode this {im.width} x {im.height} image.",
            code=ErrorCode.OUT_OF_MEMORY,
        ) from exc
    except Exception as exc:  # OSError, ValueError, TypeError, ...: all "damaged"
        fp.seek(max(0, size - 64))
        if _looks_truncated(exc, fmt, fp.read()):
            raise ImageDecodeError(TRUNCATED_MESSAGE) from exc
        raise ImageDecodeError(DAMAGED_MESSAGE.format(fmt=fmt)) from exc
    if jpeg_cut.ends_in_grey_fill(im):
        notes.append(jpeg_cut.GREY_FILL_WARNING)

    icc = _as_bytes(im.info.get("icc_profile"))
    xmp = _as_bytes(im.info.get("xmp"))
    exif_raw = _as_bytes(im.info.get("exif"))
    try:
        exif_obj = im.getexif()  # after load: PNG may keep eXIf after the pixels
        orientation = int(exif_obj.get(0x0112) or 1)
        if exif_raw is None and len(exif_obj):  # TIFF: EXIF lives in the file's own tags
            exif_raw = exif_obj.tobytes()
    except Exception:  # noqa: BLE001 - a decoder's own error on a damaged block: noted, the photo goes on
        orientation = 1
        notes.append("The EXIF block is damaged; it was ignored.")
        exif_raw = None

    image, icc = _normalise_mode(im, icc, notes)
    if orientation in _TRANSPOSE:
        image = image.transpose(_TRANSPOSE[orientation])
    elif image is im and frames > 1:
        image = im.copy()  # detach the first frame from the file we are about to close
    exif = reset_exif_orientation(exif_raw) if exif_raw else None
    if exif_raw and exif is None:
        notes.append("The EXIF block is damaged; it was not kept.")
    if xmp is not None:
        xmp = reset_xmp_orientation(xmp)
    return SourceImage(
        image=image,
        source_format=fmt,
        exif=exif,
        icc_profile=icc,
        xmp=xmp,
        warnings=notes,
        bit_depth=16 if image.mode == "I;16" else 8,
        original_size=original_size or image.size,
    )


def load_image(
    path: str | os.PathLike[str],
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    reduce_to: ReduceTo | None = None,
    check_size: CheckSize | None = None,
) -> SourceImage:
    """Decode `path` by content into an upright `SourceImage`.

    Safe to call from several threads at once. Raises ImageDecodeError (or its
    subclass UnsupportedImageError) whose text is meant for the user.
    `reduce_to(full_w, full_h) -> (w, h) | None` says the smallest upright size
    any output needs; a JPEG may then be decoded at a reduced scale no smaller
    than that (None: full size needed). `check_size(upright_w, upright_h)` runs
    after the header is read and before any pixel is decoded; it may raise
    (the engine refuses a resize whose output would be too large there).
    """
    filename = os.fspath(path)
    try:
        fp = open(filename, "rb")
    except FileNotFoundError as exc:
        raise ImageDecodeError("The file no longer exists.", code=ErrorCode.MISSING_INPUT) from exc
    except IsADirectoryError as exc:
        raise ImageDecodeError("This is a folder, not an image file.", code=ErrorCode.UNSUPPORTED) from exc
    except PermissionError as exc:
        raise ImageDecodeError("The file cannot be read: permission denied.", code=ErrorCode.MISSING_INPUT) from exc
    except OSError as exc:
        reason = exc.strerror or "input/output error"
        raise ImageDecodeError(
            f"The file cannot be read ({reason}).", transient=True, code=ErrorCode.MISSING_INPUT
        ) from exc
    with fp:
        try:
            im = open_image(fp, filename, max_pixels=max_pixels)
            return _decode(im, fp, os.fstat(fp.fileno()).st_size, reduce_to, check_size)
        except JobError:
            raise
        except MemoryError as exc:
            raise JobError(OUT_OF_MEMORY_MESSAGE, code=ErrorCode.OUT_OF_MEMORY) from exc
        except OSError as exc:
            if exc.errno is not None:  # reading the file itself failed (network drive, unplugged disk)
                raise ImageDecodeError(
                    f"The file cannot be read ({exc.strerror or 'input/output error'}).",
                    transient=True,
                    code=ErrorCode.MISSING_INPUT,
                ) from exc
            raise ImageDecodeError(DAMAGED_MESSAGE.format(fmt="image")) from exc  # a decoder's complaint
        except Exception as exc:  # a decoder's TypeError/KeyError/...: the file is damaged
            raise ImageDecodeError(DAMAGED_MESSAGE.format(fmt="image")) from exc
