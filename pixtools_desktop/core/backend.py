"""The interface every backend offers, so front ends never care which one runs.

`LocalRunner` (threads, this machine), the window's Qt scheduler, and
`RemoteBackend` (a PixTools API server) all implement it. Events reach
listeners as `(event, job_id, payload)` from *worker* threads:
"started" (payload: Job), "progress" (payload: float 0..1), "finished"
(payload: the final Job), "status" (payload: Job, for any other change).
A Qt front end re-emits them as queued signals; nothing here touches Qt.
"""

from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

from pixtools_desktop.core.jobs import Job
from pixtools_desktop.core.store import NewJob

JobListener = Callable[[str, str, object], None]


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
