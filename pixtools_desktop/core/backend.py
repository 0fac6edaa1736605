"""The interface every backend offers, so front ends never care which one runs.

`LocalRunner` (threads on this machine; the window, the CLI and `serve` all
use it) and `RemoteBackend` (a PixTools API server) implement it. Events reach
listeners as `(event, job_id, payload)` from *worker* threads:
"started" (payload: Job), "progress" (payload: float 0..1), "finished"
(payload: the final Job), "status" (payload: Job, for any other change).
A Qt front end re-emits them as queued signals; nothing here touches Qt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from pixtools_desktop.core.jobs import Job
from pixtools_desktop.core.store import JobStore, NewJob

JobListener = Callable[[str, str, object], None]
log = logging.getLogger(__name__)


@runtime_checkable
class Backend(Protocol):
    def start(self) -> None: ...

    def stop(self, timeout: float | None = 60.0) -> None: ...

    def submit(self, new_jobs: list[NewJob]) -> list[Job]: ...

    def cancel(self, job_id: str) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def wake(self) -> None: ...

    def add_listener(self, listener: JobListener) -> None: ...

    def add_finish_hook(self, hook: Callable[[Job], None]) -> None: ...


class JobEvents:
    """A backend's listeners and finish hooks, called from worker threads.

    One broken listener or hook is logged and skipped: it must never stop a
    worker or keep a job's "finished" event from the others.
    """

    def __init__(self) -> None:
        self._listeners: list[JobListener] = []
        self._finish_hooks: list[Callable[[Job], None]] = []

    def add_listener(self, listener: JobListener) -> None:
        self._listeners.append(listener)

    def add_finish_hook(self, hook: Callable[[Job], None]) -> None:
        self._finish_hooks.append(hook)

    def emit(self, event: str, job_id: str, payload: object = None) -> None:
        for listener in self._listeners:
            try:
                listener(event, job_id, payload)
            except Exception:
                log.exception("listener failed")

    def finished(self, job: Job) -> None:
        """Run the finish hooks (sinks), then tell listeners."""
        for hook in self._finish_hooks:
            try:
                hook(job)
            except Exception:
                log.exception("finish hook failed")
        self.emit("finished", job.id, job)


def retry_jobs(backend: Backend, store: JobStore, job_ids: list[str]) -> int:
    """Failed and cancelled jobs back to the queue, for any backend (each picks PENDING rows up)."""
    if not job_ids:
        return 0
    n = store.retry_failed(job_ids=job_ids)
    backend.wake()
    return n


def remove_jobs(store: JobStore, job_ids: list[str]) -> list[str]:
    """Forget the given jobs except running ones, which are returned (cancel them first)."""
    running = [j.id for j in store.get_many(job_ids) if j.status.value == "PROCESSING"]
    keep = set(running)
    gone = [i for i in job_ids if i not in keep]
    if gone:
        store.delete(gone)
    return running
