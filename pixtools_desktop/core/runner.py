"""The one local scheduler: the window, the CLI and `pixtools serve` all run jobs on it.

Standard ops run on `workers` threads (or, with `isolate_jobs`, each thread
drives a worker process); jobs that need the model go to one dedicated model
thread, where the denoiser is loaded lazily by `denoiser_factory` the first
time a denoise runs (torch lives in that thread only; the caller passes the
factory, `pixtools_desktop.wiring.denoiser_factory`, as core does not import
ml; without one a denoise job fails). Workers claim jobs
from the store, so the store stays the truth and several processes can share
one database. Events go to plain listeners from worker threads (see
`core.backend`); the window adapts them to Qt signals in `ui/bridge.py`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pixtools_desktop.core.backend import JobEvents, JobListener, remove_jobs, retry_jobs
from pixtools_desktop.core.jobs import Job, JobStatus
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore, NewJob
from pixtools_desktop.core.worker_loop import WorkerLoop

if TYPE_CHECKING:
    from pixtools_desktop.core.engine import DenoiserFactory
    from pixtools_desktop.core.procpool import ProcessPool

log = logging.getLogger(__name__)

IDLE_POLL_S = 0.5  # also picks up jobs added by another process


def default_worker_count(settings: Settings) -> int:
    if settings.workers and settings.workers > 0:
        return settings.workers
    return max(1, os.cpu_count() or 1)


class LocalRunner:
    """Runs local jobs from a store on worker threads until stopped (implements core.backend.Backend)."""

    def __init__(
        self,
        store: JobStore,
        settings: Settings,
        *,
        workers: int | None = None,
        batch_ids: set[str] | None = None,
        denoiser_factory: DenoiserFactory | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.workers = workers or default_worker_count(settings)
        self.batch_ids = batch_ids  # None: every local job in the store
        self.denoiser_factory = denoiser_factory
        self.events = JobEvents()
        self._loop = WorkerLoop("pixtools", self._step, next_due=self._next_due, poll_s=IDLE_POLL_S)
        self._paused = threading.Event()
        self._cancelled: set[str] = set()  # fast path: checked at every cancel point without a query
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._procs: ProcessPool | None = None  # worker processes for the std lane, made at start()

    # ---------------------------------------------------------------- hooks
    def add_listener(self, listener: JobListener) -> None:
        self.events.add_listener(listener)

    def add_finish_hook(self, hook: Callable[[Job], None]) -> None:
        """Called on the worker thread with the final job row (sinks use it)."""
        self.events.add_finish_hook(hook)

    # ---------------------------------------------------------------- control
    def start(self) -> None:
        if self._loop.running:
            return
        recovered = self.store.recover_interrupted()
        if recovered:
            log.info("re-queued interrupted jobs", extra={"count": len(recovered)})
        if self.settings.isolate_jobs and self._procs is None:
            from pixtools_desktop.core.procpool import ProcessPool

            self._procs = ProcessPool(self.workers)
            self._procs.prestart()
        self._loop.start(["std"] * self.workers + ["model"])

    def submit(self, new_jobs: list[NewJob]) -> list[Job]:
        """Thread-safe (the window adds jobs from an I/O thread)."""
        jobs = self.store.add_jobs(new_jobs)
        if self.batch_ids is not None:
            self.batch_ids.update(j.batch_id for j in jobs if j.batch_id)
        self.wake()
        return jobs

    def wake(self) -> None:
        self._loop.wake()

    def pause(self) -> None:
        """Stop starting new jobs; running ones finish."""
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()
        self.wake()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def cancel(self, job_id: str) -> None:
        """A waiting job is cancelled at once (and reported finished); a running one stops at its
        next cancel point (between tiles for denoise, between steps otherwise)."""
        result = self.store.request_cancel(job_id)
        if result == JobStatus.PROCESSING:
            self._cancelled.add(job_id)
        elif result == JobStatus.CANCELLED:
            job = self.store.get(job_id)
            if job is not None:
                self.events.finished(job)
        self.wake()

    def retry(self, job_ids: list[str]) -> int:
        """Failed and cancelled jobs go back to the queue."""
        return retry_jobs(self, self.store, job_ids)

    def remove(self, job_ids: list[str]) -> list[str]:
        """Forget finished or waiting jobs; returns the running ones, which are kept (cancel them first)."""
        return remove_jobs(self.store, job_ids)

    def stop(self, timeout: float | None = 60.0) -> None:
        """Stop taking work; running jobs stop at their next cancel point (re-queued for the next start);
        every thread is joined and the worker processes are closed."""
        self._loop.stop(timeout)
        if self._procs is not None:
            self._procs.close()
            self._procs = None

    def __enter__(self) -> LocalRunner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def busy(self) -> int:
        """Jobs running right now."""
        with self._busy_lock:
            return self._busy

    running_threads = busy

    @property
    def alive(self) -> bool:
        """Every worker thread started and running (the server's health check)."""
        return self._loop.alive

    @property
    def model_thread(self) -> threading.Thread | None:
        threads = self._loop.threads("model")
        return threads[0] if threads else None

    def wait_idle(self, batch_id: str | None = None, timeout: float | None = None, poll: float = 0.1) -> bool:
        """Block until no job of the batch is pending or processing."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if not self.store.has_unfinished(batch_id=batch_id):
                return True
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(poll)

    # ---------------------------------------------------------------- workers
    def _claim(self, lane: str) -> Job | None:
        if self.batch_ids is None:
            return self.store.claim_next(lane)
        for batch_id in list(self.batch_ids):
            job = self.store.claim_next(lane, batch_id=batch_id)
            if job is not None:
                return job
        return None

    def _next_due(self, lane: str) -> float | None:
        return None if self._paused.is_set() else self.store.next_wakeup(lane)

    def _step(self, lane: str) -> bool:
        if self._paused.is_set():
            return False
        job = self._claim(lane)
        if job is None:
            return False
        if self._paused.is_set():  # paused between the check and the claim: it goes back untouched
            self.store.requeue(job.id)
            return False
        # The engine (numpy, Pillow) loads with the first job, not with the runner:
        # the window builds its runner before its first paint.
        from pixtools_desktop.core.engine import run_job
        from pixtools_desktop.core.executor import execute_job

        factory = self.denoiser_factory if lane == "model" else None
        engine = self._procs.run if (lane == "std" and self._procs is not None) else run_job
        with self._busy_lock:
            self._busy += 1
        try:
            self.events.emit("started", job.id, job)
            final = execute_job(
                self.store,
                job,
                self.settings,
                denoiser_factory=factory,
                on_progress=lambda jid, f: self.events.emit("progress", jid, f),
                is_cancelled=self._cancelled.__contains__,
                is_shutting_down=self._loop.stopping.is_set,
                engine=engine,
            )
            self._cancelled.discard(job.id)
            self.events.finished(final)
        finally:
            with self._busy_lock:
                self._busy -= 1
        return True
