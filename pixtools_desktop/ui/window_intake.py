"""The window's ways in for photos: drag and drop, the file dialogs, paste, a second
launch's files, the watch folder; the "big folder?" question and the skipped list.

A mixin of `MainWindow` (it uses the window's panel, queue controller and status
bar); kept apart so the window module stays layout and wiring.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QPushButton

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.inputs import IMAGE_EXTENSIONS, count_images
from pixtools_desktop.core.ops import validate_request
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.ui import dialogs
from pixtools_desktop.ui import presets as P
from pixtools_desktop.ui.add_files import AddRequest, AddResult

if TYPE_CHECKING:
    from pixtools_desktop.ui.operations_panel import OperationsPanel
    from pixtools_desktop.ui.queue_controller import QueueController

    _Base = QMainWindow
else:
    _Base = object

BIG_FOLDER = 500


class IntakeMixin(_Base):
    """Adding photos to the queue with the panel's current choice (MainWindow's part)."""

    settings: Settings
    ops_panel: OperationsPanel
    queue: QueueController
    skipped: list[tuple[str, str]]
    skipped_btn: QPushButton
    _closed: bool

    if TYPE_CHECKING:

        @property
        def running(self) -> bool: ...

        def show_problem(self, text: str) -> None: ...

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:  # noqa: N802
        if e.mimeData().hasUrls():
            e.acceptProposedAction()

    def dragMoveEvent(self, e) -> None:  # noqa: N802
        if e.mimeData().hasUrls():
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:  # noqa: N802
        files = [u.toLocalFile() for u in e.mimeData().urls() if u.isLocalFile()]
        if files:
            e.acceptProposedAction()
            self.add_paths(files)

    def file_dialog(self, kind: str) -> QFileDialog:
        """The styled (non-native) dialog behind Ctrl+O ("files") and Ctrl+Shift+O ("folder")."""
        if kind == dialogs.FOLDER:
            return dialogs.file_dialog(self, dialogs.FOLDER, "Add a folder of photos")
        patterns = " ".join(f"*{ext}" for ext in sorted(IMAGE_EXTENSIONS))
        return dialogs.file_dialog(self, dialogs.FILES, "Add photos", name_filter=f"Images ({patterns});;All files (*)")

    @Slot()
    def choose_files(self) -> None:
        dlg = self.file_dialog(dialogs.FILES)
        if dlg.exec() == QFileDialog.DialogCode.Accepted and dlg.selectedFiles():
            self.add_paths(dlg.selectedFiles())
        dlg.deleteLater()

    @Slot()
    def choose_folder(self) -> None:
        dlg = self.file_dialog(dialogs.FOLDER)
        if dlg.exec() == QFileDialog.DialogCode.Accepted and dlg.selectedFiles():
            self.add_paths(dlg.selectedFiles()[:1])
        dlg.deleteLater()

    @Slot()
    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        paths_: list[str] = []
        if mime is not None and mime.hasUrls():
            paths_ = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        elif mime is not None and mime.hasText():
            for line in mime.text().splitlines():
                line = line.strip()
                if line.startswith("file://"):
                    line = QUrl(line).toLocalFile()
                if line and os.path.exists(line):
                    paths_.append(line)
        if paths_:
            self.add_paths(paths_)
        else:
            self.statusBar().showMessage("Nothing to paste: copy image files or folders first.", 5000)

    def big_folder_box(self, folder: str, count: int) -> QMessageBox:
        return dialogs.message_box(
            self,
            QMessageBox.Icon.Question,
            "Add a big folder?",
            f"{Path(folder).name} holds {count:,} photos (sub-folders included). Add them all to the queue?",
            buttons=QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )

    def confirm_big_folder(self, folder: str, count: int) -> bool:
        """Ask before adding a big folder (tests replace this method)."""
        box = self.big_folder_box(folder, count)
        answer = box.exec()
        box.deleteLater()
        return answer == QMessageBox.StandardButton.Yes

    def add_paths(self, raw_paths: list[str]) -> bool:
        """Turn dropped/pasted/chosen paths into jobs with the current choice (off the GUI thread)."""
        try:
            request = self.ops_panel.current_request()
            options = self.ops_panel.current_options()
        except ValidationError as exc:
            self.show_problem(exc.detail)
            return False
        kept = []
        for p in raw_paths:
            if os.path.isdir(p):
                n = count_images(Path(p))
                if n > BIG_FOLDER and not self.confirm_big_folder(p, n):
                    continue
            kept.append(p)
        if not kept:
            return False
        self.statusBar().showMessage(f"Adding {len(kept)} item(s)…")
        self.queue.add(AddRequest(kept, request, options, replace_ids=[], subfolder=self.settings.output_subfolder))
        return True

    @Slot(object)
    def _on_added(self, result: AddResult) -> None:
        if self._closed:
            return
        self.skipped = result.skipped + result.rejected
        msg = f"Added {len(result.jobs):,} photo(s)"
        if result.adopted:
            msg += f" · {len(result.adopted):,} already waiting"
        if result.already_done:
            msg += f" · {len(result.already_done):,} already done earlier with the same settings"
        if not self.running and result.jobs and not self.settings.auto_start:
            msg += " · press Start (Ctrl+Return) to run"
        self.statusBar().showMessage(msg, 15000)
        n_skip = len(self.skipped)
        self.skipped_btn.setText(f"{n_skip:,} skipped — show")
        self.skipped_btn.setVisible(bool(n_skip))

    @Slot(list)
    def add_watched(self, files: list) -> None:
        """Photos that landed in the watch folder, queued with the watch preset (or the current choice)."""
        preset = P.find_preset(self.settings, self.settings.watch_preset) if self.settings.watch_preset else None
        try:
            request = (
                validate_request(preset.operations, preset.params, None)
                if preset is not None
                else self.ops_panel.current_request()
            )
            options = self.ops_panel.current_options()
        except ValidationError as exc:
            self.show_problem(f"Watch folder: {exc.detail}")
            return
        self.statusBar().showMessage(f"Watch folder: {len(files):,} new photo(s)", 8000)
        self.queue.add(AddRequest([str(f) for f in files], request, options, subfolder=self.settings.output_subfolder))

    @Slot(list)
    def receive_files(self, files: list) -> None:
        """Files handed over by a second launch (single instance)."""
        if files:
            self.add_paths([str(f) for f in files])
        self.showNormal()
        self.raise_()
        self.activateWindow()

    @Slot()
    def show_skipped(self) -> None:
        text = "\n".join(f"{Path(p).name}: {why}" for p, why in self.skipped[:200])
        more = len(self.skipped) - 200
        if more > 0:
            text += f"\n… and {more:,} more"
        box = dialogs.message_box(
            self, QMessageBox.Icon.Information, "Skipped files", f"{len(self.skipped):,} file(s) were not added:"
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setDetailedText(text)
        box.setInformativeText(text[:600])
        box.open()
