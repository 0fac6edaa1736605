"""The window's S3 uploads and webhooks: started after the first paint, only when configured.

The cloud layer imports boto3 and httpx (~2.7 s of a 3.3 s start under load), so
the sinks start from the event loop once the window has painted, and not at all
while neither S3 nor a webhook is set. Jobs that finish before they start are
held and handed over when they do.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from pixtools_desktop.core.jobs import Job
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore
from pixtools_desktop.ui.first_paint import after_first_paint

if TYPE_CHECKING:
    from pixtools_desktop.cloud.service import SinkService

log = logging.getLogger(__name__)

PAINT_FALLBACK_MS = 3000  # a start that waits for the first paint waits at most this long


class CloudSinks(QObject):
    def __init__(
        self, store: JobStore, settings: Settings, tell: Callable[[str], None], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.settings = settings
        self._tell = tell  # a sentence for the status bar
        self.sinks: SinkService | None = None
        self._lock = threading.Lock()
        self._closed = False  # a deferred start must not run after close()
        self._backlog: list[Job] | None = []  # finished jobs held until the deferred start

    def start_after_paint(self, window: QWidget | None) -> None:
        if window is None or not window.isVisible():
            self.start()
            return
        after_first_paint(window, self.start, fallback_ms=PAINT_FALLBACK_MS)  # also if the paint came already

    def wanted(self) -> bool:
        """S3 uploads switched on or a webhook URL set: only then do the sinks run (and boto3/httpx load)."""
        return bool(self.settings.s3_enabled or (self.settings.webhook_url or "").strip())

    def start(self) -> None:
        """S3 uploads and webhooks drain on the cloud layer's own threads (resuming pending ones)."""
        if self._closed or self.sinks is not None or not self.wanted():
            with self._lock:
                self._backlog = None  # nothing will drain them: a later start begins afresh
            return
        from pixtools_desktop.cloud.service import SinkService

        try:
            sinks = SinkService(self.store, self.settings)
            sinks.start()
        except Exception:  # noqa: BLE001 - a bad cloud setting must not stop the window
            log.exception("cloud sinks could not start")
            self._tell("Cloud upload/webhook settings are invalid: see the log.")
            sinks = None
        with self._lock:
            backlog, self._backlog = self._backlog or [], None
            self.sinks = sinks
        for job in backlog:  # finished between the backend's start and this (deferred) start
            if sinks is not None:
                sinks.hook(job)

    def stop(self) -> None:
        with self._lock:
            sinks, self.sinks = self.sinks, None
            self._backlog = []
        if sinks is not None:
            sinks.stop()

    def close(self) -> None:
        """No start after this (the window is shutting down)."""
        self._closed = True

    def hook(self, job: Job) -> None:
        """Backend finish hook (worker thread): queue the job's uploads/webhook; never blocks."""
        with self._lock:
            sinks = self.sinks
            if sinks is None and self._backlog is not None:
                self._backlog.append(job)  # the sinks start a moment later (after the first paint)
                return
        if sinks is not None:
            sinks.hook(job)
