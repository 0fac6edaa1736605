"""SinkService: background workers that drain the uploads table and the webhook outbox.

The window starts one next to its scheduler, the CLI one per run. Its `hook`
is a backend finish hook: it only inserts rows (never touches the network),
so job workers are never slowed. Workers claim rows atomically, so several
services (the window and a CLI run on one database) can share the work, and
rows left behind by a crash are picked up at the next start.

Webhook workers form per-host lanes: each worker claims a delivery to a host
no other worker is sending to, so `webhook_workers` bounds the deliveries in
flight and one hanging receiver holds one worker, not the queue.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from pixtools_desktop.cloud import outbox, s3, uploads
from pixtools_desktop.cloud.config import S3Target, SinkConfig, url_host
from pixtools_desktop.core.jobs import Job, JobStatus
from pixtools_desktop.core.logs import log_context, redact
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore
from pixtools_desktop.core.worker_loop import WorkerLoop

log = logging.getLogger(__name__)

IDLE_POLL_S = 0.5  # also notices rows another process queued


class SinkService:
    """Runs upload and webhook workers on plain threads until `stop()`."""

    def __init__(
        self,
        store: JobStore,
        settings: Settings,
        config: SinkConfig | None = None,
        *,
        upload_workers: int = 2,
        webhook_workers: int = 2,
        transfer_config: Any = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.config = config or SinkConfig.from_settings(settings)
        self.upload_workers = upload_workers
        self.webhook_workers = webhook_workers
        self.transfer_config = transfer_config or s3.transfer_config()
        self._loop = WorkerLoop("pixtools-sink", self._step, next_due=self._next_due, poll_s=IDLE_POLL_S)
        self._clients: dict[str | None, Any] = {}
        self._clients_lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._upload_hooks: list[Callable[[str], None]] = []
        self._busy_hosts: set[str] = set()  # webhook hosts a worker of this service is sending to
        self._busy_lock = threading.Lock()

    def add_upload_hook(self, hook: Callable[[str], None]) -> None:
        """Called on the upload worker with the job id after each upload attempt is recorded.

        `pixtools serve` uses it to publish a job (or fail it) once its uploads settle.
        """
        self._upload_hooks.append(hook)

    # ------------------------------------------------------------ control
    def start(self) -> None:
        """Re-queue rows a dead process left in flight, then start the workers."""
        if self._loop.running:
            return
        recovered = uploads.recover_interrupted(self.store) + outbox.recover_interrupted(self.store)
        if recovered:
            log.info("resumed interrupted uploads/deliveries", extra={"count": len(recovered)})
        self._http = httpx.Client(follow_redirects=False, timeout=self.config.webhook_timeout)
        self._loop.start(["upload"] * self.upload_workers + ["webhook"] * self.webhook_workers)

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop claiming; an upload or delivery in flight finishes (each is bounded by its timeouts)."""
        self._loop.stop(timeout)
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> SinkService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wake(self) -> None:
        self._loop.wake()

    @property
    def alive(self) -> bool:
        """Every worker thread started and running (health checks)."""
        return self._loop.alive

    # ------------------------------------------------------------ the finish hook
    def hook(self, job: Job) -> None:
        """Backend finish hook (worker thread): queue uploads and a delivery; never raises, never waits on I/O."""
        try:
            self.enqueue(job)
        except Exception:  # a sink problem must never disturb the job worker
            log.exception("could not queue the job's uploads/webhook", extra={"job_id": job.id})
        self.wake()

    def enqueue(self, job: Job) -> None:
        cfg = self.config
        with log_context(request_id=job.request_id, job_id=job.id):
            if job.status == JobStatus.CANCELLED or not job.status.is_final:
                return
            if cfg.upload and job.status.is_success and cfg.s3 is not None:
                rows = uploads.enqueue_job(self.store, job, cfg.s3)
                if rows:
                    log.info("uploads queued", extra={"count": len(rows), "bucket": cfg.s3.bucket})
            if cfg.webhook_url and (job.status.is_success or cfg.webhook_on_failure):
                if outbox.enqueue(self.store, job, cfg.webhook_url, signed=bool(cfg.webhook_secret)):
                    log.info("webhook queued", extra={"url": redact(cfg.webhook_url)})

    # ------------------------------------------------------------ waiting (CLI, tests)
    def unfinished(self, job_ids: Iterable[str]) -> int:
        """Uploads and deliveries of these jobs still pending or in flight."""
        ids = list(job_ids)
        n = 0
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            n += self.store.query(
                f"SELECT (SELECT COUNT(*) FROM uploads WHERE state IN ('pending','uploading') AND job_id IN ({marks}))"
                f" + (SELECT COUNT(*) FROM webhook_outbox WHERE state IN ('pending','sending')"
                f" AND job_id IN ({marks}))",
                chunk + chunk,
            )[0][0]
        return n

    def wait(self, job_ids: Iterable[str], timeout: float) -> bool:
        """Block until every upload and delivery of these jobs is settled, at most `timeout` s."""
        ids = list(job_ids)
        deadline = time.monotonic() + timeout
        while self.unfinished(ids):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    # ------------------------------------------------------------ workers
    def _client_for(self, endpoint_url: str | None) -> Any:
        with self._clients_lock:
            client = self._clients.get(endpoint_url)
            if client is None:
                base = self.config.s3 or S3Target.from_settings(self.settings)
                target = dataclasses.replace(base, endpoint_url=endpoint_url)
                client = self._clients[endpoint_url] = s3.make_client(target)
            return client

    def _next_due(self, lane: str) -> float | None:
        if lane == "upload":
            return uploads.next_due(self.store)
        with self._busy_lock:
            busy = set(self._busy_hosts)
        return outbox.next_due(self.store, busy)  # a row for a host another worker is sending to is not due here

    def _step(self, lane: str) -> bool:
        return self._step_upload() if lane == "upload" else self._step_webhook()

    def _step_upload(self) -> bool:
        row = uploads.claim_next(self.store)
        if row is None:
            return False
        job = self.store.get(row.job_id)
        with log_context(request_id=job.request_id if job else None, job_id=row.job_id):
            try:
                client = self._client_for(row.endpoint_url)
            except Exception as exc:  # noqa: BLE001 - e.g. an unknown profile
                message, _ = s3.explain(exc, row.bucket)
                uploads.mark_failed(self.store, row, message, retry_at=None)
            else:
                uploads.process_one(self.store, row, client, self.config.retry, self.transfer_config)
        for hook in self._upload_hooks:
            try:
                hook(row.job_id)
            except Exception:  # a hook problem must not stop the upload worker
                log.exception("upload hook failed", extra={"job_id": row.job_id})
        self.wake()  # a delivery may have been waiting for this upload
        return True

    def _step_webhook(self) -> bool:
        with self._busy_lock:  # claim and mark the host busy together, so two workers never share a host
            row = outbox.claim_next(self.store, skip_hosts=self._busy_hosts)
            if row is None:
                return False
            host = url_host(row.url)
            self._busy_hosts.add(host)
        try:
            assert self._http is not None
            outbox.process_one(self.store, row, self.config, self._http, self.settings)
        finally:
            with self._busy_lock:
                self._busy_hosts.discard(host)
            self.wake()  # a delivery to this host may have been waiting for the lane
        return True
