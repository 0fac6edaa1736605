"""The window's local backend: a QThreadPool for standard ops, one model QThread.

Implements `core.backend.Backend`, running every job through
`core.executor.execute_job` like the CLI does; only the scheduling is Qt's:

- Standard jobs: `_StdRunnable`s on a private QThreadPool claim
  `store.claim_next("std")` until the lane is empty (QRunnable is no QObject,
  so the scheduler's `_Signals` QObject carries their signals, superqt style).
- Denoise jobs: one long-lived `_ModelWorker` moved to a dedicated QThread
  (PySide6's mandelbrot example). torch and the model load lazily *there*, in
  `default_denoiser_factory`, the first time a denoise runs.
- Workers never touch widgets. They call the Backend listeners with plain
  data (job ids, floats, Job rows) from their own thread; the window's bridge
  turns those into queued signals. Dispatch decisions happen in `@Slot`s on
  the GUI thread.
- Quit: `stop()` stops taking work, flags shutdown (running jobs stop at their
  next cancel point and are re-queued for the next start), then waits for the
  pool and the model thread. No thread outlives the scheduler.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, QTimer, Signal, Slot

from pixtools_desktop.core.backend import JobEvents, JobListener
from pixtools_desktop.core.engine import default_denoiser_factory, run_job
from pixtools_desktop.core.executor import execute_job
from pixtools_desktop.core.jobs import Job, JobStatus
from pixtools_desktop.core.runner import default_worker_count
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore, NewJob

log = logging.getLogger(__name__)

POLL_MS = 1000  # picks up retry backoffs and jobs another process added


def mark_qt_worker_thread() -> None:
    """Python sees a Qt thread as a `_DummyThread` that never dies (3.11); tag it so
    the Python thread-leak check skips it (the Qt checks in tests/ui cover Qt threads)."""
    t = threading.current_thread()
    if isinstance(t, threading._DummyThread):  # type: ignore[attr-defined]
        t._pixtools_allowed_leak = True  # type: ignore[attr-defined]


class _Signals(QObject):
    """Lives on the GUI thread; workers emit, the scheduler's slots receive (queued)."""

    std_drained = Signal(int)  # id of the runnable that ran out of work
    model_drained = Signal()
    kick_model = Signal()  # GUI -> model thread
    wake = Signal()  # any thread -> GUI thread: dispatch again


class _StdRunnable(QRunnable):
    def __init__(self, scheduler: "QtScheduler") -> None:
        super().__init__()
        self._scheduler = scheduler
        self.token = 0  # set by the scheduler's RunnableKeeper, which holds us until the pool is done

    def run(self) -> None:
        mark_qt_worker_thread()
        try:
            self._scheduler._drain_lane("std", None)
        finally:
            self._scheduler._signals.std_drained.emit(self.token)


class _ModelWorker(QObject):
    """Owns the denoise lane; lives on the model QThread for the scheduler's lifetime."""

    def __init__(self, scheduler: "QtScheduler") -> None:
        super().__init__()
        self._scheduler = scheduler

    @Slot()
    def drain(self) -> None:
        mark_qt_worker_thread()
        try:
            self._scheduler._drain_lane("model", self._scheduler.denoiser_factory)
        finally:
            self._scheduler._signals.model_drained.emit()


class QtScheduler(QObject):
    """Local Backend for the window (see the module docstring)."""

    def __init__(
        self,
        store: JobStore,
        settings: Settings,
        parent: QObject | None = None,
        *,
        workers: int | None = None,
        denoiser_factory=default_denoiser_factory,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.settings = settings
        self.denoiser_factory = denoiser_factory
        self.events = JobEvents()
        self._stopping = threading.Event()
        self._paused = threading.Event()
        self._cancelled: set[str] = set()
        self._started = False

        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(workers or default_worker_count(settings))
        self._procs = None  # worker processes for standard jobs (core.procpool), made at start()
        from pixtools_desktop.ui.tasks import RunnableKeeper

        self._runnables = RunnableKeeper(self._pool)
        self._signals = _Signals(self)
        self._signals.std_drained.connect(self._on_std_drained)
        self._signals.model_drained.connect(self._on_model_drained)
        self._signals.wake.connect(self._pump)

        self._model_thread = QThread(self)
        self._model_thread.setObjectName("pixtools-model")
        self._model_worker = _ModelWorker(self)
        self._model_worker.moveToThread(self._model_thread)
        self._signals.kick_model.connect(self._model_worker.drain)
        self._model_busy = False

        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._pump)

    # ------------------------------------------------------------ Backend protocol
    def start(self) -> None:
        if self._started:
            return
        self._started = True
        recovered = self.store.recover_interrupted()
        if recovered:
            log.info("re-queued interrupted jobs", extra={"count": len(recovered)})
        if self.settings.isolate_jobs and self._procs is None:
            from pixtools_desktop.core.procpool import ProcessPool

            self._procs = ProcessPool(self._pool.maxThreadCount())
            self._procs.prestart()
        self._model_thread.start()
        self._poll.start()
        self._pump()

    def stop(self, timeout: float | None = 60.0) -> None:
        """Stop taking work, interrupt running jobs at their next cancel point, wait."""
        self._stopping.set()
        self._poll.stop()
        ms = -1 if timeout is None else int(timeout * 1000)
        self._runnables.wait_and_clear(ms)
        if self._model_thread.isRunning():
            self._model_thread.quit()
            self._model_thread.wait(ms if ms >= 0 else QThread_forever())
        if self._procs is not None:
            self._procs.close()
            self._procs = None
        self._started = False

    def submit(self, new_jobs: list[NewJob]) -> list[Job]:
        """Thread-safe: the window adds jobs from a worker thread."""
        jobs = self.store.add_jobs(new_jobs)
        self.wake()
        return jobs

    def cancel(self, job_id: str) -> None:
        """A waiting job is cancelled at once; a running one stops at its next cancel point."""
        if self.store.request_cancel(job_id) == JobStatus.PROCESSING:
            self._cancelled.add(job_id)  # fast path; the executor also reads the store's flag

    def pause(self) -> None:
        """Start no new job; running ones finish."""
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()
        self.wake()

    def wake(self) -> None:
        """Thread-safe: a dispatch on the GUI thread (queued when called from a worker)."""
        self._signals.wake.emit()

    def add_listener(self, listener: JobListener) -> None:
        self.events.add_listener(listener)

    def add_finish_hook(self, hook: Callable[[Job], None]) -> None:
        self.events.add_finish_hook(hook)

    # ------------------------------------------------------------ state
    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    @property
    def running_threads(self) -> int:
        return self._pool.activeThreadCount() + (1 if self._model_busy else 0)

    @property
    def model_thread(self) -> QThread:
        return self._model_thread

    # ------------------------------------------------------------ dispatch (GUI thread)
    def _runnable_count(self, lane: str, limit: int) -> int:
        rows = self.store.query(
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM jobs WHERE status = 'PENDING' AND lane = ? "
            "AND backend = 'local' AND not_before <= ? LIMIT ?)",
            (lane, time.time(), limit),
        )
        return int(rows[0]["n"]) if rows else 0

    @Slot()
    def _pump(self) -> None:
        if not self._started or self._stopping.is_set() or self._paused.is_set():
            return
        free = self._pool.maxThreadCount() - len(self._runnables)
        if free > 0:
            for _ in range(self._runnable_count("std", free)):
                self._runnables.start(_StdRunnable(self))
        if not self._model_busy and self._runnable_count("model", 1):
            self._model_busy = True
            self._signals.kick_model.emit()

    @Slot(int)
    def _on_std_drained(self, token: int) -> None:
        self._runnables.retire(token)
        self._pump()

    @Slot()
    def _on_model_drained(self) -> None:
        self._model_busy = False
        self._pump()

    # ------------------------------------------------------------ worker side
    def _should_stop(self) -> bool:
        return self._stopping.is_set()

    def _drain_lane(self, lane: str, factory) -> None:
        """Claim and run jobs of one lane until it is empty, paused or stopping."""
        while not self._stopping.is_set() and not self._paused.is_set():
            try:
                job = self.store.claim_next(lane)
            except Exception:  # noqa: BLE001 - e.g. the database briefly locked by a CLI run
                log.exception("claim failed")
                return
            if job is None:
                return
            self.events.emit("started", job.id, job)
            final = execute_job(
                self.store,
                job,
                self.settings,
                denoiser_factory=factory,
                on_progress=self._on_progress,
                is_cancelled=self._cancelled.__contains__,
                is_shutting_down=self._should_stop,
                engine=self._procs.run if (lane == "std" and self._procs is not None) else run_job,
            )
            self._cancelled.discard(job.id)
            self.events.finished(final)

    def _on_progress(self, job_id: str, fraction: float) -> None:
        self.events.emit("progress", job_id, fraction)


def QThread_forever() -> int:  # noqa: N802 - QThread.wait() with no deadline
    return 2**31 - 1
