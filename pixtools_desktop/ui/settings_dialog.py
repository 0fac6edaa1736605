"""Settings: output (and the watch folder), where jobs run, the model, look,
notifications, and the cloud sinks.

Optional pages (contract in `pixtools_desktop.ui`'s docstring): modules
`qt_settings_remote` ("Processing": this computer or a server, the only page
that writes the backend choice) and `qt_settings_cloud`, with `TITLE` and
`make_page(settings)`; the page's `apply(settings)` runs on OK. The dialog
edits the Settings object it was given; the window saves it.

OK checks every part first (the naming template, the watch folder, each
page) and writes nothing unless all of them are valid: each problem is shown
beside its field on its own tab, and the dialog turns to the first such tab
and focuses the field. A page may offer `validate() -> QWidget | None` (the
field at fault, its message shown; writes nothing); one without it is checked
by applying it to a throwaway copy of the settings. Only then are all values
applied, to a copy that is copied into the live Settings in one step, so a
refused OK or Cancel leaves the live settings exactly as they were.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Callable

from PySide6.QtCore import QThreadPool, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.ops import DENOISE_MODES
from pixtools_desktop.core.outputs import validate_template
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.ui.denoise_controls import MODEL_LABELS
from pixtools_desktop.ui.operations_panel import OVERWRITE_LABELS
from pixtools_desktop.ui.watch_folder import WatchSettings

log = logging.getLogger(__name__)

PAGE_AFTER_OUTPUT = "Processing"  # where jobs run comes right after where outputs go


def load_optional_pages(settings: Settings) -> list[tuple[str, QWidget]]:
    """(title, page) for the remote-server and cloud pages (every build has both)."""
    from pixtools_desktop.ui import qt_settings_cloud, qt_settings_remote

    pages = []
    for module in (qt_settings_remote, qt_settings_cloud):
        name = module.__name__
        try:
            pages.append((str(module.TITLE), module.make_page(settings)))
        except Exception:  # noqa: BLE001 - a broken optional page must not break Settings
            log.exception("settings page %s failed to build", name)
    return pages


class SettingsDialog(QDialog):
    applied = Signal()

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.resize(660, 560)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = None
        lay = QVBoxLayout(self)
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)

        # Output
        out = self.output_page = QWidget()
        f = QFormLayout(out)
        self.output_dir = QLineEdit(settings.output_dir or "")
        self.output_dir.setPlaceholderText(f"{settings.output_subfolder}/ beside each photo")
        f.addRow("Output folder", self.output_dir)
        self.subfolder = QLineEdit(settings.output_subfolder)
        self.subfolder.setToolTip("Used when no output folder is chosen: outputs go into this folder beside each photo")
        f.addRow("…or a subfolder named", self.subfolder)
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
        self.auto_start = QCheckBox("Start new photos at once")
        self.auto_start.setToolTip("Off: added photos wait in the queue until you press Start")
        self.auto_start.setChecked(settings.auto_start)
        f.addRow(self.auto_start)
        self.watch = WatchSettings(settings)
        f.addRow(self.watch)
        self.watch_error = QLabel("")
        self.watch_error.setObjectName("error")
        self.watch_error.setWordWrap(True)
        f.addRow(self.watch_error)
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
        self.model = QComboBox()
        for value, label in MODEL_LABELS.items():
            self.model.addItem(label, value)
        self.model.setCurrentIndex(max(0, self.model.findData(settings.denoise_model)))
        self.model.setToolTip("The model a denoise uses when its preset does not name one")
        f.addRow("Default model", self.model)
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

        self.optional_pages = load_optional_pages(settings)
        for title, page in self.optional_pages:
            if title == PAGE_AFTER_OUTPUT:
                self.tabs.insertTab(1, page, title)
            else:
                self.tabs.addTab(page, title)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _checks(self) -> list[tuple[QWidget, Callable[[], QWidget | None]]]:
        """(tab, check) for every part, in no particular order. A check writes nothing to the live
        settings, shows its message (or clears an old one) and returns the widget at fault, None if fine."""

        def shown(label: QLabel, field: QWidget, check: Callable[[], object]) -> Callable[[], QWidget | None]:
            def run() -> QWidget | None:
                try:
                    check()
                except ValidationError as exc:
                    label.setText(exc.detail)
                    return field
                label.setText("")
                return None

            return run

        def applied_to_a_copy(page: QWidget) -> Callable[[], QWidget | None]:
            def run() -> QWidget | None:  # such a page validates before it writes, and shows its own message
                try:
                    page.apply(copy.deepcopy(self.settings))  # type: ignore[attr-defined]
                except ValidationError:
                    return page
                return None

            return run

        out = self.output_page
        checks: list[tuple[QWidget, Callable[[], QWidget | None]]] = [
            (out, shown(self.naming_error, self.naming, lambda: validate_template(self.naming.text()))),
            # WatchSettings.apply checks before it writes; here it only writes a throwaway copy
            (out, shown(self.watch_error, self.watch.folder, lambda: self.watch.apply(copy.deepcopy(self.settings)))),
        ]
        for _title, page in self.optional_pages:
            checks.append((page, getattr(page, "validate", None) or applied_to_a_copy(page)))
        return checks

    def validate(self) -> bool:
        """Check every part, writing nothing. When one is invalid: each problem is shown beside its
        field, the dialog turns to the first tab (left to right) with one and focuses its field."""
        faults: list[tuple[int, QWidget, QWidget]] = []  # tab index, tab, widget at fault
        for tab, check in self._checks():
            try:
                at_fault = check()
            except Exception:  # noqa: BLE001 - a broken optional page must not block OK (its apply logs too)
                log.exception("settings tab %s failed to validate", self.tabs.tabText(self.tabs.indexOf(tab)))
                continue
            if at_fault is not None:
                faults.append((self.tabs.indexOf(tab), tab, at_fault))
        if not faults:
            return True
        _index, tab, at_fault = min(faults, key=lambda fault: fault[0])
        self.tabs.setCurrentWidget(tab)
        if at_fault is not tab:
            at_fault.setFocus()
        return False

    def _write(self, settings: Settings) -> None:
        """Every part's values into `settings` (the parts were validated)."""
        settings.output_dir = self.output_dir.text().strip() or None
        settings.naming_template = self.naming.text()
        settings.overwrite = self.overwrite.currentData()
        settings.keep_metadata = self.keep_metadata.isChecked()
        settings.bundle_zip = self.bundle_zip.isChecked()
        settings.workers = self.workers.value()
        settings.denoise_device = self.device.currentText()
        settings.denoise_threads = self.threads.value()
        settings.denoise_mode = self.mode.currentText()
        settings.denoise_model = self.model.currentData()
        settings.auto_start = self.auto_start.isChecked()
        settings.weights_path = self.weights.text().strip() or None
        settings.theme = self.theme.currentText()
        settings.notifications = self.notifications.isChecked()
        settings.output_subfolder = self.subfolder.text().strip().strip("/\\") or "PixTools"
        self.watch.apply(settings)
        for title, page in self.optional_pages:
            try:
                page.apply(settings)  # type: ignore[attr-defined]  # every optional page has apply()
            except ValidationError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("settings page %s failed to apply", title)

    def apply_to(self, settings: Settings) -> None:
        """Write the dialog's values into `settings`: all of them, or none when a part is invalid
        (raises ValidationError; the problems are shown on their tabs)."""
        if not self.validate():
            tab = self.tabs.tabText(self.tabs.currentIndex())
            raise ValidationError(f"A setting on the {tab} tab needs fixing (the message is beside it).")
        staged = copy.deepcopy(settings)
        self._write(staged)  # a part that still refuses raises here, before `settings` is touched
        for f in dataclasses.fields(staged):
            setattr(settings, f.name, getattr(staged, f.name))

    def accept(self) -> None:
        try:
            self.apply_to(self.settings)
        except ValidationError as exc:
            log.info("settings not applied: %s", exc.detail)
            return
        self.applied.emit()
        super().accept()

    def page(self, title: str) -> QWidget | None:
        return next((p for t, p in self.optional_pages if t == title), None)

    def done(self, result: int) -> None:
        self._pool.waitForDone()
        for _title, page in self.optional_pages:
            wait = getattr(page, "wait_for_tasks", None)
            if wait is not None:
                wait()
        super().done(result)
