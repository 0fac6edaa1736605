"""macOS "Open with" delivers files as QFileOpenEvent: they must reach the queue."""

from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from pixtools_desktop.ui.app import _file_open_filter


def test_file_open_events_are_delivered(qapp, tmp_path):
    got: list = []
    f = _file_open_filter(qapp, got.extend)
    try:
        path = str(tmp_path / "photo one.jpg")
        QApplication.sendEvent(qapp, QFileOpenEvent(path))
        assert got == [path]
    finally:
        qapp.removeEventFilter(f)
        f.deleteLater()
