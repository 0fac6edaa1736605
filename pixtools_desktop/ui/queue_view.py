"""The queue table view and its painted delegates (no widget per row).

- Progress cells are painted by `ink.paint_bar` in the theme's colours
  (no white cells in the dark theme, "100%" readable on lime).
- The file cell reserves a fixed thumbnail box, so names line up whatever
  each photo's aspect ratio; a failed row gets a red edge mark.
- Columns fit the width: the file name stretches, and on a narrow window the
  Error then Operations columns fold away (the reason stays in the row's
  tooltip and on the result card).
- An empty queue shows where to drop photos (the drop hint lives here, not
  in a banner of its own).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
)

from pixtools_desktop.ui import theme
from pixtools_desktop.ui.ink import paint_bar
from pixtools_desktop.ui.queue_model import (
    COL_ERROR,
    COL_FILE,
    COL_OPS,
    COL_PROGRESS,
    COL_STATUS,
    THUMB_SIZE,
    ProgressRole,
    StatusRole,
)

DROP_HINT = "Drop photos or folders here\nCtrl+O files · Ctrl+Shift+O folder · Ctrl+V paste"
FIXED_WIDTHS = {COL_OPS: 150, COL_STATUS: 112, COL_PROGRESS: 104}
NARROW_WIDTHS = {COL_STATUS: 84, COL_PROGRESS: 86}
ERROR_WIDTH = 240
HIDE_ERROR_BELOW = 660  # viewport px: narrower than this, the Error column folds into the tooltip
HIDE_OPS_BELOW = 470
MARK_WIDTH = 5


class ProgressDelegate(QStyledItemDelegate):
    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        pal = theme.current_palette()
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, QColor(pal["select"]))
        fraction = float(index.data(ProgressRole) or 0.0)
        status = index.data(StatusRole) or ""
        r: QRect = option.rect.adjusted(6, 9, -6, -9)
        paint_bar(painter, r, fraction, f"{fraction * 100:.0f}%", status=status, pal=pal)


class FileDelegate(QStyledItemDelegate):
    """A fixed-size thumbnail box (names aligned) and a red edge on failed rows."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        option.features |= QStyleOptionViewItem.ViewItemFeature.HasDecoration
        option.decorationSize = QSize(THUMB_SIZE, THUMB_SIZE)
        option.decorationAlignment = Qt.AlignmentFlag.AlignCenter

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().paint(painter, option, index)
        if index.data(StatusRole) == "FAILED":
            r = option.rect
            painter.fillRect(QRect(r.x(), r.y(), MARK_WIDTH, r.height()), QColor(theme.current_palette()["danger"]))


class QueueView(QTableView):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(50)
        self.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(self))
        self.setItemDelegateForColumn(COL_FILE, FileDelegate(self))
        self.setAccessibleName("Job queue")
        self.setTabKeyNavigation(False)

    def setModel(self, model) -> None:
        super().setModel(model)
        h = self.horizontalHeader()
        h.setHighlightSections(False)
        h.setStretchLastSection(False)
        h.setMinimumSectionSize(60)
        h.setSectionResizeMode(COL_FILE, QHeaderView.ResizeMode.Stretch)
        for col, width in FIXED_WIDTHS.items():
            h.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.setColumnWidth(col, width)
        h.setSectionResizeMode(COL_ERROR, QHeaderView.ResizeMode.Interactive)
        self.setColumnWidth(COL_ERROR, ERROR_WIDTH)
        model.rowsInserted.connect(self.viewport().update)
        model.rowsRemoved.connect(self.viewport().update)
        model.modelReset.connect(self.viewport().update)
        self._fit_columns()

    def resizeEvent(self, e: QResizeEvent) -> None:
        super().resizeEvent(e)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Fold the Error, then the Operations column on narrow widths (never a horizontal scroll bar)."""
        if self.model() is None:
            return
        width = self.viewport().width()
        self.setColumnHidden(COL_ERROR, width < HIDE_ERROR_BELOW)
        narrow = width < HIDE_OPS_BELOW
        self.setColumnHidden(COL_OPS, narrow)
        for col, w in (NARROW_WIDTHS if narrow else FIXED_WIDTHS).items():
            if col != COL_OPS and self.columnWidth(col) != w:
                self.setColumnWidth(col, w)

    def paintEvent(self, e: QPaintEvent) -> None:
        super().paintEvent(e)
        model = self.model()
        if model is not None and model.rowCount() == 0:
            pal = theme.current_palette()
            p = QPainter(self.viewport())
            box = self.viewport().rect().adjusted(18, 18, -18, -18)
            box.setHeight(min(box.height(), 120))
            p.fillRect(box.adjusted(6, 6, 6, 6), QColor(pal["ink"]))  # hard offset shadow
            p.fillRect(box, QColor(pal["cyan"]))
            p.setPen(QColor("#111111"))
            p.drawRect(box.adjusted(0, 0, -1, -1))
            font = p.font()
            font.setBold(True)
            font.setPixelSize(15)
            p.setFont(font)
            p.drawText(box.adjusted(12, 8, -12, -8), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, DROP_HINT)
            p.end()
