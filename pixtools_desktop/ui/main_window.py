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

from PySide6.QtCore import QByteArray, QSettings, Qt, QThreadPool, Slot
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from pixtools_desktop.core import paths
from pixtools_desktop.core.errors import ErrorCode
from pixtools_desktop.core.settings import Settings, load_settings, save_settings
from pixtools_desktop.core.store import JobStore
from pixtools_desktop.ui import layout, theme
from pixtools_desktop.ui.add_files import AddRequest
from pixtools_desktop.ui.ink import InkProgressBar
from pixtools_desktop.ui.queue_controller import QueueController
from pixtools_desktop.ui.queue_model import JobIdRole, QueueModel
from pixtools_desktop.ui.queue_view import QueueView
from pixtools_desktop.ui.results_panel import ResultsPanel
from pixtools_desktop.ui.run_tracker import RunSummary
from pixtools_desktop.ui.thumbnails import ThumbnailLoader
from pixtools_desktop.ui.watch_folder import FolderWatcher
from pixtools_desktop.ui.window_chrome import BannerArea, build_actions, build_header, build_summary_card
from pixtools_desktop.ui.window_intake import IntakeMixin

log = logging.getLogger(__name__)


class MainWindow(IntakeMixin, QMainWindow):
    # Set by window_chrome.build_actions.
    act_add_files: QAction
    act_add_folder: QAction
    act_paste: QAction
    act_toggle: QAction
    act_remove: QAction
    act_cancel: QAction
    act_retry: QAction
    act_settings: QAction
    act_health: QAction
    act_quit: QAction

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
        build_actions(self)
        self._restore_window_state()

        self.queue.install_backend(backend)
        self.queue.begin(
            resume=bool(self.qsettings.value("queue/running", False, type=bool)),
            window=self,
            start_after_paint=start_after_paint,
        )
        self.watcher = FolderWatcher(self.store, self.settings, self)
        self.watcher.arrived.connect(self.add_watched)
        self.watcher.baselined.connect(self._watch_started)
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

    @Slot(str, int)
    def _watch_started(self, folder: str, already: int) -> None:
        there = f"the {already:,} photo(s) already there are left alone; " if already else ""
        self.statusBar().showMessage(f"Watching {folder}: {there}new photos will be queued.", 10000)

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
        self.model_banner.refresh(
            self.ops_panel.op_checks["denoise"].isChecked(), self.ops_panel.denoise.model.currentData() or "auto"
        )

    @Slot(str)
    def _on_model_installed(self, path: str) -> None:
        self.statusBar().showMessage(f"Denoise model installed: {path}", 8000)
        failed = [j.id for j in self.store.list_jobs(status="FAILED") if j.error_code == ErrorCode.MODEL_MISSING]
        if failed:  # those failed for want of the model: give them another go
            self.queue.retry(failed)

    def _restore_window_state(self) -> None:
        geo = self.qsettings.value("window/geometry")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)  # Qt keeps a geometry saved on a bigger monitor on this screen
        else:  # first start: the default size, but never bigger than this screen (a 1024 px laptop)
            screen = self.screen() or QGuiApplication.primaryScreen()
            if screen is not None:
                self.setGeometry(layout.first_geometry(screen.availableGeometry(), self.minimumSizeHint()))
        split = self.qsettings.value("window/splitter")
        if isinstance(split, QByteArray) and not split.isEmpty():
            self.splitter.restoreState(split)

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
