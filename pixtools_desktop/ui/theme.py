"""The Neobrutalist look: one stylesheet under resources/, two palettes.

`resources/pixtools.qss` holds the rules with `@token` colours and, in its
header comment, one `@palette NAME: key=#RRGGBB ...` line per theme. Keeping
both palettes in the stylesheet file means the whole look lives in one
place; this module only fills the tokens in and applies the result.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pixtools_desktop.core.paths import resources_dir

STYLESHEET = "pixtools.qss"
ICON_SVG = "pixtools.svg"
ICON_PNG = "pixtools.png"
THEMES = ("light", "dark")

_PALETTE_RE = re.compile(r"@palette\s+(\w+):\s*([^\n*]+)")
_TOKEN_RE = re.compile(r"@([a-z_][a-z0-9_]*)\b")


def stylesheet_path() -> Path:
    return resources_dir() / STYLESHEET


@lru_cache(maxsize=4)
def _template() -> str:
    return stylesheet_path().read_text(encoding="utf-8")


@lru_cache(maxsize=4)
def palettes() -> dict[str, dict[str, str]]:
    """The palettes declared in the stylesheet header, by theme name (parsed once: painters ask per cell)."""
    out: dict[str, dict[str, str]] = {}
    for name, body in _PALETTE_RE.findall(_template()):
        out[name] = dict(pair.split("=", 1) for pair in body.split())
    return out


def palette(theme: str) -> dict[str, str]:
    pals = palettes()
    return pals.get(theme) or pals["light"]


def stylesheet(theme: str) -> str:
    """The stylesheet with the theme's colours filled in (header comment dropped)."""
    colours = dict(palette(theme), res=resources_dir().as_posix())
    body = _template().split("*/", 1)[1]  # rules only; the header holds the palettes

    def sub(m: re.Match[str]) -> str:
        return colours.get(m.group(1), m.group(0))

    return _TOKEN_RE.sub(sub, body)


def current_theme() -> str:
    """The theme the running application was given (light when there is none)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    name = app.property("pixtoolsTheme") if app is not None else None
    return name if name in THEMES else "light"


def current_palette() -> dict[str, str]:
    """Colours for widgets that paint themselves (progress cells, failed rows)."""
    return palette(current_theme())


def apply_theme(app, theme: str) -> None:  # app: QApplication
    """Apply the stylesheet to the whole application (no per-widget styles)."""
    theme = theme if theme in THEMES else "light"
    app.setProperty("pixtoolsTheme", theme)  # first: self-painted widgets read it on the repaint below
    app.setStyleSheet(stylesheet(theme))


def app_icon():
    from PySide6.QtGui import QIcon

    icon = QIcon()
    for name in (ICON_SVG, ICON_PNG):
        p = resources_dir() / name
        if p.exists():
            icon.addFile(str(p))
    return icon


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two #RRGGBB colours."""

    def lum(hex_colour: str) -> float:
        h = hex_colour.lstrip("#")
        chans = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in chans]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    a, b = sorted((lum(fg), lum(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)
