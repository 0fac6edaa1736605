"""Bars that paint themselves in the theme's colours, readable at any fill.

A stylesheet QProgressBar draws its text in one colour over both the lime
fill and the track, so in the dark theme "100%" was light text on lime
(1.14:1). Here the text is drawn twice, clipped: dark ink over the fill,
the theme's text colour over the track, so every glyph meets WCAG AA.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QProgressBar, QWidget

from pixtools_desktop.ui import theme

FILL_TEXT = "#111111"  # on lime, cyan, pink and grey fills alike
STATUS_FILL = {"FAILED": "pink", "CANCELLED": None, "PROCESSING": "cyan"}
CANCELLED_FILL = "#BDBDBD"


def fill_colour(status: str, pal: dict[str, str]) -> str:
    if status == "CANCELLED":
        return CANCELLED_FILL
    key = STATUS_FILL.get(status) or "lime"
    return pal.get(key, "#B9F459")


def paint_bar(
    painter: QPainter,
    rect: QRect,
    fraction: float,
    text: str,
    *,
    status: str = "",
    border: int = 2,
    pal: dict[str, str] | None = None,
) -> None:
    """A flat bar: track, fill, ink border, and text readable over both halves."""
    pal = pal or theme.current_palette()
    fraction = max(0.0, min(1.0, fraction))
    painter.save()
    painter.fillRect(rect, QColor(pal["track"]))
    fill = QRect(rect.x(), rect.y(), round(rect.width() * fraction), rect.height())
    if fill.width() > 0:
        painter.fillRect(fill, QColor(fill_colour(status, pal)))
    pen = QPen(QColor(pal["ink"]), border)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    painter.setPen(pen)
    half = border / 2
    painter.drawRect(QRectF(rect).adjusted(half, half, -half, -half))
    font = painter.font()
    font.setBold(True)
    painter.setFont(font)
    for clip, colour in (
        (fill, FILL_TEXT),
        (QRect(fill.right() + 1, rect.y(), rect.width() - fill.width(), rect.height()), pal["text"]),
    ):
        if clip.width() <= 0:
            continue
        painter.save()
        painter.setClipRect(clip)
        painter.setPen(QColor(colour))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()
    painter.restore()


class InkProgressBar(QProgressBar):
    """The window's overall progress bar (same API as QProgressBar)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(30)

    def paintEvent(self, event: QPaintEvent) -> None:
        span = self.maximum() - self.minimum()
        fraction = (self.value() - self.minimum()) / span if span > 0 else 0.0
        p = QPainter(self)
        paint_bar(p, self.rect(), fraction, self.text() if self.isTextVisible() else "", border=3)
        p.end()
