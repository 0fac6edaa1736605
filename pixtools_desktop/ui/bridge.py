"""Backend events -> queued Qt signals on the GUI thread.

Backends call listeners `(event, job_id, payload)` from worker threads
(core/backend.py). The bridge lives on the GUI thread and re-emits each event
as a signal; since the emitting thread differs from the receivers' thread,
Qt queues the call and the window's `@Slot`s run on the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class BackendBridge(QObject):
    started = Signal(str, object)  # job id, Job
    progress = Signal(str, float)  # job id, 0..1
    finished = Signal(str, object)  # job id, final Job
    status = Signal(str, object)  # job id, Job

    def listener(self, event: str, job_id: str, payload: object) -> None:
        """Called on a worker thread; must do nothing but emit."""
        if event == "progress":
            self.progress.emit(job_id, float(payload))  # type: ignore[arg-type]
        elif event == "started":
            self.started.emit(job_id, payload)
        elif event == "finished":
            self.finished.emit(job_id, payload)
        else:
            self.status.emit(job_id, payload)
