"""Backend events -> queued Qt signals on the GUI thread: the one Qt adapter of the core.

The backends (`core.runner.LocalRunner`, `remote.backend.RemoteBackend`) are
Qt-free and call listeners `(event, job_id, payload)` from their plain worker
threads (core/backend.py). The bridge is a QObject living on the GUI thread
(napari's `_qt` layer does the same for its core): `listener` only emits, and
since the emitting thread is not the bridge's thread Qt queues each call, so
the receivers (`@Slot`s of `ui.queue_controller.QueueController`) run on the
GUI thread. Nothing here decides anything.
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
