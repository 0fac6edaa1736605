"""Settings: output, naming, overwrite, metadata, the model, look, notifications,
the backend, and optional pages from the cloud and remote layers.

Optional pages (contract in `pixtools_desktop.ui`'s docstring): modules
`qt_settings_cloud` and `qt_settings_remote` with `TITLE` and
`make_page(settings)`; the page's `apply(settings)` runs on OK. The dialog
edits the Settings object it was given; the window saves it.
"""

from __future__ import annotations

import importlib
import logging
import os

from PySide6.QtCore import QThreadPool, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.ops import DENOISE_MODES
from pixtools_desktop.core.outputs import validate_template
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.ui.operations_panel import OVERWRITE_LABELS
from pixtools_desktop.ui.tasks import start_task

log = logging.getLogger(__name__)

OPTIONAL_PAGES = ("pixtools_desktop.ui.qt_settings_cloud", "pixtools_desktop.ui.qt_settings_remote")
API_KEY_ENV = "PIXTOOLS_API_KEY"


def load_optional_pages(settings: Settings) -> list[tuple[str, QWidget]]:
    """(title, page) for each optional settings module that imports and builds."""
    pages = []
    for name in OPTIONAL_PAGES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            if exc.name != name:
                log.exception("settings page %s failed to import", name)
            continue
        try:
            pages.append((str(module.TITLE), module.make_page(settings)))
        except Exception:  # noqa: BLE001 - a broken optional page must not break Settings
            log.exception("settings page %s failed to build", name)
    return pages


def check_backend_health(url: str, timeout: float = 5.0) -> str:
    """GET {url}/api/health (API key from the environment); a sentence for the user."""
    import httpx

    headers = {}
    key = os.environ.get(API_KEY_ENV)
    if key:
        headers["X-API-Key"] = key
    try:
        resp = httpx.get(url.rstrip("/") + "/api/health", headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return f"Cannot reach {url}: {type(exc).__name__}."
    if resp.status_code in (401, 403):
        return f"{url} refused the API key (HTTP {resp.status_code}); set {API_KEY_ENV}."
    try:
        body = resp.json()
    except ValueError:
        return f"{url} answered HTTP {resp.status_code}, but not with PixTools health JSON."
    status = body.get("status", "unknown") if isinstance(body, dict) else "unknown"
    deps = body.get("dependencies", {}) if isinstance(body, dict) else {}
    bad = [f"{k}: {v}" for k, v in deps.items() if v not in ("ok", "not configured")]
    text = f"Connected: server is {status} (HTTP {resp.status_code})."
    return text + (" Problems: " + ", ".join(bad) if bad else "")


class SettingsDialog(QDialog):
    applied = Signal()

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.resize(560, 460)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = None
        lay = QVBoxLayout(self)
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)

        # Output
        out = QWidget()
        f = QFormLayout(out)
        self.output_dir = QLineEdit(settings.output_dir or "")
        self.output_dir.setPlaceholderText("next to each photo")
        f.addRow("Output folder", self.output_dir)
        self.naming = QLineEdit(settings.naming_template)
        self.naming.setToolTip("Placeholders: {stem} {op} {ext} {n} {date} {time} {parent}")
        f.addRow("Naming template", self.naming)
        self.naming_error = QLabel("")
        self.naming_error.setObjectName("error")
        self.naming_error.setWordWrap(True)
        f.addRow(self.naming_error)
        self.overwrite = QComboBox()
        for value, label in OVERWRITE_LABELS.items():
            self.overwrite.addItem(label, value)
        self.overwrite.setCurrentIndex(max(0, self.overwrite.findData(settings.overwrite)))
        f.addRow("When a file exists", self.overwrite)
        self.keep_metadata = QCheckBox("Keep EXIF and XMP (orientation is always normalised)")
        self.keep_metadata.setChecked(settings.keep_metadata)
        f.addRow(self.keep_metadata)
        self.bundle_zip = QCheckBox("Also write a ZIP of each job's outputs")
        self.bundle_zip.setChecked(settings.bundle_zip)
        f.addRow(self.bundle_zip)
        self.workers = QSpinBox()
        self.workers.setRange(0, 64)
        self.workers.setSpecialValueText("one per core")
        self.workers.setValue(settings.workers)
        f.addRow("Parallel jobs", self.workers)
        self.tabs.addTab(out, "Output")

        # Denoise model
        model = QWidget()
        f = QFormLayout(model)
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        self.device.setCurrentText(settings.denoise_device)
        f.addRow("Device", self.device)
        self.threads = QSpinBox()
        self.threads.setRange(1, 256)
        self.threads.setValue(max(1, settings.denoise_threads))
        f.addRow("CPU threads", self.threads)
        self.mode = QComboBox()
        self.mode.addItems(list(DENOISE_MODES))
        self.mode.setCurrentText(settings.denoise_mode)
        f.addRow("Default mode", self.mode)
        self.weights = QLineEdit(settings.weights_path or "")
        self.weights.setPlaceholderText("bundled or downloaded weights")
        f.addRow("Weights file", self.weights)
        self.tabs.addTab(model, "Denoise")

        # Look and notifications
        look = QWidget()
        f = QFormLayout(look)
        self.theme = QComboBox()
        self.theme.addItems(["light", "dark"])
        self.theme.setCurrentText(settings.theme)
        f.addRow("Theme", self.theme)
        self.notifications = QCheckBox("Notify me when a batch finishes")
        self.notifications.setChecked(settings.notifications)
        f.addRow(self.notifications)
        self.tabs.addTab(look, "Appearance")

        # Backend
        be = QWidget()
        f = QFormLayout(be)
        self.local_radio = QRadioButton("This computer")
        self.remote_radio = QRadioButton("A PixTools server")
        group = QButtonGroup(be)
        group.addButton(self.local_radio)
        group.addButton(self.remote_radio)
        (self.remote_radio if settings.backend == "remote" else self.local_radio).setChecked(True)
        f.addRow("Run jobs on", self.local_radio)
        f.addRow("", self.remote_radio)
        self.backend_url = QLineEdit(settings.backend_url or "")
        self.backend_url.setPlaceholderText("http://127.0.0.1:8000")
        f.addRow("Server URL", self.backend_url)
        row = QHBoxLayout()
        self.test_btn = QPushButton("Test connection")
        self.test_btn.clicked.connect(self.test_connection)
        row.addWidget(self.test_btn)
        row.addStretch(1)
        f.addRow(row)
        self.test_result = QLabel("")
        self.test_result.setWordWrap(True)
        f.addRow(self.test_result)
        key_note = QLabel(
            f"The API key is read from the {API_KEY_ENV} environment variable and never stored in the settings file."
            + (" (set)" if os.environ.get(API_KEY_ENV) else " (not set)")
        )
        key_note.setObjectName("muted")
        key_note.setWordWrap(True)
        f.addRow(key_note)
        self.tabs.addTab(be, "Backend")

        self.optional_pages = load_optional_pages(settings)
        for title, page in self.optional_pages:
            self.tabs.addTab(page, title)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    @Slot()
    def test_connection(self) -> None:
        url = self.backend_url.text().strip()
        if not url:
            self.test_result.setText("Enter the server URL first.")
            return
        self.test_btn.setEnabled(False)
        self.test_result.setText(f"Checking {url}/api/health …")
        self._signals = start_task(self._pool, lambda: check_backend_health(url), self, self._on_tested,
                                   self._on_tested)

    @Slot(object)
    def _on_tested(self, text: object) -> None:
        self.test_btn.setEnabled(True)
        self.test_result.setText(str(text))

    def apply_to(self, settings: Settings) -> None:
        """Write the dialog's values into `settings` (raises ValidationError)."""
        template = self.naming.text()
        validate_template(template)
        settings.output_dir = self.output_dir.text().strip() or None
        settings.naming_template = template
        settings.overwrite = self.overwrite.currentData()
        settings.keep_metadata = self.keep_metadata.isChecked()
        settings.bundle_zip = self.bundle_zip.isChecked()
        settings.workers = self.workers.value()
        settings.denoise_device = self.device.currentText()
        settings.denoise_threads = self.threads.value()
        settings.denoise_mode = self.mode.currentText()
        settings.weights_path = self.weights.text().strip() or None
        settings.theme = self.theme.currentText()
        settings.notifications = self.notifications.isChecked()
        settings.backend = "remote" if self.remote_radio.isChecked() else "local"
        settings.backend_url = self.backend_url.text().strip() or None
        for title, page in self.optional_pages:
            try:
                page.apply(settings)
            except ValidationError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("settings page %s failed to apply", title)

    def accept(self) -> None:
        try:
            self.apply_to(self.settings)
        except ValidationError as exc:
            self.naming_error.setText(exc.detail)
            self.tabs.setCurrentIndex(0)
            return
        self.applied.emit()
        super().accept()

    def done(self, result: int) -> None:
        self._pool.waitForDone()
        super().done(result)
