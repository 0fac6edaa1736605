"""The operations panel's denoise rows: model, noise level (sigma), noise map, mode, strength, format.

Kept apart from operations_panel.py so that file stays small; the panel owns
the form they sit in and reads/writes them as one `denoise` params dict. The
sigma is "auto" (the photo's own noise estimate, the default) or a fixed
level 0..75 in 0..255 units; the noise map (one level or a per-area map) only
means something to FFDNet, so it is enabled only for that model.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QWidget,
)

from pixtools_desktop.core.ops import DENOISE_FORMATS, DENOISE_MAX_SIGMA, DENOISE_MODES
from pixtools_desktop.core.settings import Settings

MODEL_LABELS = {"auto": "Auto (picks per photo)", "dncnn": "DnCNN (blind)", "ffdnet": "FFDNet (noise level)"}
NOISE_MAP_LABELS = {"global": "One level (whole photo)", "local": "Per area (varies)"}


class DenoiseControls:
    """Builds the denoise rows into `form`; `on_change` runs on every user change."""

    def __init__(self, form: QFormLayout, settings: Settings, on_change: Callable[[], None]) -> None:
        self.settings = settings
        self.model = QComboBox()
        for value, label in MODEL_LABELS.items():
            self.model.addItem(label, value)
        self.model.setAccessibleName("Denoise model")
        self.model.setToolTip(
            "DnCNN works without a noise level; FFDNet uses the level below (auto: estimated per photo)"
        )
        self.model.currentIndexChanged.connect(on_change)
        form.addRow("Denoise model", self.model)

        sig = QWidget()
        row = QHBoxLayout(sig)
        row.setContentsMargins(0, 0, 0, 0)
        self.sigma_auto = QCheckBox("Auto")
        self.sigma_auto.setChecked(True)
        self.sigma_auto.setAccessibleName("Noise level automatic")
        self.sigma_auto.setToolTip("Estimate each photo's noise level (shown on its result card)")
        self.sigma = QSpinBox()
        self.sigma.setRange(0, DENOISE_MAX_SIGMA)
        self.sigma.setValue(15)
        self.sigma.setAccessibleName("Noise level (sigma)")
        self.sigma.setToolTip(f"Fixed noise level 0..{DENOISE_MAX_SIGMA} (0..255 units) instead of the estimate")
        self.sigma_auto.toggled.connect(on_change)
        self.sigma.valueChanged.connect(on_change)
        row.addWidget(self.sigma_auto)
        row.addWidget(self.sigma, 1)
        form.addRow("Noise level", sig)

        self.noise_map = QComboBox()
        for value, label in NOISE_MAP_LABELS.items():
            self.noise_map.addItem(label, value)
        self.noise_map.setAccessibleName("Noise map")
        self.noise_map.setToolTip("FFDNet: one noise level for the photo, or a map of levels for noise that varies")
        self.noise_map.currentIndexChanged.connect(on_change)
        form.addRow("Noise map", self.noise_map)

        self.mode = QComboBox()
        self.mode.addItems(list(DENOISE_MODES))
        self.mode.setAccessibleName("Denoise mode")
        self.mode.currentIndexChanged.connect(on_change)
        form.addRow("Denoise mode", self.mode)
        srow = QHBoxLayout()
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setValue(100)
        self.strength.setAccessibleName("Denoise strength")
        self.strength_label = QLabel("100%")
        self.strength_label.setMinimumWidth(36)
        self.strength.valueChanged.connect(lambda v: self.strength_label.setText(f"{v}%"))  # same-thread UI glue
        self.strength.valueChanged.connect(on_change)
        srow.addWidget(self.strength, 1)
        srow.addWidget(self.strength_label)
        form.addRow("Strength", srow)
        self.format = QComboBox()
        self.format.addItems(list(DENOISE_FORMATS))
        self.format.setAccessibleName("Denoise output format")
        self.format.currentIndexChanged.connect(on_change)
        form.addRow("Denoise saves as", self.format)

    def apply(self, d: dict) -> None:
        """Show a preset's denoise params (missing ones: the settings' defaults)."""
        idx = self.model.findData(d.get("model", self.settings.denoise_model))
        self.model.setCurrentIndex(max(0, idx))
        sigma = d.get("sigma", "auto")
        self.sigma_auto.setChecked(sigma == "auto")
        if sigma != "auto":
            self.sigma.setValue(round(float(sigma)))
        self.noise_map.setCurrentIndex(max(0, self.noise_map.findData(d.get("noise_map", "global"))))
        self.mode.setCurrentText(d.get("mode", self.settings.denoise_mode))
        self.strength.setValue(round(100 * float(d.get("strength", self.settings.denoise_strength))))
        self.format.setCurrentText(d.get("format", "png"))

    def params(self) -> dict:
        model = self.model.currentData()
        p = {
            "model": model,
            "sigma": "auto" if self.sigma_auto.isChecked() else self.sigma.value(),
            "mode": self.mode.currentText(),
            "strength": self.strength.value() / 100.0,
            "format": self.format.currentText(),
        }
        if model == "ffdnet":
            p["noise_map"] = self.noise_map.currentData()
        return p

    def set_enabled(self, on: bool) -> None:
        ffdnet = self.model.currentData() == "ffdnet"
        for w in (self.model, self.sigma_auto, self.mode, self.strength, self.format):
            w.setEnabled(on)
        self.sigma.setEnabled(on and not self.sigma_auto.isChecked())
        self.noise_map.setEnabled(on and ffdnet)
