"""Metadata for people: labelled fields, GPS as degrees and minutes with a map link, sizes.

The metadata op returns the PixTools API's keys (`camera_make`, `gps`
as signed decimal degrees…); the result card shows them the way a photo tool
does. Pure functions, so they are tested without a window.
"""

from __future__ import annotations

import html
from typing import Any

LABELS = {
    "camera_make": "Camera make",
    "camera_model": "Camera model",
    "lens_model": "Lens",
    "captured_at": "Taken",
    "exposure_time": "Exposure",
    "aperture": "Aperture",
    "iso": "ISO",
    "gps": "Location",
    "width": "Width",
    "height": "Height",
}
MAP_URL = "https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=15/{lat:.6f}/{lon:.6f}"


def label_for(key: str) -> str:
    return LABELS.get(key, key.replace("_", " ").capitalize())


def dms(value: float, positive: str, negative: str) -> str:
    """51.500729 -> 51° 30.044′ N (degrees and decimal minutes, as GPS units show)."""
    hemisphere = positive if value >= 0 else negative
    value = abs(value)
    degrees = int(value)
    minutes = (value - degrees) * 60
    if round(minutes, 3) >= 60:
        degrees, minutes = degrees + 1, 0.0
    return f"{degrees}° {minutes:06.3f}′ {hemisphere}"


def gps_coords(gps: Any) -> tuple[float, float] | None:
    lat: Any  # whatever the file carried: float() below decides
    lon: Any
    if isinstance(gps, dict):
        lat, lon = gps.get("latitude", gps.get("lat")), gps.get("longitude", gps.get("lon"))
    elif isinstance(gps, (list, tuple)) and len(gps) == 2:
        lat, lon = gps
    else:
        return None
    try:
        return float(lat), float(lon)
    except (TypeError, ValueError):
        return None


def format_gps(gps: Any) -> str | None:
    coords = gps_coords(gps)
    if coords is None:
        return None
    lat, lon = coords
    return f"{dms(lat, 'N', 'S')}, {dms(lon, 'E', 'W')}"


def map_url(gps: Any) -> str | None:
    coords = gps_coords(gps)
    return MAP_URL.format(lat=coords[0], lon=coords[1]) if coords else None


def display_rows(metadata: dict[str, Any] | None) -> list[tuple[str, str, str | None]]:
    """(label, text, link) for each field; missing values read "—"."""
    rows: list[tuple[str, str, str | None]] = []
    for key, value in (metadata or {}).items():
        if key == "gps":
            text = format_gps(value)
            rows.append((label_for(key), text or "—", map_url(value)))
        elif isinstance(value, (dict, list)):
            continue  # nested extras stay in the job's JSON, not on the card
        else:
            rows.append((label_for(key), "—" if value in (None, "") else str(value), None))
    return rows


def rows_html(rows: list[tuple[str, str, str | None]]) -> str:
    cells = []
    for label, text, link in rows:
        value = html.escape(text)
        if link:
            value += f' · <a href="{html.escape(link)}">map</a>'
        cells.append(f"<tr><td><b>{html.escape(label)}</b>&nbsp;&nbsp;</td><td>{value}</td></tr>")
    return "<table cellspacing='2'>" + "".join(cells) + "</table>"


def size_text(before: tuple[int, int] | None, after: tuple[int, int] | None) -> str:
    """ "4000 × 3000 → 1920 × 1440", "—" for a side that is not known."""

    def one(wh: tuple[int, int] | None) -> str:
        return f"{wh[0]} × {wh[1]}" if wh else "—"

    return f"{one(before)} → {one(after)}"


def _pair(obj: Any, w: str, h: str) -> tuple[int, int] | None:
    get = obj.get if isinstance(obj, dict) else lambda k, d=None: getattr(obj, k, d)
    a, b = get(w, None), get(h, None)
    try:
        return (int(a), int(b)) if a and b else None
    except (TypeError, ValueError):
        return None


def output_dimensions(job: Any, rec: Any) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """(before, after) pixel sizes if the engine recorded them (on the output record or the job)."""
    after = _pair(rec, "width", "height")
    before = _pair(rec, "source_width", "source_height") or _pair(rec, "input_width", "input_height")
    if before is None:
        for holder in (job, getattr(job, "metadata", None) or {}):
            before = _pair(holder, "input_width", "input_height") or _pair(holder, "source_width", "source_height")
            if before:
                break
    return before, after
