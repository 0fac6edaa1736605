"""Thread scheduler for headless front ends (CLI, `pixtools serve`).

Standard ops run on a pool sized to the machine; jobs that need the model go
to one dedicated model thread that owns the denoiser (loaded lazily, on that
thread). Workers claim jobs from the store, so the store stays the truth and
several processes can share one database. The window has its own Qt
scheduler (QThreadPool + model QThread) over the same `execute_job`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable

from pixtools_desktop.core.backend import JobEvents, JobListener
from pixtools_desktop.core.engine import default_denoiser_factory, run_job
from pixtools_desktop.core.executor import execute_job
from pixtools_desktop.core.jobs import Job
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore, NewJob

log = logging.getLogger(__name__)

IDLE_POLL_S = 0.5  # also picks up jobs added by another process



def default_worker_count(settings: Settings) -> int:
    if settings.workers and settings.workers > 0:
        return settings.workers
    return max(1, os.cpu_count() or 1)


class LocalRunner:
    """Runs local jobs from a store on worker threads until stopped."""

    def __init__(
        self,
        store: JobStore,
        settings: Settings,
        *,
        workers: int | None = None,
        batch_ids: set[str] | None = None,
        denoiser_factory=default_denoiser_factory,
    ) -> None:
        self.store = store
        self.settings = settings
        self.workers = workers or default_worker_count(settings)
        self.batch_ids = batch_ids  # None: every local job in the store
        self.denoiser_factory = denoiser_factory
        self.events = JobEvents()
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._paused = threading.Event()
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._procs = None  # ProcessPool for the std lane, made at start()

    # ---------------------------------------------------------------- hooks
    def add_listener(self, listener: JobListener) -> None:
        self.events.add_listener(listener)

    def add_finish_hook(self, hook: Callable[[Job], None]) -> None:
        """Called on the worker thread with the final job row (sinks use it)."""
        self.events.add_finish_hook(hook)

    # ---------------------------------------------------------------- control
    def start(self) -> None:
        recovered = self.store.recover_interrupted()
        if recovered:
            log.info("re-queued interrupted jobs", extra={"count": len(recovered)})
        if self.settings.isolate_jobs:
            from pixtools_desktop.core.procpool import ProcessPool

            self._procs = ProcessPool(self.workers)
            self._procs.prestart()
        lanes = ["std"] * self.workers + ["model"]
        for i, lane in enumerate(lanes):
            t = threading.Thread(target=self._loop, args=(lane,), name=f"pixtools-{lane}-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def submit(self, new_jobs: list[NewJob]) -> list[Job]:
        jobs = self.store.add_jobs(new_jobs)
        if self.batch_ids is not None:
            self.batch_ids.update(j.batch_id for j in jobs if j.batch_id)
        self.wake()
        return jobs

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

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
        self.store.request_cancel(job_id)
        self.wake()

    def stop(self, timeout: float | None = 60.0) -> None:
        """Stop taking work and wait for running jobs to reach a cancel point or finish."""
        self._stopping.set()
        self.wake()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()
        if self._procs is not None:
            self._procs.close()
            self._procs = None

    def __enter__(self) -> "LocalRunner":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def busy(self) -> int:
        with self._busy_lock:
            return self._busy

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

    def _idle_wait(self, lane: str) -> None:
        timeout = IDLE_POLL_S
        wakeup = self.store.next_wakeup(lane)
        if wakeup is not None:
            timeout = max(0.01, min(timeout, wakeup - time.time()))
        with self._wake:
            self._wake.wait(timeout)

    def _loop(self, lane: str) -> None:
        factory = self.denoiser_factory if lane == "model" else None
        engine = self._procs.run if (lane == "std" and self._procs is not None) else run_job
        while not self._stopping.is_set():
            if self._paused.is_set():
                with self._wake:
                    self._wake.wait(IDLE_POLL_S)
                continue
            try:
                job = self._claim(lane)
            except Exception:  # noqa: BLE001 - e.g. database briefly locked by another process
                log.exception("claim failed")
                time.sleep(IDLE_POLL_S)
                continue
            if job is None:
                self._idle_wait(lane)
                continue
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
                    is_shutting_down=self._stopping.is_set,
                    engine=engine,
                )
                self.events.finished(final)
            finally:
                with self._busy_lock:
                    self._busy -= 1
