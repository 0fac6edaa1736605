"""The card for the selected job: outputs with thumbnails, sizes, open buttons,
extracted metadata, links (S3), warnings/errors, and before/after for denoise."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pixtools_desktop.core.jobs import Job
from pixtools_desktop.ui import result_links
from pixtools_desktop.ui.metadata_view import display_rows, map_url, output_dimensions, size_text
from pixtools_desktop.ui.queue_model import STATUS_TEXT

THUMB = 64
MAX_META_ITEMS = 400
OUTPUTS_SHOWN = 3  # more outputs scroll
ZWSP = "\u200b"  # a break opportunity: long file names wrap after "_", "." or "-" instead of running off the card


def human_size(n: int) -> str:
    if n < 0:
        return "—"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


class ResultsPanel(QFrame):
    def sizeHint(self) -> QSize:  # the splitter's first layout: a comfortable card width
        return QSize(340, 600)

    def __init__(self, thumbnails, store=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.thumbnails = thumbnails
        self.store = store
        self.job: Job | None = None
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl  # replaceable in tests
        self.compare_requested: Callable[[str, str], None] | None = None
        self._thumb_labels: dict[str, QLabel] = {}
        thumbnails.ready.connect(self._on_thumb)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 12, 14, 14)
        title = QLabel("Result")
        title.setObjectName("cardTitle")
        lay.addWidget(title)
        self.name_label = QLabel("Select a job in the queue to see its outputs.")
        self.name_label.setWordWrap(True)
        self.name_label.setObjectName("muted")
        lay.addWidget(self.name_label)
        self.badge = QLabel("")
        self.badge.setObjectName("badge")
        self.badge.hide()
        lay.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignLeft)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("error")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        lay.addWidget(self.message)
        self.notice = QLabel("")  # "no program opens this file" and other answers to a click
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.hide()
        lay.addWidget(self.notice)

        self.outputs_box = QWidget()
        self.outputs_layout = QVBoxLayout(self.outputs_box)
        self.outputs_layout.setContentsMargins(0, 0, 0, 0)
        self.outputs_scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.outputs_box)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        lay.addWidget(scroll, 0)

        self.links_label = QLabel("")
        self.links_label.setOpenExternalLinks(True)
        self.links_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.links_label.setWordWrap(True)
        self.links_label.hide()
        lay.addWidget(self.links_label)

        self.compare_btn: QPushButton | None = None  # on the denoised output's row, next to Open

        self.meta_title = QLabel("METADATA")
        self.meta_title.setObjectName("sectionTitle")
        lay.addWidget(self.meta_title)
        self.meta_tree = QTreeWidget()
        self.meta_tree.setHeaderLabels(["Field", "Value"])
        self.meta_tree.setAccessibleName("Extracted metadata")
        self.meta_tree.setRootIsDecorated(False)
        lay.addWidget(self.meta_tree, 1)
        self.map_label = QLabel("")
        self.map_label.setOpenExternalLinks(True)
        self.map_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        lay.addWidget(self.map_label)
        self.meta_title.hide()
        self.meta_tree.hide()
        self.map_label.hide()

    # ------------------------------------------------------------ showing a job
    def show_job(self, job: Job | None) -> None:
        self.job = job
        self._thumb_labels.clear()
        while self.outputs_layout.count():
            old = self.outputs_layout.takeAt(0)
            widget = old.widget() if old is not None else None
            if widget is not None:
                widget.deleteLater()
        self.meta_tree.clear()
        self.compare_btn = None
        self.notice.hide()
        if job is None:
            self.name_label.setText("Select a job in the queue to see its outputs.")
            for w in (self.badge, self.message, self.links_label, self.meta_title, self.meta_tree, self.map_label):
                w.hide()
            return
        self.name_label.setText(job.name)
        self.badge.setText(STATUS_TEXT.get(job.status.value, job.status.value))
        self.badge.setProperty("state", job.status.value)
        self.badge.style().unpolish(self.badge)
        self.badge.style().polish(self.badge)
        self.badge.show()
        notes = []
        if job.error_message:
            notes.append(job.error_message)
        notes += job.warnings
        self.message.setText("\n".join(notes))
        self.message.setVisible(bool(notes))

        rows = [self._output_row(rec) for rec in job.outputs]
        for row in rows:
            self.outputs_layout.addWidget(row)
        self.outputs_layout.addStretch(1)
        self._fit_outputs()

        links = result_links(job, self.store)
        if links:
            html = "<br>".join(f'<a href="{url}">{label}</a>' for label, url in links)
            self.links_label.setText(f"<b>Links</b><br>{html}")
        self.links_label.setVisible(bool(links))

        if job.metadata:
            for label, text, _link in display_rows(job.metadata)[:MAX_META_ITEMS]:
                item = QTreeWidgetItem([label, text])
                item.setToolTip(1, text)
                self.meta_tree.addTopLevelItem(item)
            self.meta_tree.resizeColumnToContents(0)
        url = map_url(job.metadata.get("gps")) if job.metadata else None
        self.map_label.setText(f'<a href="{url}">Show the location on OpenStreetMap</a>' if url else "")
        self.map_label.setVisible(bool(url))
        self.meta_title.setVisible(bool(job.metadata))
        self.meta_tree.setVisible(bool(job.metadata))

    def _output_row(self, rec) -> QWidget:
        """Thumbnail, name, size and dimensions (before → after), then Open / Open folder / Compare."""
        box = QFrame()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 4, 0, 8)
        grid.setHorizontalSpacing(10)
        thumb = QLabel()
        thumb.setObjectName("thumb")
        thumb.setFixedSize(THUMB, THUMB)
        thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        exists = Path(rec.path).exists()
        if exists and not rec.mime.startswith("application/"):
            pix = self.thumbnails.get(rec.path, THUMB)
            if pix is not None:
                thumb.setPixmap(pix)
            else:
                thumb.setText("…")
                self._thumb_labels[rec.path] = thumb
        else:
            thumb.setText(rec.op.upper())
        grid.addWidget(thumb, 0, 0, 2, 1, Qt.AlignmentFlag.AlignTop)
        breakable = html.escape(Path(rec.path).name)
        for ch in "_.-":
            breakable = breakable.replace(ch, ch + ZWSP)
        name = QLabel(f"<b>{rec.op.upper()}</b> · {breakable}")
        name.setToolTip(rec.path)
        name.setWordWrap(True)
        grid.addWidget(name, 0, 1)
        note = " (kept existing file)" if rec.skipped else "" if exists else " (missing)"
        before, after = output_dimensions(self.job, rec)
        # A narrow window wraps after the arrow, never inside "321 × 481 px".
        dims = size_text(before, after).replace(" × ", "\u00a0×\u00a0") + "\u00a0px"
        size = QLabel(f"{human_size(rec.size)}{note}\n{dims}")
        size.setObjectName("muted")
        size.setWordWrap(True)
        size.setToolTip(size.text().replace("\u00a0", " "))
        size.setAccessibleName("Size and dimensions")
        grid.addWidget(size, 1, 1)
        buttons = QHBoxLayout()
        open_btn = QPushButton("Open")
        open_btn.setAccessibleName(f"Open {Path(rec.path).name}")
        open_btn.setProperty("path", rec.path)
        open_btn.clicked.connect(self._open_file)
        folder_btn = QPushButton("Open folder")
        folder_btn.setProperty("path", str(Path(rec.path).parent))
        folder_btn.clicked.connect(self._open_file)
        open_btn.setEnabled(exists)
        buttons.addWidget(open_btn)
        buttons.addWidget(folder_btn)
        if rec.op == "denoise" and not rec.skipped and exists and self.compare_btn is None:
            self.compare_btn = QPushButton("Compare")
            self.compare_btn.setObjectName("primary")
            self.compare_btn.setToolTip("Before / after, with zoom")
            self.compare_btn.clicked.connect(self._compare)
            buttons.addWidget(self.compare_btn)
        buttons.addStretch(1)
        grid.addLayout(buttons, 2, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        return box

    def _fit_outputs(self) -> None:
        """As tall as its outputs at the card's current width (up to three, then it scrolls):
        the metadata gets the rest. Measured, not fixed: a narrow card wraps names and sizes."""
        width = max(120, self.outputs_scroll.viewport().width())
        heights: list[int] = []
        for i in range(self.outputs_layout.count()):
            item = self.outputs_layout.itemAt(i)
            row = item.widget() if item is not None else None
            grid = row.layout() if row is not None else None
            if row is None or grid is None or len(heights) == OUTPUTS_SHOWN:
                continue
            heights.append(grid.totalHeightForWidth(width) if grid.hasHeightForWidth() else row.sizeHint().height())
        spacing = max(0, self.outputs_layout.spacing())
        self.outputs_scroll.setFixedHeight(max(sum(heights) + spacing * max(0, len(heights) - 1), 40) + 8)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self.job is not None:
            self._fit_outputs()

    def denoise_pair(self) -> tuple[str, str] | None:
        if self.job is None:
            return None
        for rec in self.job.outputs:
            if rec.op == "denoise" and not rec.skipped and Path(rec.path).exists():
                return self.job.input_path, rec.path
        return None

    @Slot()
    def _open_file(self) -> None:
        path = self.sender().property("path")
        if not path:
            return
        if not Path(path).exists():
            self.say(f"{path} is not there any more (moved or deleted).")
        elif not self.open_url(QUrl.fromLocalFile(path)):
            self.say(f"No program is set up to open {Path(path).name} on this system. It is here: {path}")
        else:
            self.notice.hide()

    def say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()

    @Slot()
    def _compare(self) -> None:
        pair = self.denoise_pair()
        if pair is not None and self.compare_requested is not None:
            self.compare_requested(*pair)

    @Slot(str, int)
    def _on_thumb(self, path: str, size: int) -> None:
        if size != THUMB:
            return
        label = self._thumb_labels.pop(path, None)
        if label is not None:
            pix = self.thumbnails.get(path, THUMB)
            if pix is not None:
                label.setPixmap(pix)
            else:
                label.setText("—")
