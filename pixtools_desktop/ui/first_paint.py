"""For benchmarks/ui_latency.py: print when the window first paints, then quit."""

from __future__ import annotations

import sys
import time

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
            print(f"first-paint {time.time():.6f} torch={'torch' in sys.modules}", flush=True)
            QTimer.singleShot(0, QApplication.quit)
        return False


def report_first_paint(window: QWidget) -> None:
    f = _FirstPaint(window)
    window.installEventFilter(f)
    window._first_paint_filter = f  # type: ignore[attr-defined]  # keeps the filter alive with the window
