"""The window's first paint: run start-up work after it (`after_first_paint`), and, for
benchmarks/ui_latency.py, print when it happens and which heavy modules were loaded by then."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget


class _FirstPaint(QObject):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.done = False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if not self.done and event.type() == QEvent.Type.Paint:
            self.done = True
            loaded = " ".join(f"{m}={m in sys.modules}" for m in ("boto3", "httpx", "numpy"))
            print(f"first-paint {time.time():.6f} {loaded} torch={'torch' in sys.modules}", flush=True)
            QTimer.singleShot(0, QApplication.quit)
        return False


def report_first_paint(window: QWidget) -> None:
    f = _FirstPaint(window)
    window.installEventFilter(f)
    window._first_paint_filter = f  # type: ignore[attr-defined]  # keeps the filter alive with the window


class _PaintGate(QObject):
    """Runs `then` once from the event loop after the watched widget's first paint."""

    def __init__(self, widget: QWidget, then: Callable[[], None]) -> None:
        super().__init__(widget)
        self._then = then

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self, self._fire)
        return False

    def _fire(self) -> None:
        self._then()
        self.deleteLater()


def after_first_paint(widget: QWidget, then: Callable[[], None]) -> None:
    """Run `then` from the event loop once `widget` has painted for the first time."""
    widget.installEventFilter(_PaintGate(widget, then))
