"""Before/after comparison: one image over the other, a draggable split, zoom.

The widget only paints QImages it is given; `CompareDialog` loads the two
files off the GUI thread first (a full-size decode of a 24 MP photo takes
long enough to notice).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QThreadPool, Slot
from PySide6.QtGui import QColor, QFont, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

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
        self.setToolTip("Drag to move the split · wheel or +/- to zoom · right-drag to pan · 0 to fit")

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
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
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
            p.drawText(QRectF(0, self.height() - 24, self.width() - 10, 20), Qt.AlignmentFlag.AlignRight,
                       f"{self.zoom * 100:.0f}%")

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

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.button() == Qt.MouseButton.RightButton:
            self._panning = e.position()
        else:
            self.set_split(e.position().x() / max(1, self.width()))

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._panning is not None:
            rect = self.image_rect()
            d = e.position() - self._panning
            self._panning = e.position()
            self.center = QPointF(self.center.x() - d.x() / rect.width(), self.center.y() - d.y() / rect.height())
            self.update()
        elif e.buttons() & Qt.MouseButton.LeftButton:
            self.set_split(e.position().x() / max(1, self.width()))

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self._panning = None

    def wheelEvent(self, e: QWheelEvent) -> None:  # noqa: N802
        self.zoom_by(1.25 if e.angleDelta().y() > 0 else 0.8, e.position())

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
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
        else:
            super().keyPressEvent(e)


class CompareDialog(QDialog):
    """Loads `before_path` and `after_path` off the GUI thread, then compares them."""

    def __init__(self, before_path: str, after_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Before / after")
        self.resize(900, 640)
        lay = QVBoxLayout(self)
        self.view = CompareView(self)
        lay.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.status = QLabel("Loading images…")
        self.status.setObjectName("muted")
        row.addWidget(self.status, 1)
        for text, factor in (("Zoom in", 1.25), ("Zoom out", 0.8)):
            b = QPushButton(text)
            b.setProperty("factor", factor)
            b.clicked.connect(self._zoom_clicked)
            row.addWidget(b)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row.addWidget(close)
        lay.addLayout(row)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = start_task(self._pool, lambda: (load_qimage(before_path), load_qimage(after_path)), self,
                                   self._on_loaded, self._on_failed)

    @Slot(object)
    def _on_loaded(self, images: tuple[QImage, QImage]) -> None:
        self.view.set_images(*images)
        b, a = images
        self.status.setText(f"Before {b.width()}×{b.height()} · after {a.width()}×{a.height()}")
        self.view.setFocus()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.status.setText(f"Could not load the images: {message}")

    @Slot()
    def _zoom_clicked(self) -> None:
        self.view.zoom_by(float(self.sender().property("factor")))

    def done(self, result: int) -> None:
        self._pool.waitForDone()
        super().done(result)
