"""Settings page "Processing": where jobs run — this computer or a PixTools API server.

The one place that writes `backend`/`backend_url` (there used to be two
tabs for this one choice, and the last one applied silently won). Polling
and archive options go to Settings; the API key does not: it is saved per
server URL in the 0600 `remote_keys.json` (or comes from PIXTOOLS_API_KEY),
never settings.json. "Test connection" is the one connection test
(`remote.health.probe`, the same the health report uses), run on a worker
thread so a slow or dead server never freezes the window.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QThreadPool, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.remote.api import normalize_base_url
from pixtools_desktop.remote.health import probe
from pixtools_desktop.remote.secrets import resolve_api_key, save_api_key
from pixtools_desktop.ui.tasks import TaskSignals, start_task

TITLE = "Processing"
LOCAL, REMOTE = "local", "remote"


class RemoteSettingsPage(QWidget):
    """Form over backend / backend_url / poll_interval / download_archive, plus the key and a connection test."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals: TaskSignals | None = None
        f = QFormLayout(self)
        self.local_radio = QRadioButton("This computer")
        self.remote_radio = QRadioButton("A PixTools server")
        self.mode = QButtonGroup(self)
        self.mode.addButton(self.local_radio)
        self.mode.addButton(self.remote_radio)
        (self.remote_radio if settings.backend == REMOTE else self.local_radio).setChecked(True)
        f.addRow("Run jobs on", self.local_radio)
        f.addRow("", self.remote_radio)
        self.remote_radio.toggled.connect(self._refresh_enabled)
        self.url = QLineEdit(settings.backend_url or "")
        self.url.setPlaceholderText("https://pixtools.lab.example or http://127.0.0.1:8000")
        f.addRow("Server URL", self.url)
        self.error = QLabel("")  # right under the field it is about (the URL is all this page checks)
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        f.addRow(self.error)
        self.api_key = QLineEdit(resolve_api_key(settings.backend_url) if settings.backend_url else "")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("only if the server asks for one")
        if os.environ.get("PIXTOOLS_API_KEY"):
            self.api_key.setPlaceholderText("set by PIXTOOLS_API_KEY")
        f.addRow("API key", self.api_key)
        self.poll = QDoubleSpinBox()
        self.poll.setRange(0.5, 60.0)
        self.poll.setSingleStep(0.5)
        self.poll.setSuffix(" s")
        self.poll.setValue(max(0.5, min(60.0, settings.poll_interval)))
        f.addRow("Check progress every", self.poll)
        self.archive = QCheckBox("Also download the server's ZIP of each job's results")
        self.archive.setChecked(settings.download_archive)
        f.addRow(self.archive)
        row = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.result = QLabel("")
        self.result.setObjectName("connectionResult")
        self.result.setWordWrap(True)
        row.addWidget(self.test_button)
        row.addWidget(self.result, 1)
        f.addRow(row)
        self._refresh_enabled()

    def mode_value(self) -> str:
        return REMOTE if self.remote_radio.isChecked() else LOCAL

    @Slot()
    def _refresh_enabled(self) -> None:
        """Server fields only matter for the server choice (Test connection stays usable)."""
        remote = self.remote_radio.isChecked()
        for w in (self.poll, self.archive):
            w.setEnabled(remote)

    def _url(self) -> str:
        return normalize_base_url(self.url.text())

    @Slot()
    def test_connection(self) -> None:
        try:
            url = self._url()
        except ValueError as exc:
            self.result.setText(str(exc))
            return
        key = self.api_key.text().strip() or resolve_api_key(url)
        self.test_button.setEnabled(False)
        self.result.setText(f"Asking {url} …")
        self._signals = start_task(self._pool, lambda: probe(url, key), self)
        self._signals.done.connect(self._on_result)
        self._signals.failed.connect(self._on_result)

    @Slot(object)
    def _on_result(self, verdict: object) -> None:
        self.test_button.setEnabled(True)
        text = str(verdict)
        self.result.setText("Connected: the server is healthy." if text == "ok" else text)

    def wait_for_tasks(self, msecs: int = 15000) -> bool:
        """Wait for a running connection test (dialogs call this before closing)."""
        return self._pool.waitForDone(msecs)

    def _checked_url(self) -> str | None:
        """The server URL to save (None: none given, this computer chosen); raises ValidationError."""
        text = self.url.text().strip()
        if not text and not self.remote_radio.isChecked():
            return None
        if not text:
            raise ValidationError("Enter the server's URL (http:// or https://), or run jobs on this computer.")
        try:
            return self._url()
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate(self) -> QWidget | None:
        """Check the page, writing nothing: None when it is fine, else the field at fault (its message is
        shown under it). The settings dialog checks every page before it applies any of them."""
        try:
            self._checked_url()
        except ValidationError as exc:
            self.error.setText(exc.detail)
            return self.url
        self.error.setText("")
        return None

    def apply(self, settings: Settings) -> None:
        """Validate, then write into `settings` (and the key into remote_keys.json); raises ValidationError."""
        try:
            url = self._checked_url()
        except ValidationError as exc:
            self.error.setText(exc.detail)
            raise
        self.error.setText("")
        self.wait_for_tasks()
        settings.backend = REMOTE if self.remote_radio.isChecked() else LOCAL
        settings.backend_url = url
        settings.poll_interval = float(self.poll.value())
        settings.download_archive = self.archive.isChecked()
        if url and not os.environ.get("PIXTOOLS_API_KEY"):
            save_api_key(url, self.api_key.text().strip() or None)


def make_page(settings: Settings) -> QWidget:
    return RemoteSettingsPage(settings)
