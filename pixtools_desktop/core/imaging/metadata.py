"""The `metadata` operation: the PixTools API's camera fields from EXIF.

Every key is always present; a field the file lacks (or holds garbage in) is
None. Formatting rules, chosen to read like a camera's display:

* exposure_time: ExifTool's rule. Up to 1/4 s (t <= 0.25001): "1/N s" with
  N = round(1/t), e.g. "1/125s", "1/4s"; longer: seconds with one decimal and
  a trailing ".0" dropped, e.g. "0.3s", "0.5s", "2s", "2.5s", "30s".
  Falls back to the APEX ShutterSpeedValue when ExposureTime is missing.
* aperture: "f/" + FNumber with one decimal ("f/2.8", "f/8.0"), falling back
  to the APEX ApertureValue.
* captured_at: DateTimeOriginal, else DateTime, as ISO 8601
  ("2008-07-31T10:38:11"), with the EXIF 2.31 UTC offset appended when the
  file records one ("...T10:38:11+02:00"). Placeholder dates are None.
* iso: PhotographicSensitivity (ISOSpeedRatings), else ISOSpeed, else
  RecommendedExposureIndex.
* gps: signed decimal degrees (S and W negative); None when either
  coordinate is missing, out of range, or exactly 0,0 (cameras write zeros
  when they had no fix).
"""

from __future__ import annotations

import math
import os
import re
from datetime import datetime
from typing import Any

from PIL import Image

from pixtools_desktop.core.errors import ImageDecodeError
from pixtools_desktop.core.imaging.decode import DEFAULT_MAX_PIXELS, SourceImage, open_image

FIELDS = ("camera_make", "camera_model", "lens_model", "captured_at", "exposure_time", "aperture", "iso", "gps")

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_MAKE, _MODEL, _DATETIME = 0x010F, 0x0110, 0x0132
_EXPOSURE, _FNUMBER, _ISO, _REI, _ISO_SPEED = 0x829A, 0x829D, 0x8827, 0x8832, 0x8833
_DT_ORIGINAL, _OFFSET, _OFFSET_ORIGINAL = 0x9003, 0x9010, 0x9011
_SHUTTER_APEX, _APERTURE_APEX, _LENS_MODEL = 0x9201, 0x9202, 0xA434


def _text(value: Any) -> str | None:
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    # Cameras pad with NULs and spaces; text after an inner NUL is garbage.
    value = value.strip(" \t\r\n\x00").split("\x00", 1)[0].strip()
    return value or None


def _number(value: Any) -> float | None:
    """A finite float from an EXIF number/rational (first item of a tuple)."""
    if isinstance(value, (tuple, list)):
        value = value[0] if value else None
    try:
        number = float(value)  # IFDRational with denominator 0 gives nan
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def format_exposure(seconds: float | None) -> str | None:
    if seconds is None or seconds <= 0:
        return None
    if seconds <= 0.25001:
        return f"1/{int(0.5 + 1 / seconds)}s"
    text = f"{seconds:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "s"


def format_aperture(f_number: float | None) -> str | None:
    if f_number is None or f_number <= 0:
        return None
    return f"f/{f_number:.1f}"


_DATE = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_TZ = re.compile(r"^[+-]\d{2}:\d{2}$")


def format_datetime(value: Any, offset: Any = None) -> str | None:
    text = _text(value)
    match = _DATE.match(text or "")
    if not match:
        return None
    try:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        moment = datetime(year, month, day, hour, minute, second)
    except ValueError:  # "0000:00:00 00:00:00" and similar placeholders
        return None
    iso = moment.isoformat()
    tz = _text(offset)
    return iso + tz if tz and _TZ.match(tz) else iso


def _degrees(dms: Any, ref: Any, negative_ref: str, limit: float) -> float | None:
    if not isinstance(dms, (tuple, list)):
        dms = (dms,)
    parts = [_number(v) for v in dms[:3]]
    if not parts or any(p is None for p in parts):
        return None
    value: float = sum(p / 60**i for i, p in enumerate(parts) if p is not None)  # all present: checked above
    if not 0 <= value <= limit:
        return None
    return -value if (_text(ref) or "").upper().startswith(negative_ref) else value


def _gps(gps: dict[int, Any]) -> dict[str, float] | None:
    if not gps:
        return None
    lat = _degrees(gps.get(2), gps.get(1), "S", 90.0)
    lon = _degrees(gps.get(4), gps.get(3), "W", 180.0)
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return None
    return {"latitude": lat, "longitude": lon}


def _iso(exif_ifd: dict[int, Any]) -> int | None:
    for tag in (_ISO, _ISO_SPEED, _REI):
        number = _number(exif_ifd.get(tag))
        if number is not None and number > 0:
            return int(number)
    return None


def _sub_ifd(exif: Image.Exif, tag: int) -> dict[int, Any]:
    try:
        return dict(exif.get_ifd(tag))
    except Exception:  # noqa: BLE001 - a broken sub-IFD pointer loses only that IFD's fields
        return {}


def metadata_from_exif(exif: Image.Exif) -> dict[str, Any]:
    """The API's metadata dict from a parsed EXIF block."""
    ifd = _sub_ifd(exif, _EXIF_IFD)
    exposure = _number(ifd.get(_EXPOSURE))
    if exposure is None and (tv := _number(ifd.get(_SHUTTER_APEX))) is not None and abs(tv) < 64:
        exposure = 2.0 ** (-tv)
    f_number = _number(ifd.get(_FNUMBER))
    if f_number is None and (av := _number(ifd.get(_APERTURE_APEX))) is not None and abs(av) < 64:
        f_number = 2.0 ** (av / 2)
    captured = format_datetime(ifd.get(_DT_ORIGINAL), ifd.get(_OFFSET_ORIGINAL)) or format_datetime(
        exif.get(_DATETIME), ifd.get(_OFFSET)
    )
    return {
        "camera_make": _text(exif.get(_MAKE)),
        "camera_model": _text(exif.get(_MODEL)),
        "lens_model": _text(ifd.get(_LENS_MODEL)),
        "captured_at": captured,
        "exposure_time": format_exposure(exposure),
        "aperture": format_aperture(f_number),
        "iso": _iso(ifd),
        "gps": _gps(_sub_ifd(exif, _GPS_IFD)),
    }


GPS_DECIMALS = 6  # upstream's round(decimal, 6): about 0.1 m


def api_metadata(full: dict[str, Any] | None) -> dict[str, Any]:
    """The API's shape of `full`: only the keys found (`{}` for an image without
    EXIF), GPS rounded to 6 decimals as upstream. The content stays ours
    (capture date, exposure, aperture, ISO from the EXIF sub-IFD, which
    upstream misses): richer is fine, nulls are not. The window and the local
    CLI keep the full form with every key."""
    out: dict[str, Any] = {}
    for key, value in (full or {}).items():
        if value is None:
            continue
        if key == "gps" and isinstance(value, dict):
            value = {k: round(v, GPS_DECIMALS) if isinstance(v, float) else v for k, v in value.items()}
        out[key] = value
    return out


def full_metadata(api: dict[str, Any] | None) -> dict[str, Any]:
    """The full form (every key, None where absent) of metadata in the API's shape,
    e.g. what a PixTools server returned, for the window and the local CLI."""
    api = api or {}
    return {**dict.fromkeys(FIELDS), **api}


def _exif_from_path(path: str | os.PathLike[str]) -> Image.Exif:
    filename = os.fspath(path)
    try:
        fp = open(filename, "rb")
    except OSError as exc:
        raise ImageDecodeError("The file cannot be read.") from exc
    with fp:
        # No pixel limit here: reading tags never decodes pixels, except
        # Pillow's PNG getexif(), which we avoid for huge images below.
        im = open_image(fp, filename, max_pixels=0)
        if "exif" in im.info or im.width * im.height <= DEFAULT_MAX_PIXELS:
            try:
                exif = im.getexif()
                for tag in (_EXIF_IFD, _GPS_IFD):  # a TIFF's sub-IFDs are read lazily: while the file is open
                    if tag in exif:
                        _sub_ifd(exif, tag)
                return exif
            except Exception:  # noqa: BLE001 - unreadable tags read as no tags; the job reports real errors
                pass
        return Image.Exif()


def extract_metadata(source: SourceImage | str | os.PathLike[str]) -> dict[str, Any]:
    """PixTools API metadata fields for a decoded image or a file path.

    From a path only the header and tags are read, so this is cheap even for
    large photos. Raises ImageDecodeError for files that are not images.
    """
    if isinstance(source, SourceImage):
        exif = Image.Exif()
        if source.exif:
            try:
                exif.load(source.exif)
            except Exception:  # noqa: BLE001 - a damaged block reads as no tags (decode already noted it)
                exif = Image.Exif()
    else:
        exif = _exif_from_path(source)
    try:
        return metadata_from_exif(exif)
    except Exception:  # noqa: BLE001 - a pathological block must not fail the job
        return dict.fromkeys(FIELDS)
