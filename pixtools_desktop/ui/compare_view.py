"""Before/after comparison: one image over the other, a draggable split, zoom, 1:1.

The widget only paints QImages it is given; `CompareDialog` loads the two
files off the GUI thread first (a full-size decode of a 24 MP photo takes
long enough to notice).

For a denoise job the dialog also shows what the denoiser decided (the noise
estimate, the sigma and model used, "already clean - kept") and lets the
user nudge the model, sigma and strength and re-run that one photo: it emits
`rerun_requested(AddRequest)` - the same request the window uses to re-plan
staged jobs (`replace_ids`: the old job is replaced by one with the new
params, its outputs overwritten in place).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QColor, QFont, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pixtools_desktop.ui.tasks import start_task

MAX_SIDE = 4096  # compare at most this many pixels per side (memory, speed)


def load_qimage(path: str, max_side: int = MAX_SIDE) -> QImage:
    from pixtools_desktop.ui.thumbnails import make_thumbnail

    return make_thumbnail(path, max_side)


class CompareView(QWidget):
    """Left of the split shows `before`, right shows `after`; wheel zooms, arrows move the split."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.before = QImage()
        self.after = QImage()
        self.split = 0.5
        self.zoom = 1.0
        self.center = QPointF(0.5, 0.5)  # image point (0..1) shown at the widget centre
        self._panning: QPointF | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(320, 240)
        self.setAccessibleName("Before and after comparison")
        self.setToolTip("Drag to move the split · wheel or +/- to zoom · right-drag to pan · 0 to fit · 1 for 1:1")

    def set_images(self, before: QImage, after: QImage) -> None:
        self.before, self.after = before, after
        self.zoom, self.center = 1.0, QPointF(0.5, 0.5)
        self.update()

    # ------------------------------------------------------------ geometry
    def image_rect(self) -> QRectF:
        img = self.after if not self.after.isNull() else self.before
        if img.isNull():
            return QRectF()
        fit = min(self.width() / img.width(), self.height() / img.height())
        scale = fit * self.zoom
        w, h = img.width() * scale, img.height() * scale
        x = self.width() / 2 - self.center.x() * w
        y = self.height() / 2 - self.center.y() * h
        return QRectF(x, y, w, h)

    def split_x(self) -> float:
        return self.split * self.width()

    # ------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#111111"))
        rect = self.image_rect()
        if rect.isNull():
            p.setPen(QColor("#FFFFFF"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Loading…")
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom < 2.0)
        if not self.after.isNull():
            p.drawImage(rect, self.after)
        if not self.before.isNull():
            p.save()
            p.setClipRect(QRectF(0, 0, self.split_x(), self.height()))
            p.drawImage(rect, self.before)
            p.restore()
        x = self.split_x()
        p.setPen(QPen(QColor("#FFD23F"), 4))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        knob = QRectF(x - 14, self.height() / 2 - 14, 28, 28)
        p.fillRect(knob, QColor("#FFD23F"))
        p.setPen(QPen(QColor("#111111"), 3))
        p.drawRect(knob)
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        for text, left in (("BEFORE", True), ("AFTER", False)):
            fm = p.fontMetrics()
            w = fm.horizontalAdvance(text) + 16
            r = QRectF(10 if left else self.width() - w - 10, 10, w, fm.height() + 8)
            p.fillRect(r, QColor("#FFFFFF"))
            p.setPen(QPen(QColor("#111111"), 3))
            p.drawRect(r)
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
        if self.zoom != 1.0:
            p.setPen(QColor("#FFFFFF"))
            p.drawText(
                QRectF(0, self.height() - 24, self.width() - 10, 20),
                Qt.AlignmentFlag.AlignRight,
                f"{self.zoom * self.fit_scale() * self.devicePixelRatioF() * 100:.0f}% of the image",
            )

    # ------------------------------------------------------------ interaction
    def set_split(self, fraction: float) -> None:
        self.split = min(1.0, max(0.0, fraction))
        self.update()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        rect = self.image_rect()
        if rect.isNull():
            return
        anchor = anchor or QPointF(self.width() / 2, self.height() / 2)
        # Keep the image point under the anchor where it is.
        ix = (anchor.x() - rect.x()) / rect.width()
        iy = (anchor.y() - rect.y()) / rect.height()
        self.zoom = min(32.0, max(1.0, self.zoom * factor))
        new = self.image_rect()
        nx = (anchor.x() - new.x()) / new.width()
        ny = (anchor.y() - new.y()) / new.height()
        self.center = QPointF(self.center.x() + (ix - nx), self.center.y() + (iy - ny))
        if self.zoom == 1.0:
            self.center = QPointF(0.5, 0.5)
        self.update()

    def fit_scale(self) -> float:
        img = self.after if not self.after.isNull() else self.before
        if img.isNull():
            return 1.0
        return min(self.width() / img.width(), self.height() / img.height())

    def zoom_actual_pixels(self) -> None:
        """1:1: one pixel of the loaded image per *device* pixel (on a 2x HiDPI screen a widget
        pixel is 2 x 2 of them), centred where the view is now."""
        if self.image_rect().isNull():
            return
        self.zoom = 1.0 / (self.fit_scale() * self.devicePixelRatioF())  # below 1 for an image smaller than the view
        self.update()

    def mousePressEvent(self, e: QMouseEvent) -> None:
        if e.button() == Qt.MouseButton.RightButton:
            self._panning = e.position()
        else:
            self.set_split(e.position().x() / max(1, self.width()))

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if self._panning is not None:
            rect = self.image_rect()
            d = e.position() - self._panning
            self._panning = e.position()
            self.center = QPointF(self.center.x() - d.x() / rect.width(), self.center.y() - d.y() / rect.height())
            self.update()
        elif e.buttons() & Qt.MouseButton.LeftButton:
            self.set_split(e.position().x() / max(1, self.width()))

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        self._panning = None

    def wheelEvent(self, e: QWheelEvent) -> None:
        self.zoom_by(1.25 if e.angleDelta().y() > 0 else 0.8, e.position())

    def keyPressEvent(self, e: QKeyEvent) -> None:
        key = e.key()
        if key == Qt.Key.Key_Left:
            self.set_split(self.split - 0.05)
        elif key == Qt.Key.Key_Right:
            self.set_split(self.split + 0.05)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(1.25)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(0.8)
        elif key == Qt.Key.Key_0:
            self.zoom, self.center = 1.0, QPointF(0.5, 0.5)
            self.update()
        elif key == Qt.Key.Key_1:
            self.zoom_actual_pixels()
        else:
            super().keyPressEvent(e)


def denoise_info(job: Any) -> dict | None:
    """The denoise output's ``info`` of a job (what the denoiser decided), if any."""
    for rec in getattr(job, "outputs", None) or []:
        if rec.op == "denoise" and getattr(rec, "info", None):
            return rec.info
    return None


def describe_info(info: dict | None) -> str:
    """One line for a person: estimate, what was used, kept or not."""
    if not info:
        return ""
    est = (info.get("estimate") or {}).get("sigma")
    model = {"ffdnet": "FFDNet", "dncnn": "DnCNN"}.get(info.get("model", ""), info.get("model", ""))
    parts = [f"Estimated noise σ {est:.1f}" if est is not None else "No estimate"]
    if info.get("kept"):
        parts.append("already clean — kept (nudge σ and re-run to denoise anyway)")
    else:
        src = "auto" if info.get("sigma_source") == "auto" else "set by you"
        parts.append(f"{model} with σ {info.get('sigma_used', 0):.1f} ({src}), strength {info.get('strength', 1):.2f}")
    return " · ".join(parts)


def rerun_request(job: Any, denoise_params: dict):
    """An AddRequest that replaces ``job`` by the same photo and ops with new denoise params.

    The outputs are overwritten in place (same names), so "re-run" updates the
    result instead of adding ``photo_denoise (2).png``. Raises ValidationError
    for params the desktop refuses.
    """
    from pixtools_desktop.core.jobs import OverwritePolicy
    from pixtools_desktop.core.ops import validate_request
    from pixtools_desktop.ui.add_files import AddRequest

    params = {k: dict(v) for k, v in (job.params or {}).items()}
    params["denoise"] = {**params.get("denoise", {}), **denoise_params}
    request = validate_request(job.operations, params, None)
    options = dataclasses.replace(job.options, overwrite=OverwritePolicy.OVERWRITE)
    return AddRequest([job.input_path], request, options, replace_ids=[job.id])


class DenoiseNudge(QFrame):
    """The estimate, and model / sigma / strength to re-run one photo with."""

    rerun = Signal(dict)  # the new denoise params

    def __init__(self, info: dict | None, params: dict | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        params = params or {}
        info = info or {}
        lay = QHBoxLayout(self)
        self.summary = QLabel(describe_info(info) or "No noise estimate recorded for this job.")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Noise estimate")
        lay.addWidget(self.summary, 2)
        self.model = QComboBox()
        self.model.addItem("Auto", "auto")
        self.model.addItem("FFDNet", "ffdnet")
        self.model.addItem("DnCNN", "dncnn")
        self.model.setCurrentIndex(max(0, self.model.findData(info.get("model") or params.get("model") or "ffdnet")))
        self.model.setAccessibleName("Denoise model")
        lay.addWidget(self.model)
        self.auto = QCheckBox("Auto σ")
        self.auto.setToolTip("Use the estimate (clean photos are denoised anyway on a re-run)")
        lay.addWidget(self.auto)
        self.sigma = QDoubleSpinBox()
        self.sigma.setRange(0.0, 75.0)
        self.sigma.setDecimals(1)
        self.sigma.setSingleStep(1.0)
        self.sigma.setPrefix("σ ")
        start = info.get("sigma_used")
        if start is None or info.get("kept"):
            start = (info.get("estimate") or {}).get("sigma", 5.0)
        self.sigma.setValue(float(start if not info.get("kept") else max(start, 3.0)))
        self.sigma.setAccessibleName("Noise level sigma")
        lay.addWidget(self.sigma)
        self.strength = QDoubleSpinBox()
        self.strength.setRange(0.0, 1.0)
        self.strength.setSingleStep(0.1)
        self.strength.setDecimals(2)
        self.strength.setValue(float(params.get("strength", 1.0)))
        self.strength.setPrefix("strength ")
        self.strength.setAccessibleName("Strength")
        lay.addWidget(self.strength)
        for text, step in (("σ −", -2.0), ("σ +", 2.0)):
            b = QPushButton(text)
            b.setProperty("step", step)
            b.setToolTip("Nudge the noise level")
            b.clicked.connect(self._nudge)
            lay.addWidget(b)
        self.rerun_btn = QPushButton("Re-run this photo")
        self.rerun_btn.setObjectName("primary")
        self.rerun_btn.clicked.connect(self._rerun)
        lay.addWidget(self.rerun_btn)
        self.auto.toggled.connect(self.sigma.setDisabled)

    @Slot()
    def _nudge(self) -> None:
        self.auto.setChecked(False)
        self.sigma.setValue(self.sigma.value() + float(self.sender().property("step")))

    def params(self) -> dict:
        """The denoise params the re-run will use."""
        out: dict = {"model": self.model.currentData(), "strength": round(self.strength.value(), 3)}
        if self.auto.isChecked():
            out.update(sigma="auto", force=True)
        else:
            out["sigma"] = round(self.sigma.value(), 1)
        return out

    @Slot()
    def _rerun(self) -> None:
        self.rerun.emit(self.params())


class CompareDialog(QDialog):
    """Loads `before_path` and `after_path` off the GUI thread, then compares them.

    With ``job`` (a denoise job) it shows the estimate and a re-run row; a
    re-run emits ``rerun_requested(AddRequest)`` for the window to queue
    (``MainWindow._start_add``) and closes the dialog.
    """

    rerun_requested = Signal(object)

    def __init__(self, before_path: str, after_path: str, parent: QWidget | None = None, *, job: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Before / after")
        self.resize(900, 640)
        self.job = job
        lay = QVBoxLayout(self)
        self.view = CompareView(self)
        lay.addWidget(self.view, 1)
        self.nudge: DenoiseNudge | None = None
        if job is not None and "denoise" in (job.operations or []):
            self.nudge = DenoiseNudge(denoise_info(job), (job.params or {}).get("denoise"), self)
            self.nudge.rerun.connect(self._on_rerun)
            lay.addWidget(self.nudge)
        row = QHBoxLayout()
        self.status = QLabel("Loading images…")
        self.status.setObjectName("muted")
        row.addWidget(self.status, 1)
        for text, factor in (("Zoom in", 1.25), ("Zoom out", 0.8)):
            b = QPushButton(text)
            b.setProperty("factor", factor)
            b.clicked.connect(self._zoom_clicked)
            row.addWidget(b)
        actual = QPushButton("1:1")
        actual.setToolTip("Actual pixels (key 1); 0 to fit")
        actual.setAccessibleName("Zoom to actual pixels")
        actual.clicked.connect(self.view.zoom_actual_pixels)
        row.addWidget(actual)
        self.actual_btn = actual
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row.addWidget(close)
        lay.addLayout(row)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = start_task(
            self._pool,
            lambda: (load_qimage(before_path), load_qimage(after_path)),
            self,
            self._on_loaded,
            self._on_failed,
        )

    @Slot(object)
    def _on_loaded(self, images: tuple[QImage, QImage]) -> None:
        self.view.set_images(*images)
        b, a = images
        self.status.setText(f"Before {b.width()}×{b.height()} · after {a.width()}×{a.height()}")
        self.view.setFocus()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.status.setText(f"Could not load the images: {message}")

    @Slot(dict)
    def _on_rerun(self, params: dict) -> None:
        from pixtools_desktop.core.errors import ValidationError

        try:
            req = rerun_request(self.job, params)
        except ValidationError as exc:
            self.status.setText(exc.detail)
            return
        self.rerun_requested.emit(req)
        self.accept()

    @Slot()
    def _zoom_clicked(self) -> None:
        self.view.zoom_by(float(self.sender().property("factor")))

    def done(self, result: int) -> None:
        self._pool.waitForDone()
        super().done(result)
