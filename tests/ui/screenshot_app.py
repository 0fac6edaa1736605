"""Run the real app in a window, process a few real photos, save a screenshot.

Used by test_screenshot_xvfb.py under Xvfb (QT_QPA_PLATFORM=xcb):
`python -m tests.ui.screenshot_app PHOTOS_DIR OUT.png [light|dark]`.
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication


class Driver(QObject):
    def __init__(self, window, out: str) -> None:
        super().__init__(window)
        self.window, self.out = window, out
        self.deadline = time.monotonic() + 90
        self.stage = "adding"
        self.timer = QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self.step)
        self.timer.start()

    @Slot()
    def step(self) -> None:
        w = self.window
        if time.monotonic() > self.deadline:
            print("timed out", file=sys.stderr)
            self.finish(2)
        elif self.stage == "adding" and w.model.rowCount() >= 9:
            w.start()
            self.stage = "running"
        elif self.stage == "running" and not w.run.active and w.model.unfinished() == 0:
            w.table.selectRow(2)
            w.table.setFocus()
            self.stage = "settle"
            self.settle_until = time.monotonic() + 1.0
        elif self.stage == "settle" and time.monotonic() > self.settle_until:
            ok = w.grab().save(self.out)
            print(f"saved {self.out} {ok} {w.width()}x{w.height()} platform={QApplication.platformName()}")
            self.finish(0 if ok else 1)

    def finish(self, code: int) -> None:
        self.timer.stop()
        QApplication.instance().exit(code)


def main() -> int:
    photos, out = sys.argv[1], sys.argv[2]
    theme = sys.argv[3] if len(sys.argv) > 3 else "light"
    app = QApplication(sys.argv[:1])
    from pixtools_desktop.core.settings import load_settings
    from pixtools_desktop.ui.main_window import MainWindow

    settings = load_settings()
    settings.theme = theme
    w = MainWindow(settings)
    w.resize(1480, 900)
    w.show()
    panel = w.ops_panel
    panel.preset_combo.setCurrentText("Web (WebP 80, 1920 px)")
    panel.op_checks["metadata"].setChecked(True)
    w.add_paths([photos])
    Driver(w, out)
    code = app.exec()
    w.shutdown()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
