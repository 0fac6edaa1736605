"""The main window: drop photos, choose what to do, watch the queue, see results.

The window is layout and wiring. Run state and queue actions (start, pause,
cancel, remove, retry, adding, the backend and its events, the run's
summary and ETA) live in `QueueController`; the window shows what it says.
Threads: the window only draws and dispatches. Adding files (walking
folders, planning, inserting rows) runs on a small I/O pool; jobs run on the
backend (the core `LocalRunner` or a remote server); backend events arrive
through the controller's `BackendBridge` as queued signals and are applied to
the model in 50 ms batches.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QThreadPool, QUrl, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from pixtools_desktop.core import paths
from pixtools_desktop.core.errors import ErrorCode, ValidationError
from pixtools_desktop.core.inputs import IMAGE_EXTENSIONS, count_images
from pixtools_desktop.core.ops import validate_request
from pixtools_desktop.core.settings import Settings, load_settings, save_settings
from pixtools_desktop.core.store import JobStore
from pixtools_desktop.ui import dialogs, layout, theme
from pixtools_desktop.ui import presets as P
from pixtools_desktop.ui.add_files import AddRequest, AddResult
from pixtools_desktop.ui.ink import InkProgressBar
from pixtools_desktop.ui.queue_controller import QueueController
from pixtools_desktop.ui.queue_model import JobIdRole, QueueModel
from pixtools_desktop.ui.queue_view import QueueView
from pixtools_desktop.ui.results_panel import ResultsPanel
from pixtools_desktop.ui.run_tracker import RunSummary
from pixtools_desktop.ui.thumbnails import ThumbnailLoader
from pixtools_desktop.ui.watch_folder import FolderWatcher
from pixtools_desktop.ui.window_chrome import BannerArea, build_header, build_summary_card

log = logging.getLogger(__name__)

BIG_FOLDER = 500


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None, *, backend=None, start_after_paint: bool = False) -> None:
        super().__init__()
        self.settings = settings or load_settings()
        self.setObjectName("mainWindow")
        self.setWindowTitle("PixTools")
        self.setWindowIcon(theme.app_icon())
        self.setAcceptDrops(True)
        self._closed = False
        self.skipped: list[tuple[str, str]] = []
        self.notifications_sent: list[tuple[str, str]] = []
        self._tray: QSystemTrayIcon | None = None
        self.qsettings = QSettings(str(paths.config_dir() / "window.ini"), QSettings.Format.IniFormat)

        self.store = JobStore(self.settings.db_path or paths.default_db_path())
        self.thumbnails = ThumbnailLoader(self)
        self.model = QueueModel(self.store, self.thumbnails, self)
        self._io_pool = QThreadPool(self)
        self._io_pool.setMaxThreadCount(1)  # adds run in order
        self.queue = QueueController(self.store, self.settings, self.model, self._io_pool, self._current_choice, self)
        self.queue.stateChanged.connect(self._refresh_controls)
        self.queue.batchFinished.connect(self._on_batch_finished)
        self.queue.added.connect(self._on_added)
        self.queue.message.connect(self._show_message)
        self.queue.problem.connect(self.show_problem)
        self.model.jobsChanged.connect(self._on_jobs_changed)

        theme.apply_theme(QApplication.instance(), self.settings.theme)  # first: sizes depend on the style
        self._build_ui()
        self._build_actions()
        self._restore_window_state()

        self.queue.install_backend(backend)
        self.queue.begin(
            resume=bool(self.qsettings.value("queue/running", False, type=bool)),
            window=self,
            start_after_paint=start_after_paint,
        )
        self.watcher = FolderWatcher(self.store, self.settings, self)
        self.watcher.arrived.connect(self.add_watched)
        self.watcher.apply_settings()
        self._refresh_controls()

    # ------------------------------------------------------------ the queue controller's state, for callers and tests
    @property
    def backend(self):
        return self.queue.backend

    @property
    def bridge(self):
        return self.queue.bridge

    @property
    def sinks(self):
        return self.queue.sinks

    @property
    def run(self):
        return self.queue.run

    @property
    def running(self) -> bool:
        return self.queue.running

    @property
    def last_summary(self) -> RunSummary | None:
        return self.queue.last_summary

    def _current_choice(self) -> tuple:
        """What new photos get (raises ValidationError with a sentence for the user)."""
        return self.ops_panel.current_request(), self.ops_panel.current_options()

    @Slot(str, int)
    def _show_message(self, text: str, ms: int) -> None:
        self.statusBar().showMessage(text, ms)

    # ------------------------------------------------------------ construction
    def _build_ui(self) -> None:
        root = QWidget()
        root.setObjectName("root")
        outer = QVBoxLayout(root)
        outer.setContentsMargins(14, 14, 14, 10)
        outer.setSpacing(12)
        self.header, self.buttons = build_header(self)
        outer.addWidget(self.header)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(12)
        from pixtools_desktop.ui.operations_panel import OperationsPanel

        self.ops_panel = OperationsPanel(self.settings)
        self.ops_panel.changed.connect(self._refresh_controls)
        self.ops_panel.changed.connect(self.header.fit)
        self.left_scroll = left = layout.left_panel(self.ops_panel)
        self.splitter.addWidget(left)

        center = QWidget()
        cl = QVBoxLayout(center)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(10)
        self.summary_card, self.summary_label, self.summary_details = build_summary_card(self)
        from pixtools_desktop.ui.model_banner import ModelBanner

        self.model_banner = ModelBanner(self.settings)
        self.model_banner.installed.connect(self._on_model_installed)
        self.ops_panel.changed.connect(self._refresh_model_banner)
        # One banner at a time: "model missing" (it offers the fix) before the batch summary/problem card;
        # the last batch's result also stays in the line under the queue.
        self.banners = BannerArea()
        self.banners.add(self.model_banner, 2)
        self.banners.add(self.summary_card, 1)
        cl.addWidget(self.banners)
        self._refresh_model_banner()
        self.table = QueueView()
        self.table.setModel(self.model)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        cl.addWidget(self.table, 1)
        prow = QHBoxLayout()
        self.overall = InkProgressBar()
        self.overall.setRange(0, 1000)
        self.overall.setAccessibleName("Overall progress")
        self.overall.setFormat("%p%")
        self.eta_label = QLabel("Nothing running")
        self.eta_label.setMinimumWidth(180)
        self.eta_label.setWordWrap(True)
        self.eta_label.setObjectName("cardTitle")
        prow.addWidget(self.overall, 1)
        prow.addWidget(self.eta_label)
        cl.addLayout(prow)
        self.splitter.addWidget(center)

        self.results = ResultsPanel(self.thumbnails, self.store)
        self.results.compare_requested = self.open_compare
        self.results.setMinimumWidth(layout.RESULTS_MIN_WIDTH)
        self.splitter.addWidget(self.results)
        center.setMinimumWidth(layout.CENTER_MIN_WIDTH)
        for i, stretch in enumerate((0, 1, 0)):  # a narrower window takes width from the queue first
            self.splitter.setStretchFactor(i, stretch)
        # First layout from the panels' size hints; later ones from the saved splitter state.
        outer.addWidget(self.splitter, 1)
        self.setCentralWidget(root)
        self.skipped_btn = QPushButton("")
        self.skipped_btn.clicked.connect(self.show_skipped)
        self.skipped_btn.hide()
        self.statusBar().addPermanentWidget(self.skipped_btn)
        self.resize(*layout.DEFAULT_SIZE)

    @Slot()
    def _refresh_model_banner(self) -> None:
        self.model_banner.refresh(self.ops_panel.op_checks["denoise"].isChecked())

    @Slot(str)
    def _on_model_installed(self, path: str) -> None:
        self.statusBar().showMessage(f"Denoise model installed: {path}", 8000)
        failed = [j.id for j in self.store.list_jobs(status="FAILED") if j.error_code == ErrorCode.MODEL_MISSING]
        if failed:  # those failed for want of the model: give them another go
            self.queue.retry(failed)

    def _action(
        self, text: str, slot, shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None, *, context=None
    ) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        if context is not None:
            act.setShortcutContext(context)
        act.triggered.connect(slot)
        return act

    def _build_actions(self) -> None:
        W = Qt.ShortcutContext
        self.act_add_files = self._action("Add files…", self.choose_files, "Ctrl+O")
        self.act_add_folder = self._action("Add folder…", self.choose_folder, "Ctrl+Shift+O")
        self.act_paste = self._action("Paste", self.paste, QKeySequence.StandardKey.Paste)
        self.act_toggle = self._action("Start/Pause", self.toggle_running, "Ctrl+Return")
        self.act_remove = self._action(
            "Remove", self.remove_selected, QKeySequence.StandardKey.Delete, context=W.WidgetShortcut
        )
        self.act_cancel = self._action("Cancel", self.cancel_selected, "Ctrl+.")
        self.act_retry = self._action("Retry failed", self.retry_failed, "Ctrl+R")
        self.table.selectionModel().selectionChanged.connect(self._refresh_controls)
        self.act_settings = self._action("Settings…", self.open_settings, "Ctrl+,")
        self.act_health = self._action("Health…", self.open_health, "Ctrl+Shift+H")
        self.act_quit = self._action("Quit", self.close, QKeySequence.StandardKey.Quit)
        for act in (
            self.act_add_files,
            self.act_add_folder,
            self.act_paste,
            self.act_toggle,
            self.act_cancel,
            self.act_retry,
            self.act_settings,
            self.act_health,
            self.act_quit,
        ):
            self.addAction(act)
        self.table.addAction(self.act_remove)
        b = self.buttons
        b["add_files"].clicked.connect(self.choose_files)
        b["add_folder"].clicked.connect(self.choose_folder)
        b["start"].clicked.connect(self.toggle_running)
        b["cancel"].clicked.connect(self.cancel_selected)
        b["remove"].clicked.connect(self.remove_selected)
        b["retry"].clicked.connect(self.retry_failed)
        b["clear"].clicked.connect(self.clear_finished)
        b["settings"].clicked.connect(self.open_settings)
        b["health"].clicked.connect(self.open_health)

    def _restore_window_state(self) -> None:
        geo = self.qsettings.value("window/geometry")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)  # Qt keeps a geometry saved on a bigger monitor on this screen
        split = self.qsettings.value("window/splitter")
        if isinstance(split, QByteArray) and not split.isEmpty():
            self.splitter.restoreState(split)

    # ------------------------------------------------------------ adding files
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

    @Slot()
    def clear_finished(self) -> None:
        """Take done and cancelled jobs off the list (their output files stay; failed ones stay to retry)."""
        ids = self.model.ids_with_status("COMPLETED", "COMPLETED_WEBHOOK_FAILED", "CANCELLED")
        if not ids:
            self.statusBar().showMessage("Nothing finished to clear.", 4000)
            return
        self.store.delete(ids)
        self.model.remove_ids(ids)
        self.run.forget(ids)
        if self.results.job is not None and self.results.job.id in ids:
            self.results.show_job(None)
        self.statusBar().showMessage(f"Cleared {len(ids):,} finished job(s); their files stay where they are.", 6000)
        self._refresh_controls()

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

    @Slot(str)
    def show_problem(self, text: str) -> None:
        self.summary_card.setProperty("failed", True)
        self.summary_label.setText(text)
        self.summary_details.setText("")
        self._repolish(self.summary_card)
        self.summary_card.show()

    # ------------------------------------------------------------ queue control (the controller decides)
    @Slot()
    def toggle_running(self) -> None:
        if not self.running:
            self.summary_card.hide()
            self.statusBar().clearMessage()
        self.queue.toggle()

    def start(self) -> None:
        self.summary_card.hide()
        self.statusBar().clearMessage()
        self.queue.start()

    def pause(self) -> None:
        self.queue.pause()

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.job_id(r) for r in rows]

    @Slot()
    def cancel_selected(self) -> None:
        self.queue.cancel(self.selected_ids())

    @Slot()
    def remove_selected(self) -> None:
        self.queue.remove(self.selected_ids())

    @Slot()
    def retry_failed(self) -> None:
        if self.queue.retry():
            self.summary_card.hide()

    @Slot(list)
    def _on_jobs_changed(self, ids: list) -> None:
        current = self.results.job
        if current is not None and current.id in ids:
            self.results.show_job(self.store.get(current.id))
        self._refresh_controls()

    @Slot(object)
    def _on_batch_finished(self, summary: RunSummary) -> None:
        failed = bool(summary.failed)
        self.summary_card.setProperty("failed", failed)
        self.summary_label.setText(f"Batch finished: {summary.text}")
        reasons = "\n".join(f"• {name}: {why}" for name, why in summary.failed[:5])
        if len(summary.failed) > 5:
            reasons += f"\n… and {len(summary.failed) - 5:,} more (Retry failed: Ctrl+R)"
        self.summary_details.setText(reasons)
        self.summary_details.setVisible(bool(reasons))
        self._repolish(self.summary_card)
        self.summary_card.show()
        self.notify("PixTools: batch finished", summary.text)
        self._refresh_controls()

    def notify(self, title: str, text: str) -> None:
        """OS notification when enabled in settings and the platform has a tray."""
        if not self.settings.notifications:
            return
        self.notifications_sent.append((title, text))
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                self._tray = QSystemTrayIcon(self.windowIcon(), self)
                self._tray.show()
            self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 8000)

    # ------------------------------------------------------------ display
    def _refresh_progress(self) -> None:
        self.overall.setValue(int(1000 * self.queue.fraction()))
        self.eta_label.setText(self.queue.status_line())

    _RUN_BUTTON = {
        "start": ("Start", "Run the queue (Ctrl+Return)"),
        "pause": ("Pause", "Pause the queue: running jobs finish, no new one starts (Ctrl+Return)"),
        "resume": ("Resume", "Resume the paused run (Ctrl+Return)"),
    }

    @Slot()
    def _refresh_controls(self) -> None:
        if self._closed:
            return
        b, q = self.buttons, self.queue
        text, tip = self._RUN_BUTTON[q.run_action]
        b["start"].setText(text)
        b["start"].setToolTip(tip)
        selected = self.selected_ids()
        for key, act, enabled in (
            ("start", self.act_toggle, q.can_run()),
            ("cancel", self.act_cancel, q.can_cancel(selected)),
            ("remove", self.act_remove, q.can_remove(selected)),
            ("retry", self.act_retry, q.can_retry()),
        ):
            b[key].setEnabled(enabled)
            act.setEnabled(enabled)
        self.header_sub.setText(  # type: ignore[attr-defined]  # set by window_chrome.build_header
            f"New photos get: {self.ops_panel.summary()}"
        )
        self._refresh_progress()

    @staticmethod
    def _repolish(w: QWidget) -> None:
        w.style().unpolish(w)
        w.style().polish(w)

    @Slot()
    def _on_current_changed(self) -> None:
        idx = self.table.currentIndex()
        job_id = idx.data(JobIdRole) if idx.isValid() else None
        self.results.show_job(self.store.get(job_id) if job_id else None)

    def open_compare(self, before: str, after: str) -> None:
        from pixtools_desktop.ui.compare_view import CompareDialog

        dlg = CompareDialog(before, after, self, job=self.results.job)
        dlg.rerun_requested.connect(self._rerun_from_compare)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()

    @Slot(object)
    def _rerun_from_compare(self, req: AddRequest) -> None:
        """The compare view's "Re-run this photo": the job is replaced with the nudged parameters and runs now."""
        self.summary_card.hide()  # as Start does: a new run begins
        self.queue.add(req, run_now=True)  # starts once the rows are in (the add runs off the GUI thread)

    @Slot()
    def open_settings(self) -> None:
        from pixtools_desktop.ui.settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.settings, self)
        dlg.applied.connect(self._on_settings_applied)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        self._settings_dialog = dlg

    @Slot()
    def _on_settings_applied(self) -> None:
        save_settings(self.settings)
        theme.apply_theme(QApplication.instance(), self.settings.theme)
        self.ops_panel.load_output_settings()
        self.watcher.apply_settings()
        self.queue.settings_applied()
        self.statusBar().showMessage("Settings saved", 4000)

    @Slot()
    def open_health(self) -> None:
        from pixtools_desktop.ui.health_panel import HealthDialog

        dlg = HealthDialog(self.settings, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()

    # ------------------------------------------------------------ shutdown
    def closeEvent(self, e: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(e)

    def shutdown(self) -> None:
        """Stop taking work, interrupt running jobs (re-queued for next start), wait for every thread."""
        if self._closed:
            return
        self._closed = True
        self.qsettings.setValue("window/geometry", self.saveGeometry())
        self.qsettings.setValue("window/splitter", self.splitter.saveState())
        self.qsettings.setValue("queue/running", self.running)
        self.qsettings.sync()
        try:
            save_settings(self.settings)
        except OSError:
            log.exception("could not save settings")
        for dlg in self.findChildren(QWidget):
            if hasattr(dlg, "_pool") and dlg is not self and dlg.isVisible():
                dlg.close()
        self.watcher.stop()
        self._io_pool.waitForDone()
        self.model_banner.wait()
        self.queue.shutdown()
        self.thumbnails.stop()
        self.model.stop()
        if self._tray is not None:
            self._tray.hide()
        self.store.close()
