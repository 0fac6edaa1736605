"""Sizes that make the window fit a laptop (usable at 1024x640), and geometry restore.

The left panel scrolls vertically inside a scroll area whose minimum width
counts the scroll bar, so the bar sits beside the controls, never over them
(and the card's right border stays visible).
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtWidgets import QScrollArea, QWidget

DEFAULT_SIZE = (1360, 820)
MIN_SIZE = (960, 600)
RESULTS_MIN_WIDTH = 244
CENTER_MIN_WIDTH = 364


def first_geometry(available: QRect, minimum: QSize) -> QRect:
    """The window on first start: DEFAULT_SIZE, shrunk to fit the screen's free area
    (minus the window frame) but not below the window's `minimum`, centred in it."""
    frame = 40  # title bar and borders a window manager adds
    w = max(min(DEFAULT_SIZE[0], available.width() - 24), minimum.width())
    h = max(min(DEFAULT_SIZE[1], available.height() - frame), minimum.height())
    rect = QRect(0, 0, w, h)
    rect.moveCenter(available.center())
    rect.moveTop(max(available.top() + frame - 8, rect.top()))
    return rect


class LeftPanelScroll(QScrollArea):
    """Vertical scrolling only; as wide as its panel needs *plus* the scroll bar."""

    def __init__(self, panel: QWidget) -> None:
        super().__init__()
        self.setObjectName("leftScroll")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setWidget(panel)

    def minimumSizeHint(self) -> QSize:
        panel = self.widget()
        if panel is None:  # before setWidget
            return super().minimumSizeHint()
        panel.ensurePolished()
        bar = self.verticalScrollBar()
        bar.ensurePolished()
        width = panel.minimumSizeHint().width() + bar.sizeHint().width() + 2 * self.frameWidth() + 2
        return QSize(width, 160)

    def sizeHint(self) -> QSize:
        return QSize(max(self.minimumSizeHint().width(), 400), 600)


def left_panel(panel: QWidget) -> LeftPanelScroll:
    scroll = LeftPanelScroll(panel)
    scroll.setMinimumWidth(scroll.minimumSizeHint().width())
    return scroll
