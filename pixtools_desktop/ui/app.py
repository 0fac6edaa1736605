"""Start the desktop app: single instance, theme, window, event loop.

A second `pixtools FILE…` hands its files to the running window over a
local socket and exits. The window is shown before anything imports torch
(the model loads on the model thread when a denoise first runs).
"""

from __future__ import annotations

import os
import sys


def _file_open_filter(app, deliver):
    """macOS sends "Open with" / dropped-on-Dock files as QFileOpenEvent, not argv."""
    from PySide6.QtCore import QEvent, QObject

    class FileOpenFilter(QObject):
        def eventFilter(self, obj, event) -> bool:
            if event.type() == QEvent.Type.FileOpen and event.file():
                deliver([event.file()])
                return True
            return False

    f = FileOpenFilter(app)
    app.installEventFilter(f)
    return f


def run_app(files: list[str]) -> int:
    from PySide6.QtWidgets import QApplication

    from pixtools_desktop.core.logs import setup_logging
    from pixtools_desktop.ui.single_instance import InstanceServer, send_to_running

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("PixTools")
    app.setOrganizationName("PixTools")
    QApplication.setDesktopFileName("org.pixtools.PixTools")  # Wayland/taskbars match the .desktop entry's icon
    abs_files = [os.path.abspath(f) for f in files]
    if send_to_running(abs_files):
        return 0
    setup_logging()
    from pixtools_desktop.ui.main_window import MainWindow

    server = InstanceServer()
    server.listen()
    win = MainWindow(start_after_paint=True)  # the window paints before jobs, workers and numpy start
    server.filesReceived.connect(win.receive_files)
    _open_filter = _file_open_filter(app, win.receive_files)  # kept alive with the app
    win.show()
    if os.environ.get("PIXTOOLS_BENCH_FIRST_PAINT"):
        from pixtools_desktop.ui.first_paint import report_first_paint

        report_first_paint(win)
    if abs_files:
        win.add_paths(abs_files)
    try:
        return app.exec()
    finally:
        win.shutdown()
        server.close()
