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
    """Runs `then` once from the event loop: after the watched widget's first paint, or
    after `fallback_ms` counted from the event loop's first turn (a paint that never
    comes, or came before the gate), whichever is first."""

    def __init__(self, widget: QWidget, then: Callable[[], None], fallback_ms: int | None) -> None:
        super().__init__(widget)
        self._then: Callable[[], None] | None = then
        if fallback_ms is not None:
            # Counted from the loop's first turn, not from here: a slow construction on a
            # loaded machine must not beat the paint.
            QTimer.singleShot(0, self, lambda: QTimer.singleShot(fallback_ms, self, self._fire))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self, self._fire)
        return False

    def _fire(self) -> None:
        then, self._then = self._then, None
        if then is not None:
            then()
            self.deleteLater()  # and with it the fallback timer, whose context it is


def after_first_paint(widget: QWidget, then: Callable[[], None], *, fallback_ms: int | None = None) -> None:
    """Run `then` once from the event loop when `widget` has painted for the first time
    (or after `fallback_ms`, counted from the event loop's first turn)."""
    widget.installEventFilter(_PaintGate(widget, then, fallback_ms))
