"""'What to do': operations with their parameters, presets, and where outputs go.

Everything here is chosen once, before the run: jobs take the panel's values
at the moment files are added, so a batch never stops to ask per file.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.jobs import OutputOptions, OverwritePolicy
from pixtools_desktop.core.ops import OperationRequest, validate_request
from pixtools_desktop.core.outputs import validate_template
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.ui import dialogs
from pixtools_desktop.ui import presets as P
from pixtools_desktop.ui.denoise_controls import DenoiseControls

FORMAT_OPS = (("jpg", "JPG"), ("png", "PNG"), ("webp", "WebP"), ("avif", "AVIF"), ("tiff", "TIFF"))
OVERWRITE_LABELS = {"unique": "Keep both (add a number)", "overwrite": "Overwrite", "skip": "Skip existing"}
CUSTOM = "(custom)"


def _section(text: str) -> QLabel:
    lbl = QLabel(text.upper())
    lbl.setObjectName("sectionTitle")
    return lbl


class OperationsPanel(QFrame):
    """Emits `changed` whenever the choice changes (the window shows a summary)."""

    changed = Signal()

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.settings = settings
        self._loading = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 12, 14, 14)
        lay.setSpacing(8)
        title = QLabel("What to do")
        title.setObjectName("cardTitle")
        lay.addWidget(title)

        # presets
        lay.addWidget(_section("Preset"))
        self.preset_combo = QComboBox()
        self.preset_combo.setAccessibleName("Preset")
        self.preset_combo.currentTextChanged.connect(self._on_preset_chosen)
        lay.addWidget(self.preset_combo)
        row = QHBoxLayout()
        self.save_preset_btn = QPushButton("Save as…")
        self.update_preset_btn = QPushButton("Update")
        self.delete_preset_btn = QPushButton("Delete")
        self.save_preset_btn.setToolTip("Save the current choice as a new named preset")
        self.update_preset_btn.setToolTip("Store the current choice under the selected preset's name")
        for b in (self.save_preset_btn, self.update_preset_btn, self.delete_preset_btn):
            row.addWidget(b)
        self.save_preset_btn.clicked.connect(self._save_as)
        self.update_preset_btn.clicked.connect(self._update_preset)
        self.delete_preset_btn.clicked.connect(self._delete_preset)
        lay.addLayout(row)

        # operations
        lay.addWidget(_section("Operations"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(4)
        self.op_checks: dict[str, QCheckBox] = {}
        items = [*FORMAT_OPS, ("metadata", "Metadata"), ("denoise", "Denoise")]
        for i, (op, label) in enumerate(items):
            cb = QCheckBox(label)
            cb.toggled.connect(self._on_changed)
            self.op_checks[op] = cb
            grid.addWidget(cb, i // 3, i % 3)
        lay.addLayout(grid)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow window: field below its label
        qrow = QHBoxLayout()
        self.quality = QSlider(Qt.Orientation.Horizontal)
        self.quality.setRange(1, 100)
        self.quality.setValue(80)
        self.quality.setAccessibleName("Quality")
        self.quality_label = QLabel("80")
        self.quality_label.setMinimumWidth(28)
        self.quality.valueChanged.connect(lambda v: self.quality_label.setText(str(v)))  # same-thread UI glue
        self.quality.valueChanged.connect(self._on_changed)
        qrow.addWidget(self.quality, 1)
        qrow.addWidget(self.quality_label)
        form.addRow("Quality (JPG/WebP)", qrow)

        rrow = QHBoxLayout()
        self.resize_check = QCheckBox("Resize")
        self.resize_w = QSpinBox()
        self.resize_h = QSpinBox()
        for sb, name in ((self.resize_w, "width"), (self.resize_h, "height")):
            sb.setRange(0, 20000)
            sb.setSpecialValueText("auto")
            sb.setSuffix(" px")
            sb.setAccessibleName(f"Resize {name}")
            sb.setMinimumWidth(96)
            sb.valueChanged.connect(self._on_changed)
        self.resize_check.toggled.connect(self._on_changed)
        rrow.addWidget(self.resize_w, 1)
        times = QLabel("×")
        times.setObjectName("times")
        rrow.addWidget(times)
        rrow.addWidget(self.resize_h, 1)
        form.addRow(self.resize_check, rrow)
        self.resize_enlarge = QCheckBox("Enlarge small photos")
        self.resize_enlarge.setToolTip("Off: photos smaller than the box keep their size (resize only shrinks)")
        self.resize_enlarge.toggled.connect(self._on_changed)
        form.addRow("", self.resize_enlarge)

        self.denoise = DenoiseControls(form, settings, self._on_changed)
        self.denoise_mode, self.strength, self.denoise_format = (
            self.denoise.mode,
            self.denoise.strength,
            self.denoise.format,
        )
        lay.addLayout(form)

        # output
        lay.addWidget(_section("Output"))
        out_form = QFormLayout()
        out_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        orow = QHBoxLayout()
        self.output_dir = QLineEdit()
        self.output_dir.setPlaceholderText(f"{settings.output_subfolder}/ beside each photo")
        self.output_dir.setAccessibleName("Output folder")
        self.output_dir.textChanged.connect(self._on_output_changed)
        self.browse_btn = QPushButton("…")
        self.browse_btn.setAccessibleName("Choose output folder")
        self.browse_btn.setToolTip("Choose the output folder")
        self.browse_btn.clicked.connect(self._browse)
        orow.addWidget(self.output_dir, 1)
        orow.addWidget(self.browse_btn)
        out_form.addRow("Folder", orow)
        self.naming = QLineEdit()
        self.naming.setAccessibleName("Naming template")
        self.naming.setToolTip("Placeholders: {stem} {op} {ext} {n} {date} {time} {parent}")
        self.naming.textChanged.connect(self._on_output_changed)
        out_form.addRow("Names", self.naming)
        self.naming_error = QLabel("")
        self.naming_error.setObjectName("error")
        self.naming_error.setWordWrap(True)
        self.naming_error.hide()
        out_form.addRow(self.naming_error)
        self.overwrite = QComboBox()
        for value, label in OVERWRITE_LABELS.items():
            self.overwrite.addItem(label, value)
        self.overwrite.setAccessibleName("When a file exists")
        self.overwrite.currentIndexChanged.connect(self._on_output_changed)
        out_form.addRow("If it exists", self.overwrite)
        self.keep_metadata = QCheckBox("Keep EXIF/XMP in outputs")
        self.keep_metadata.toggled.connect(self._on_output_changed)
        out_form.addRow(self.keep_metadata)
        lay.addLayout(out_form)
        lay.addStretch(1)

        self.reload_presets(select=settings.last_preset)
        self.restore_last_choice()
        self.load_output_settings()
        self.changed.connect(self._remember)

    # ------------------------------------------------------------ last choice (restored after a restart)
    def restore_last_choice(self) -> None:
        """Come back to the preset chosen last time, or to the exact custom choice."""
        if self.settings.last_preset != CUSTOM or not self.settings.last_choice:
            return
        choice = self.settings.last_choice
        try:
            custom = P.Preset(CUSTOM, list(choice["operations"]), dict(choice.get("params") or {}))
        except (KeyError, TypeError):
            return
        self.apply_preset(custom)
        self._loading = True
        self.preset_combo.setCurrentText(CUSTOM)
        self._loading = False
        self._update_preset_buttons()

    @Slot()
    def _remember(self) -> None:
        name = self.preset_combo.currentText()
        self.settings.last_preset = name or None
        if name == CUSTOM:
            ops, params = self.current_ops_params()
            self.settings.last_choice = {"operations": ops, "params": params}

    # ------------------------------------------------------------ presets
    def reload_presets(self, select: str | None = None) -> None:
        self._loading = True
        current = select or self.preset_combo.currentText() or P.BUILTIN_PRESETS[0].name
        self.preset_combo.clear()
        names = [p.name for p in P.all_presets(self.settings)]
        self.preset_combo.addItems(names + [CUSTOM])
        self._loading = False
        idx = self.preset_combo.findText(current)
        self.preset_combo.setCurrentIndex(idx if idx >= 0 else 0)
        self._on_preset_chosen(self.preset_combo.currentText())

    @Slot(str)
    def _on_preset_chosen(self, name: str) -> None:
        if self._loading or name == CUSTOM:
            self._update_preset_buttons()
            return
        preset = P.find_preset(self.settings, name)
        if preset is not None:
            self.apply_preset(preset)
        self._update_preset_buttons()

    def _update_preset_buttons(self) -> None:
        name = self.preset_combo.currentText()
        user = any(p.get("name") == name for p in self.settings.presets or [])
        self.delete_preset_btn.setEnabled(user)
        self.update_preset_btn.setEnabled(name != CUSTOM)

    def apply_preset(self, preset: P.Preset) -> None:
        self._loading = True
        try:
            for op, cb in self.op_checks.items():
                cb.setChecked(op in preset.operations)
            params = preset.params
            quality = next((params[o]["quality"] for o in ("webp", "jpg") if "quality" in params.get(o, {})), 80)
            self.quality.setValue(int(quality))
            resize = next((params[o]["resize"] for o in params if "resize" in params[o]), None)
            self.resize_check.setChecked(bool(resize))
            self.resize_w.setValue(int((resize or {}).get("width") or 0))
            self.resize_h.setValue(int((resize or {}).get("height") or 0))
            self.resize_enlarge.setChecked(bool((resize or {}).get("enlarge")))
            self.denoise.apply(params.get("denoise", {}))
        finally:
            self._loading = False
        self._refresh_enabled()
        self.changed.emit()

    def current_preset(self, name: str) -> P.Preset:
        ops, params = self.current_ops_params()
        return P.Preset(name, ops, params)

    @Slot()
    def _save_as(self) -> None:
        name, ok = QInputDialog.getText(self, "Save preset", "Name for this preset:")
        if ok and name.strip():
            self.save_current_as(name.strip())

    def save_current_as(self, name: str) -> bool:
        try:
            P.save_preset(self.settings, self.current_preset(name))
        except ValidationError as exc:
            QMessageBox.warning(self, "Cannot save preset", exc.detail)
            return False
        self.reload_presets(select=name)
        return True

    @Slot()
    def _update_preset(self) -> None:
        name = self.preset_combo.currentText()
        if name and name != CUSTOM:
            self.save_current_as(name)

    @Slot()
    def _delete_preset(self) -> None:
        name = self.preset_combo.currentText()
        if P.delete_preset(self.settings, name):
            self.reload_presets(select=P.BUILTIN_PRESETS[0].name)

    # ------------------------------------------------------------ current choice
    def current_ops_params(self) -> tuple[list[str], dict[str, dict]]:
        ops = [op for op, cb in self.op_checks.items() if cb.isChecked()]
        params: dict[str, dict] = {}
        resize = None
        if self.resize_check.isChecked():
            r = {k: v for k, v in (("width", self.resize_w.value()), ("height", self.resize_h.value())) if v > 0}
            if r and self.resize_enlarge.isChecked():
                r["enlarge"] = True  # desktop extra; off (the default) is not stored
            resize = r or None
        for op in ops:
            p: dict = {}
            if op in ("jpg", "webp"):
                p["quality"] = self.quality.value()
            if resize and op not in ("metadata",):
                p["resize"] = dict(resize)
            if op == "denoise":
                p.update(self.denoise.params())
            if p:
                params[op] = p
        return ops, params

    def current_request(self) -> OperationRequest:
        """The validated request; raises ValidationError with a readable message."""
        ops, params = self.current_ops_params()
        if not ops:
            raise ValidationError("Choose at least one operation (for example WebP) before adding photos.")
        return validate_request(ops, params, None)

    def current_options(self) -> OutputOptions:
        validate_template(self.naming.text())
        return OutputOptions(
            output_dir=self.output_dir.text().strip() or None,
            naming_template=self.naming.text(),
            overwrite=OverwritePolicy(self.overwrite.currentData()),
            keep_metadata=self.keep_metadata.isChecked(),
            bundle_zip=self.settings.bundle_zip,
        )

    def summary(self) -> str:
        ops, _ = self.current_ops_params()
        name = self.preset_combo.currentText()
        what = name if name != CUSTOM else (" + ".join(ops) or "nothing chosen")
        return what

    # ------------------------------------------------------------ output settings
    def load_output_settings(self) -> None:
        self._loading = True
        try:
            self.output_dir.setText(self.settings.output_dir or "")
            self.output_dir.setPlaceholderText(f"{self.settings.output_subfolder}/ beside each photo")
            self.naming.setText(self.settings.naming_template)
            idx = self.overwrite.findData(self.settings.overwrite)
            self.overwrite.setCurrentIndex(max(0, idx))
            self.keep_metadata.setChecked(self.settings.keep_metadata)
        finally:
            self._loading = False
        self._validate_naming()

    def _validate_naming(self) -> bool:
        try:
            validate_template(self.naming.text())
        except ValidationError as exc:
            self.naming_error.setText(exc.detail)
            self.naming_error.show()
            self.naming.setProperty("invalid", True)
            ok = False
        else:
            self.naming_error.hide()
            self.naming.setProperty("invalid", False)
            ok = True
        self.naming.style().unpolish(self.naming)
        self.naming.style().polish(self.naming)
        return ok

    @Slot()
    def _on_output_changed(self) -> None:
        if self._loading:
            return
        if self._validate_naming():
            self.settings.naming_template = self.naming.text()
        self.settings.output_dir = self.output_dir.text().strip() or None
        self.settings.overwrite = self.overwrite.currentData()
        self.settings.keep_metadata = self.keep_metadata.isChecked()
        self.changed.emit()

    @Slot()
    def _browse(self) -> None:
        chosen = dialogs.ask_paths(self, dialogs.FOLDER, "Output folder", directory=self.output_dir.text())
        if chosen:
            self.output_dir.setText(chosen[0])

    @Slot()
    def _on_changed(self) -> None:
        self._refresh_enabled()
        if self._loading:
            return
        # A manual change that no longer matches the selected preset makes the choice "(custom)".
        preset = P.find_preset(self.settings, self.preset_combo.currentText())
        ops, params = self.current_ops_params()
        if preset is not None and not self._matches(preset, ops, params):
            self._loading = True
            self.preset_combo.setCurrentText(CUSTOM)
            self._loading = False
            self._update_preset_buttons()
        self.changed.emit()

    @staticmethod
    def _matches(preset: P.Preset, ops: list[str], params: dict) -> bool:
        if sorted(preset.operations) != sorted(ops):
            return False
        try:
            norm = validate_request(preset.operations, preset.params, None).params
            mine = validate_request(ops, params, None).params
        except ValidationError:
            return False
        # Defaults the panel always fills in (quality 80, denoise extras) count as equal.
        for op in ops:
            a, b = dict(norm.get(op, {})), dict(mine.get(op, {}))
            if "quality" not in a and b.get("quality") == 80:
                b.pop("quality", None)
            if op == "denoise":
                for k, default in (
                    ("mode", "default"),
                    ("strength", 1.0),
                    ("format", "png"),
                    ("model", "auto"),
                    ("sigma", "auto"),
                    ("noise_map", "global"),
                ):
                    if a.get(k, default) == b.get(k, default):
                        a.pop(k, None)
                        b.pop(k, None)
            if a != b:
                return False
        return True

    def _refresh_enabled(self) -> None:
        ops = {op for op, cb in self.op_checks.items() if cb.isChecked()}
        self.quality.setEnabled(bool(ops & {"jpg", "webp"}))
        resize_ok = bool(ops - {"metadata"})
        self.resize_check.setEnabled(resize_ok)
        self.resize_w.setEnabled(resize_ok and self.resize_check.isChecked())
        self.resize_h.setEnabled(resize_ok and self.resize_check.isChecked())
        self.resize_enlarge.setEnabled(resize_ok and self.resize_check.isChecked())
        self.denoise.set_enabled("denoise" in ops)
