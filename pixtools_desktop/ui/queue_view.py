"""The queue table view and its progress-bar delegate (painted, not widgets)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTableView

from pixtools_desktop.ui.queue_model import COL_ERROR, COL_FILE, COL_OPS, COL_PROGRESS, COL_STATUS, ProgressRole, StatusRole

BAR_COLOURS = {"FAILED": "#FF8FB8", "CANCELLED": "#BDBDBD", "PROCESSING": "#6EE7E0"}


class ProgressDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        fraction = float(index.data(ProgressRole) or 0.0)
        status = index.data(StatusRole) or ""
        r: QRect = option.rect.adjusted(6, 8, -6, -8)
        painter.save()
        painter.fillRect(r, QColor("#FFFFFF"))
        fill = QRect(r.x(), r.y(), int(r.width() * max(0.0, min(1.0, fraction))), r.height())
        painter.fillRect(fill, QColor(BAR_COLOURS.get(status, "#B9F459")))
        painter.setPen(QPen(QColor("#111111"), 2))
        painter.drawRect(r)
        painter.setPen(QColor("#111111"))
        font = painter.font()
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(r, Qt.AlignmentFlag.AlignCenter, f"{fraction * 100:.0f}%")
        painter.restore()


class QueueView(QTableView):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(48)
        self.setIconSize(self.iconSize().expandedTo(self.iconSize().__class__(40, 40)))
        self.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(self))
        self.setAccessibleName("Job queue")
        self.setTabKeyNavigation(False)

    def setModel(self, model) -> None:  # noqa: N802
        super().setModel(model)
        h = self.horizontalHeader()
        h.setSectionResizeMode(COL_FILE, QHeaderView.ResizeMode.Interactive)
        h.setSectionResizeMode(COL_ERROR, QHeaderView.ResizeMode.Stretch)
        h.setHighlightSections(False)
        self.setColumnWidth(COL_FILE, 240)
        self.setColumnWidth(COL_OPS, 130)
        self.setColumnWidth(COL_STATUS, 90)
        self.setColumnWidth(COL_PROGRESS, 120)
