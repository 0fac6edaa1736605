"""Where a finished `pixtools serve` job's results go: S3 (when configured) and the webhook.

Why it looks like this:
- Both ride on `pixtools_desktop.cloud`'s durable rows (the `uploads` table
  and the `webhook_outbox`), drained by its `SinkService` workers, so an
  upload or a delivery survives a restart, backs off, and never runs on a job
  worker. Two services, one per lane, because the server wants different
  retry budgets: a client is waiting on an upload, nobody is on a webhook.
- S3 mode follows upstream: `COMPLETED` means the results are *stored*, so a
  job the engine finished reads `PROCESSING` until every output is in S3;
  then `result_urls` are presigned S3 URLs (signed on each read) and the
  archive's URL appears once `archives/{job_id}/bundle.zip` is in. An output
  that cannot be uploaded after the retries fails the job with a message that
  says so; a lost archive only leaves `archive_url` null (as a failed local
  archive does).
- The webhook is queued once the results are published (never on failure)
  and carries upstream's exact body `{"job_id","status","result_urls"}`,
  built at send time so its URLs are fresh. Exhausted retries or a permanent
  4xx turn the job into `COMPLETED_WEBHOOK_FAILED` (the outbox does that).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from pixtools_desktop.cloud import links, outbox, s3, sealed, uploads
from pixtools_desktop.cloud.config import S3Target, SinkConfig
from pixtools_desktop.cloud.service import SinkService
from pixtools_desktop.core.jobs import Job, JobStatus, OutputRecord
from pixtools_desktop.core.logs import log_context, redact
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore
from pixtools_desktop.server.config import ServerConfig
from pixtools_desktop.server.signing import UrlSigner
from pixtools_desktop.server.webhook_guard import WebhookPolicy, make_guard

log = logging.getLogger(__name__)

STORE_FAILED = "The results could not be stored in S3"


def server_s3_enabled(settings: Settings) -> bool:
    """S3 mode is the desktop's own switch (`s3_enabled`, env PIXTOOLS_S3_ENABLED) with a bucket."""
    return bool(settings.s3_enabled and settings.s3_bucket)


def expected_ops(job: Job) -> set[str]:
    """The file-producing outputs a client gets URLs for."""
    return {r.op for r in job.outputs if r.op != "bundle" and not r.skipped}


def _display_base(row) -> str:
    from pixtools_desktop.server.service import display_base

    return display_base(row["original_name"]) if row["original_name"] else row["original_base"]


class Publisher:
    """S3 uploads and webhook deliveries of one server process."""

    def __init__(
        self,
        store: JobStore,
        settings: Settings,
        config: ServerConfig,
        signer: UrlSigner,
        public_base: Callable[[], str],
    ) -> None:
        self.store = store
        self.settings = settings
        self.signer = signer
        self._public_base = public_base
        self._lock = threading.Lock()  # one settle at a time: the webhook is queued once
        self.target = S3Target.from_settings(settings) if server_s3_enabled(settings) else None
        self._uploads: SinkService | None = None
        if self.target is not None:
            self._uploads = SinkService(
                store,
                settings,
                SinkConfig(upload=True, s3=self.target, retry=config.upload_retry),
                upload_workers=2,
                webhook_workers=0,
            )
            self._uploads.add_upload_hook(self.settle)
        self._hooks = SinkService(
            store,
            settings,
            SinkConfig(
                webhook_timeout=config.webhook_timeout_s,
                retry=config.webhook_retry,
                fail_max=int(settings.webhook_fail_max or 5),
                reset_timeout=float(settings.webhook_reset_timeout or 60),
                payload_builder=self._payload,
                url_guard=make_guard(WebhookPolicy(config.allow_private_webhooks, config.port)),
            ),
            upload_workers=0,
            webhook_workers=max(1, config.webhook_concurrency),  # per-host lanes
        )

    @property
    def s3_mode(self) -> bool:
        return self.target is not None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._uploads is not None and self.target is not None:
            log.info(
                "S3 mode: results are stored in S3",
                extra={"bucket": self.target.bucket, "endpoint": self.target.endpoint_url or "AWS"},
            )
            self._uploads.start()
        self._hooks.start()

    def stop(self) -> None:
        if self._uploads is not None:
            self._uploads.stop()
        self._hooks.stop()

    def alive(self) -> bool:
        services = [s for s in (self._uploads, self._hooks) if s is not None]
        return all(s.alive for s in services)

    # ------------------------------------------------------------ publishing
    def publish(self, job: Job, row, archive_path: str | None) -> None:
        """Called once the engine's outputs (and the archive) are on disk; idempotent."""
        if self.target is None:
            self.queue_webhook(job.id)
            return
        records = [r for r in job.outputs if r.op != "bundle" and not r.skipped]
        if archive_path and Path(archive_path).is_file():
            records.append(
                OutputRecord(
                    op="bundle", path=archive_path, size=Path(archive_path).stat().st_size, mime="application/zip"
                )
            )
        rows = uploads.enqueue_job(
            self.store, dataclasses.replace(job, outputs=records), self.target, base_name=_display_base(row)
        )
        missing = expected_ops(job) - {r.op for r in rows}
        if missing:
            self._fail(job.id, f"{STORE_FAILED}: the {', '.join(sorted(missing))} output is missing on the server.")
            return
        assert self._uploads is not None
        self._uploads.wake()
        self.settle(job.id)

    def settle(self, job_id: str) -> None:
        """After an upload attempt: fail the job when an output is lost for good, publish it when all are in."""
        with self._lock:
            job = self.store.get(job_id)
            if job is None or not job.status.is_success:
                return
            state, error = self.s3_state(job)
            if state == "failed":
                self._fail(job_id, f"{STORE_FAILED}: {error}")
            elif state == "stored":
                self.queue_webhook(job_id)

    def s3_state(self, job: Job) -> tuple[str, str | None]:
        """('stored' | 'uploading' | 'failed', error) of a finished job's outputs in S3."""
        rows = {r.op: r for r in uploads.for_job(self.store, job.id) if r.op != "bundle"}
        for op in sorted(expected_ops(job)):
            r = rows.get(op)
            if r is None or r.state in uploads.ACTIVE_STATES:
                return "uploading", None
            if r.state == "failed":
                return "failed", f"{r.last_error} (the {op} output; gave up after {r.attempts} tries)"
        return "stored", None

    def _fail(self, job_id: str, message: str) -> None:
        with log_context(job_id=job_id):
            log.warning("results not stored; job failed", extra={"error": message})
        self.store.set_status(job_id, JobStatus.FAILED, error_message=message)

    def queue_webhook(self, job_id: str) -> None:
        """Hand the job's webhook (if any, and not yet queued) to the outbox."""
        rows = self.store.query(
            "SELECT webhook_url, webhook_sealed, webhook_state FROM server_jobs WHERE job_id = ?", (job_id,)
        )
        job = self.store.get(job_id)
        if not rows or rows[0]["webhook_state"] != "pending" or job is None or not job.status.is_success:
            return
        url = rows[0]["webhook_url"]
        if rows[0]["webhook_sealed"]:
            url = sealed.unseal(rows[0]["webhook_sealed"], sealed.store_key(self.store))
        outbox.enqueue(self.store, job, url, signed=False)  # deduplicated: a second call adds nothing
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE server_jobs SET webhook_state = 'queued' WHERE job_id = ? AND webhook_state = 'pending'",
                (job_id,),
            )
        log.info("webhook queued", extra={"job_id": job_id, "url": redact(url)})
        self._hooks.wake()

    # ------------------------------------------------------------ reading
    def presigned(self, job_id: str) -> tuple[dict[str, str], str | None]:
        """(op -> presigned S3 URL, archive URL or None), signed now."""
        return links.result_urls(self.store, job_id, self.settings)

    def hmac_urls(self, job: Job, base_url: str) -> dict[str, str]:
        return {
            r.op: self.signer.sign(base_url, job.id, r.op)
            for r in job.outputs
            if r.op != "bundle" and not r.skipped and Path(r.path).exists()
        }

    def _payload(self, job: Job, event: str) -> dict:
        """Upstream's webhook body, exactly: no extra fields, no signature."""
        urls = self.presigned(job.id)[0] if self.target is not None else self.hmac_urls(job, self._public_base())
        return {"job_id": job.id, "status": "COMPLETED", "result_urls": urls}

    def s3_health(self) -> str:
        """'ok' after a head_bucket, 'unreachable' otherwise (upstream's words)."""
        assert self.target is not None
        try:
            s3.get_client(self.target, fast=True).head_bucket(Bucket=self.target.bucket)
        except Exception as exc:  # noqa: BLE001
            log.warning("S3 health check failed", extra={"error": s3.explain(exc, self.target.bucket)[0]})
            return "unreachable"
        return "ok"

    # ------------------------------------------------------------ retention
    def objects_of(self, job_ids: list[str]) -> list[tuple[str | None, str, str]]:
        """(endpoint, bucket, key) of the jobs' stored objects (read before the rows are deleted)."""
        found = []
        for job_id in job_ids:
            rows = uploads.for_job(self.store, job_id)
            found += [(r.endpoint_url, r.bucket, r.key) for r in rows if r.state == "done"]
        return found

    def delete_objects(self, objects: list[tuple[str | None, str, str]]) -> None:
        """Best effort, like upstream's one-day expiry: a failure is logged, the bucket's lifecycle remains."""
        if self.target is None:
            return
        for endpoint, bucket, key in objects:
            try:
                client = s3.get_client(dataclasses.replace(self.target, endpoint_url=endpoint))
                client.delete_object(Bucket=bucket, Key=key)
            except Exception as exc:  # noqa: BLE001
                log.warning(
                    "could not delete an expired S3 object", extra={"key": key, "error": s3.explain(exc, bucket)[0]}
                )
