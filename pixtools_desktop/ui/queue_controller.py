"""The queue's run state and actions, in one place, for the window to show.

The window is layout and wiring; this object decides. It owns the backend
(the core `LocalRunner` or a `RemoteBackend`), the `BackendBridge` that turns
the backend's worker-thread callbacks into queued signals, the cloud sinks,
and "this run" (`RunTracker`). Rules it keeps:

- The run button tells the truth: "Start" when nothing runs, "Pause" while the
  queue runs, "Resume" when a run was paused. When a run ends the queue
  pauses, so photos added afterwards wait for Start, unless the explicit
  `auto_start` setting (off by default) starts them.
- While the queue runs, photos added join the run.
- Every job of a run that ends — done, failed or cancelled (waiting jobs
  cancelled included) — counts as finished, in "N of M", the ETA and the summary.
- The ETA is work (megapixels) times seconds per megapixel learned on this
  machine and kept in the store (`ui/eta.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from pixtools_desktop.core.backend import remove_jobs, retry_jobs
from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.jobs import Job
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore, work_rates
from pixtools_desktop.ui.add_files import AddRequest, AddResult, run_add, same_options
from pixtools_desktop.ui.backend_factory import make_backend
from pixtools_desktop.ui.bridge import BackendBridge
from pixtools_desktop.ui.cloud_sinks import PAINT_FALLBACK_MS, CloudSinks
from pixtools_desktop.ui.eta import Work, lane_of, megapixels, work_key
from pixtools_desktop.ui.first_paint import after_first_paint
from pixtools_desktop.ui.queue_model import QueueModel
from pixtools_desktop.ui.run_tracker import RunSummary, RunTracker
from pixtools_desktop.ui.tasks import start_task

if TYPE_CHECKING:
    from pixtools_desktop.cloud.service import SinkService

log = logging.getLogger(__name__)

UNFINISHED = ("PENDING", "PROCESSING")
CANCELLABLE = UNFINISHED
RETRYABLE = ("FAILED", "CANCELLED")


def _measure(store: JobStore, ids: list[str]) -> dict[str, Work]:
    """Each job's kind and megapixels (image headers only; runs on the I/O thread)."""
    return {
        j.id: Work(work_key(j.operations), lane_of(j.operations), megapixels(j.input_path)) for j in store.get_many(ids)
    }


class QueueController(QObject):
    stateChanged = Signal()  # run button, counts, progress or ETA may have changed
    batchFinished = Signal(object)  # RunSummary
    added = Signal(object)  # AddResult, after the rows are in the model
    message = Signal(str, int)  # status-bar text, milliseconds
    problem = Signal(str)

    def __init__(
        self,
        store: JobStore,
        settings: Settings,
        model: QueueModel,
        io_pool: QThreadPool,
        choice: Callable[[], tuple],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.settings = settings
        self.model = model
        self._io_pool = io_pool
        self._choice = choice  # -> (OperationRequest, OutputOptions); raises ValidationError
        self.run = RunTracker()
        self.running = False  # the queue runs (backend resumed)
        self.last_summary: RunSummary | None = None
        self.backend: Any = None  # a core.backend.Backend once install_backend ran
        self.backend_note = ""
        self.cloud = CloudSinks(store, settings, lambda text: self.message.emit(text, 10000), self)
        self._shut_down = False  # a deferred start must not run after shutdown()
        self._staged: list[str] = []  # added while not running: re-planned with the choice at Start
        self._start_after_restage = False
        self._backend_started = False
        self._tasks: list = []
        self.bridge = BackendBridge(self)
        self.bridge.started.connect(self._on_started)
        self.bridge.progress.connect(self._on_progress)
        self.bridge.finished.connect(self._on_finished)
        self.bridge.status.connect(self._on_status)
        model.countsChanged.connect(self._on_counts_changed)

    @property
    def sinks(self) -> SinkService | None:
        return self.cloud.sinks

    # ------------------------------------------------------------ backend and sinks
    def install_backend(self, backend=None) -> None:
        if backend is None:
            backend, self.backend_note = make_backend(self.store, self.settings)
        self.backend = backend
        backend.add_listener(self.bridge.listener)
        backend.add_finish_hook(self.cloud.hook)
        self.run.workers = {"std": max(1, int(getattr(backend, "workers", 1))), "model": 1}
        prefix = self._rate_prefix() + ":"
        self.run.eta.rates = {
            k[len(prefix) :]: v for k, v in work_rates.load(self.store).items() if k.startswith(prefix)
        }
        if self.backend_note:
            self.message.emit(self.backend_note, 10000)

    def _rate_prefix(self) -> str:
        from pixtools_desktop.core.runner import LocalRunner  # loaded with the backend; kept off import time

        return "local" if isinstance(self.backend, LocalRunner) else "remote"

    def begin(self, resume: bool, window: QWidget | None = None, *, start_after_paint: bool = False) -> None:
        """Start the backend; `resume`: the queue was running when the app last quit.

        The sinks start from the event loop, after `window`'s first paint when it is shown by
        then: the cloud layer imports boto3 and httpx (~2.7 s of a 3.3 s start under load).
        With `start_after_paint` (the app, not tests) the backend's threads and worker
        processes start then too: spawning them, and the engine's numpy and Pillow, cost
        the first paint ~0.4 s on two cores.
        """
        pending = self.model.ids_with_status(*UNFINISHED)
        QTimer.singleShot(0, self, lambda: self.cloud.start_after_paint(window))
        if resume and pending:
            self.running = True
            self.run.begin(pending)
            self._measure(pending)
        else:
            self.backend.pause()
        if start_after_paint and window is not None:
            after_first_paint(window, self._start_backend, fallback_ms=PAINT_FALLBACK_MS)  # or a minimised start
        else:
            self._start_backend()
        self.stateChanged.emit()

    def _start_backend(self) -> None:
        if self._shut_down or self._backend_started:
            return
        self._backend_started = True
        self.backend.start()

    def settings_applied(self) -> None:
        """Sinks restart with the new settings; the backend is swapped when local/remote changed."""
        self.cloud.stop()
        self.cloud.start()
        is_remote = self._rate_prefix() == "remote"
        if (self.settings.backend == "remote") != is_remote:
            self.backend.stop()
            self.install_backend()
            if not self.running:
                self.backend.pause()
            self._backend_started = True  # a deferred first start must not start it twice
            self.backend.start()
            self.stateChanged.emit()

    def shutdown(self) -> None:
        """Stop the backend (running jobs are re-queued for the next start) and the sinks; joins all threads."""
        self._shut_down = True
        self.cloud.close()
        if self.backend is not None:
            self.backend.stop()
        self.cloud.stop()

    # ------------------------------------------------------------ state the window shows
    @property
    def run_action(self) -> str:
        """What the run button does now: "start", "pause" or "resume"."""
        if self.running:
            return "pause"
        return "resume" if self.run.active else "start"

    def can_run(self) -> bool:
        return self.running or self.run.active or bool(self.model.counts.get("PENDING", 0))

    def can_cancel(self, ids: list[str]) -> bool:
        return any(self.model.status_of(i) in CANCELLABLE for i in ids)

    def can_remove(self, ids: list[str]) -> bool:
        return any(self.model.status_of(i) not in (None, "PROCESSING") for i in ids)

    def can_retry(self) -> bool:
        return any(self.model.counts.get(s, 0) for s in RETRYABLE)

    def status_line(self) -> str:
        if self.run.active:
            return self.run.status_line(paused=not self.running)
        return f"Last batch: {self.last_summary.text}" if self.last_summary else "Nothing running"

    def fraction(self) -> float:
        if self.run.active:
            return self.run.fraction()
        return 1.0 if self.last_summary else 0.0

    # ------------------------------------------------------------ adding
    def add(self, req: AddRequest, *, run_now: bool = False) -> None:
        """Queue `req` off the GUI thread. `run_now`: the request already holds what to do (a compare
        re-run), so its jobs start at once and are not re-planned with the panel's choice at Start."""
        backend, store = self.backend, self.store

        def task() -> AddResult:
            result = run_add(store, backend, req)
            result.run_now = run_now
            return result

        self._tasks.append(start_task(self._io_pool, task, self, self._on_added, self.problem.emit))

    @Slot(object)
    def _on_added(self, result: AddResult) -> None:
        self._forget_task()
        if result.replaced:
            self.model.remove_ids(result.replaced)
            self.run.forget(result.replaced)
        self.model.append_jobs(result.jobs)
        self.model.queue_updates(result.adopted)
        new_ids = [j.id for j in result.jobs] + [j.id for j in result.adopted]
        self._measure(new_ids)
        if self.running:
            self.run.add(new_ids)
        elif not result.run_now:
            self._staged.extend(j.id for j in result.jobs)
        self.added.emit(result)
        if self._start_after_restage:
            self._start_after_restage = False
            self._resume()
        elif not self.running and result.jobs and (self.settings.auto_start or result.run_now):
            self.start()
        self.stateChanged.emit()

    def _measure(self, ids: list[str]) -> None:
        if ids:
            store = self.store
            self._tasks.append(start_task(self._io_pool, lambda: _measure(store, ids), self, self._on_measured))

    @Slot(object)
    def _on_measured(self, work: dict) -> None:
        self._forget_task()
        self.run.set_work(work)
        self.stateChanged.emit()

    def _forget_task(self) -> None:
        sender = self.sender()
        self._tasks = [t for t in self._tasks if t is not sender]

    # ------------------------------------------------------------ run control
    def toggle(self) -> None:
        self.pause() if self.running else self.start()

    def start(self) -> None:
        """Start (or resume) the queue; nothing happens when nothing waits."""
        if not self.can_run():
            return
        self.running = True
        staged = [i for i in self._staged if self.model.status_of(i) == "PENDING"]
        self._staged = []
        if staged and self._restage(staged):
            self._start_after_restage = True
            self.stateChanged.emit()
            return
        self._resume()

    def _restage(self, ids: list[str]) -> bool:
        """Jobs added while paused follow the choice made before pressing Start."""
        try:
            request, options = self._choice()
        except ValidationError as exc:
            self.problem.emit(exc.detail)
            return False
        jobs = [j for j in self.store.get_many(ids) if j.attempts == 0]
        want = (list(request.to_json()["operations"]), request.params, options.to_json())
        stale = [
            j
            for j in jobs
            if (j.operations, j.params) != want[:2] or not same_options(j, options, self.settings.output_subfolder)
        ]
        if not stale:
            return False
        self.add(
            AddRequest(
                [j.input_path for j in stale],
                request,
                options,
                replace_ids=[j.id for j in stale],
                subfolder=self.settings.output_subfolder,
            )
        )
        return True

    def _resume(self) -> None:
        ids = self.model.ids_with_status(*UNFINISHED)
        if not self.run.active:
            self._measure([i for i in ids if i not in self.run.work])
        self.run.begin(ids)
        self.backend.resume()
        self.stateChanged.emit()

    def pause(self) -> None:
        self.running = False
        self.backend.pause()
        self.run.eta.pause()
        self.stateChanged.emit()

    # ------------------------------------------------------------ job actions
    def cancel(self, ids: list[str]) -> None:
        """Waiting jobs are cancelled at once (and count as finished); running ones at their next cancel point."""
        ids = [i for i in ids if self.model.status_of(i) in CANCELLABLE]
        for job_id in ids:
            self.backend.cancel(job_id)
        self.model.refresh_ids(ids)

    def remove(self, ids: list[str]) -> None:
        running = set(remove_jobs(self.store, ids))
        gone = [i for i in ids if i not in running]
        if gone:
            self.model.remove_ids(gone)
            self.run.forget(gone)
        if running:
            self.message.emit(f"{len(running)} running job(s) kept: cancel them first.", 6000)
        self._check_run_end()
        self.stateChanged.emit()

    def retry(self, ids: list[str] | None = None) -> int:
        """Failed and cancelled jobs run again: an idle queue starts (with whatever else waits, as Start
        does), a running one takes them in, a paused run stays paused (its button says Resume)."""
        ids = ids if ids is not None else self.model.ids_with_status(*RETRYABLE)
        if not ids:
            return 0
        n = retry_jobs(self.backend, self.store, ids)
        self.model.refresh_ids(ids)
        for i in ids:
            self.run.finished.pop(i, None)
        if self.run.active:
            self.run.add(ids)
        else:
            self.model.flush()  # the model knows they wait again before the run collects its jobs
            self.start()
        self.message.emit(f"Retrying {len(ids):,} job(s)", 5000)
        self.stateChanged.emit()
        return n

    # ------------------------------------------------------------ backend events (GUI thread)
    @Slot(str, object)
    def _on_started(self, job_id: str, job: Job) -> None:
        self.run.started(job_id)
        self.model.queue_job(job)

    @Slot(str, float)
    def _on_progress(self, job_id: str, fraction: float) -> None:
        self.run.progress(job_id, fraction)
        self.model.apply_progress(job_id, fraction)

    @Slot(str, object)
    def _on_finished(self, job_id: str, job: Job) -> None:
        rate = self.run.job_finished(job_id, job.status.value, job.name, job.error_message)
        if rate is not None:
            w = self.run.work[job_id]
            prefix = self._rate_prefix()
            try:
                work_rates.record(self.store, f"{prefix}:{w.key}", rate)
                work_rates.record(self.store, f"{prefix}:lane:{w.lane}", rate)
            except Exception:  # noqa: BLE001 - a locked database must not lose the job's event
                log.exception("could not store the work rate")
        self.model.queue_job(job)

    @Slot(str, object)
    def _on_status(self, job_id: str, job: object) -> None:
        if isinstance(job, Job):
            if job.status.is_final:
                self._on_finished(job_id, job)
            else:
                self.model.queue_job(job)

    @Slot()
    def _on_counts_changed(self) -> None:
        self._check_run_end()
        self.stateChanged.emit()

    def _check_run_end(self) -> None:
        if not self.run.active or self._start_after_restage or not self.run.ids:
            return
        if any(self.model.status_of(i) in UNFINISHED for i in self.run.ids):
            return
        self.last_summary = summary = self.run.end()
        self.running = False  # the next photos wait for Start (or `auto_start`)
        self.backend.pause()
        self.batchFinished.emit(summary)
