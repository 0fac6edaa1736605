"""Start the desktop app (minimal shell until the full window lands)."""

from __future__ import annotations

import sys


def run_app(files: list[str]) -> int:
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    win = QMainWindow()
    win.setWindowTitle("PixTools Desktop")
    win.setCentralWidget(QLabel("Drop photos here"))
    win.resize(900, 600)
    win.show()
    return app.exec()
