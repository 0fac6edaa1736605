"""The server's side of a job: accept an upload, run it on the engine, publish the results.

Why it looks like this:
- Jobs are ordinary rows of the server's own JobStore run by
  `core.runner.LocalRunner` (standard ops on a pool, denoise on the model
  thread: the GPU when the machine has one), so `pixtools serve` runs exactly
  the engine the desktop runs.
- Server-only facts (original file name, webhook URL, archive, idempotency
  key) live in `server_jobs` / `idempotency_keys` (migration 10). The
  `server_jobs` row is written *before* the job row, so the runner can never
  finish a job the server knows nothing about; an orphan row left by a crash
  in between is ignored.
- After a job completes, a small finisher pool builds the ZIP archive and
  hands the job to `publish.Publisher`: S3 uploads when S3 is configured,
  then the webhook through the durable outbox. All of it is recorded, so a
  restart finishes what a crash interrupted. Until the archive exists,
  `archive_url` reads null (as upstream).
- Without S3, results are served by this process under expiring HMAC URLs;
  with S3, a job reads PROCESSING until its outputs are stored, then its URLs
  are S3 presigned ones (see publish.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from pixtools_desktop import wiring
from pixtools_desktop.cloud import outbox, sealed
from pixtools_desktop.core.jobs import Job, JobStatus, OutputOptions, OverwritePolicy
from pixtools_desktop.core.logs import log_context, redact
from pixtools_desktop.core.ops import OperationRequest
from pixtools_desktop.core.outputs import TMP_PREFIX, bundle_member_name, write_bundle
from pixtools_desktop.core.profile import API_NAME
from pixtools_desktop.core.runner import LocalRunner
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore, NewJob
from pixtools_desktop.server.config import IDEMPOTENCY_TTL_S, ServerConfig
from pixtools_desktop.server.publish import Publisher
from pixtools_desktop.server.signing import UrlSigner, load_or_create_secret

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 3600.0
_SAFE_BASE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_base(filename: str | None) -> str:
    """The original base name, reduced to characters safe in a header and a ZIP member."""
    if not filename:
        return "image"
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = name.rsplit(".", 1)[0] if "." in name else name
    base = _SAFE_BASE.sub("_", base).strip(" ._")[:100]
    return base or "image"


_UNSAFE_DISPLAY = re.compile(r'[\x00-\x1f\x7f"\\/<>:|?*]+')


def display_base(filename: str | None) -> str:
    """The original base name for download names, non-ASCII kept (sent as RFC 5987 `filename*`)."""
    if not filename:
        return "image"
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = name.rsplit(".", 1)[0] if "." in name else name
    base = _UNSAFE_DISPLAY.sub("_", base).strip(" ._")[:100]
    return base or "image"


class ServeService:
    """Everything `pixtools serve` does besides HTTP."""

    def __init__(self, config: ServerConfig, settings: Settings, *, denoiser_factory=wiring.denoiser_factory) -> None:
        self.config = config
        self.settings = settings
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.uploads_dir = config.data_dir / "uploads"
        self.outputs_dir = config.data_dir / "outputs"
        self.store = JobStore(config.db_path)
        self.signer = UrlSigner(load_or_create_secret(config.data_dir), config.url_ttl_s)
        self.runner = LocalRunner(self.store, settings, workers=config.workers, denoiser_factory=denoiser_factory)
        self.runner.add_finish_hook(self._on_finished)
        self._finisher: ThreadPoolExecutor | None = None
        self._create_lock = threading.Lock()
        self._last_sweep = 0.0
        self.public_base = config.public_base  # --public-url or the bound address; never a request's Host
        self.publisher = Publisher(self.store, settings, config, self.signer, lambda: self.public_base)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._finisher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pixtools-serve-finish")
        self.sweep_temp_files()
        self.sweep_expired()
        self.publisher.start()
        self.runner.start()
        self._resume_finishing()

    def stop(self) -> None:
        self.runner.stop(timeout=30)
        if self._finisher is not None:
            self._finisher.shutdown(wait=True, cancel_futures=False)
            self._finisher = None
        self.publisher.stop()
        self.store.close()

    def workers_alive(self) -> bool:
        return self.runner.alive and self.publisher.alive()

    # ------------------------------------------------------------ submit
    def find_idempotent(self, key: str) -> str | None:
        rows = self.store.query(
            "SELECT k.job_id FROM idempotency_keys k JOIN jobs j ON j.id = k.job_id "
            "WHERE k.key = ? AND k.created_ts > ?",
            (key, time.time() - IDEMPOTENCY_TTL_S),
        )
        return rows[0]["job_id"] if rows else None

    @staticmethod
    def fingerprint(upload: BinaryIO, original_name: str | None, request: OperationRequest, webhook_url: str) -> str:
        """What makes two requests "the same" for an Idempotency-Key: the bytes, the name and the job asked."""
        h = hashlib.sha256()
        upload.seek(0)
        for chunk in iter(lambda: upload.read(1024 * 1024), b""):
            h.update(chunk)
        upload.seek(0)
        h.update(json.dumps([original_name or "", request.to_json(), webhook_url], sort_keys=True).encode())
        return h.hexdigest()

    def create_job(self, **kwargs) -> str:
        """Store the upload and queue the job; returns the job id (see `submit`)."""
        return self.submit(**kwargs)[0]

    def submit(
        self,
        *,
        upload: BinaryIO,
        ext: str,
        original_name: str | None,
        request: OperationRequest,
        webhook_url: str,
        idempotency_key: str | None,
        request_id: str | None,
    ) -> tuple[str, bool]:
        """Store the upload under a generated name and queue the job.

        Returns (job id, True when an Idempotency-Key repeated with a different request kept its first job).
        """
        fp = self.fingerprint(upload, original_name, request, webhook_url) if idempotency_key else None
        with self._create_lock:  # two identical requests racing must still make one job
            if idempotency_key:
                existing = self.find_idempotent(idempotency_key)
                if existing:
                    rows = self.store.query(
                        "SELECT fingerprint FROM idempotency_keys WHERE key = ?", (idempotency_key,)
                    )
                    first = rows[0]["fingerprint"] if rows else None
                    return existing, bool(first and first != fp)
            job_id = str(uuid.uuid4())
            folder = self.uploads_dir / job_id
            folder.mkdir(parents=True, exist_ok=True)
            upload_path = folder / f"input.{ext}"  # never the client's file name
            with open(upload_path, "wb") as fh:
                shutil.copyfileobj(upload, fh, 1024 * 1024)
            now = time.time()
            shown = redact(webhook_url) if webhook_url else None  # credentials never in clear in the database
            sealed_url = None
            if shown != (webhook_url or None):
                sealed_url = sealed.seal(webhook_url, sealed.store_key(self.store))
            with self.store.transaction() as conn:
                conn.execute(
                    "INSERT INTO server_jobs (job_id, original_name, original_base, upload_path, webhook_url,"
                    " webhook_sealed, webhook_state, created_ts) VALUES (?,?,?,?,?,?,?,?)",
                    (
                        job_id,
                        (original_name or "")[:255],
                        safe_base(original_name),
                        str(upload_path),
                        shown,
                        sealed_url,
                        "pending" if webhook_url else "none",
                        now,
                    ),
                )
                if idempotency_key:
                    conn.execute(
                        "INSERT OR REPLACE INTO idempotency_keys (key, job_id, created_ts, fingerprint)"
                        " VALUES (?,?,?,?)",
                        (idempotency_key, job_id, now, fp),
                    )
            options = OutputOptions(
                output_dir=str(self.outputs_dir / job_id),
                naming_template="{op}.{ext}",
                overwrite=OverwritePolicy.OVERWRITE,
                profile=API_NAME,  # upstream's rules: 1920x1080 cap, EXIF stripped, API metadata shape
            )
            self.store.add_jobs(
                [
                    NewJob(
                        id=job_id,
                        input_path=str(upload_path),
                        operations=[op.value for op in request.operations],
                        params=request.params,
                        options=options,
                        request_id=request_id,
                    )
                ]
            )
        self.runner.wake()
        if time.monotonic() - self._last_sweep > SWEEP_INTERVAL_S:
            self.sweep_expired()
        return job_id, False

    # ------------------------------------------------------------ reading
    def server_row(self, job_id: str):
        rows = self.store.query("SELECT * FROM server_jobs WHERE job_id = ?", (job_id,))
        return rows[0] if rows else None

    def job_view(self, job_id: str, base_url: str | None = None) -> dict | None:
        """The API's GET /api/jobs/{id} body; URLs are re-signed on every call, under the public base."""
        base_url = base_url or self.public_base
        job = self.store.get(job_id)
        row = self.server_row(job_id)
        if job is None or row is None:
            return None
        status = job.status
        error = job.error_message if status == JobStatus.FAILED else None
        if status == JobStatus.CANCELLED:
            status, error = JobStatus.FAILED, job.error_message or "The job was cancelled on the server."
        if status == JobStatus.PENDING and job.error_message and job.attempts:
            status = JobStatus.PROCESSING  # a transient retry is still work in progress
        result_urls: dict[str, str] = {}
        archive_url = None
        if status.is_success and self.publisher.s3_mode:
            if self.publisher.s3_state(job)[0] != "stored":
                status = JobStatus.PROCESSING  # upstream: COMPLETED means the results are in S3
            else:
                result_urls, archive_url = self.publisher.presigned(job_id)
        elif status.is_success:
            result_urls = self.publisher.hmac_urls(job, base_url)
            if row["archive_state"] == "ready" and row["archive_path"] and Path(row["archive_path"]).exists():
                archive_url = self.signer.sign(base_url, job_id, "archive")
        return {
            "job_id": job.id,
            "status": status.value,
            "operations": job.operations,
            "result_urls": result_urls,
            "archive_url": archive_url,
            "metadata": job.metadata or {},
            "error_message": error,
            "created_at": job.created_at,
            # beyond upstream: where the webhook stands (ours retries for minutes; upstream tries once)
            "webhook_delivery": self._delivery_view(row),
        }

    def _delivery_view(self, row) -> dict | None:
        if row["webhook_state"] == "none":
            return None
        found = outbox.delivery_state(self.store, row["job_id"])
        return found or {
            "state": "waiting",
            "attempts": 0,
            "last_status": None,
            "last_error": None,
            "next_attempt_at": None,
            "delivered_at": None,
        }  # the job has not finished yet

    def file_for(self, job_id: str, name: str) -> tuple[Path, str, str] | None:
        """(path, download name, media type) of one output or the archive."""
        row = self.server_row(job_id)
        job = self.store.get(job_id)
        if row is None or job is None or not job.status.is_success:
            return None
        base = display_base(row["original_name"]) if row["original_name"] else row["original_base"]
        if name == "archive":
            if row["archive_state"] != "ready" or not row["archive_path"]:
                return None
            path = Path(row["archive_path"])
            return (path, f"pixtools_bundle_{base}.zip", "application/zip") if path.exists() else None
        for rec in job.outputs:
            if rec.op == name and not rec.skipped:
                path = Path(rec.path)
                if path.exists():
                    return path, f"pixtools_{rec.op}_{base}{path.suffix}", rec.mime
        return None

    # ------------------------------------------------------------ after completion
    def _on_finished(self, job: Job) -> None:
        if job.status.is_success and self._finisher is not None:
            try:
                self._finisher.submit(self._finish, job.id)
            except RuntimeError:  # shutting down: the restart scan picks it up
                pass

    def _resume_finishing(self) -> None:
        unsettled = ""
        if self.publisher.s3_mode:  # uploads not all in (or never queued: S3 was switched on since)
            unsettled = (
                " OR EXISTS (SELECT 1 FROM uploads u WHERE u.job_id = s.job_id AND u.state != 'done')"
                " OR NOT EXISTS (SELECT 1 FROM uploads u WHERE u.job_id = s.job_id)"
            )
        rows = self.store.query(
            "SELECT s.job_id FROM server_jobs s JOIN jobs j ON j.id = s.job_id "
            "WHERE j.status IN ('COMPLETED','COMPLETED_WEBHOOK_FAILED') "
            f"AND (s.archive_state = 'none' OR s.webhook_state = 'pending'{unsettled})"
        )
        for r in rows:
            assert self._finisher is not None
            self._finisher.submit(self._finish, r["job_id"])

    def _finish(self, job_id: str) -> None:
        job = self.store.get(job_id)
        row = self.server_row(job_id)
        if job is None or row is None:
            return
        with log_context(request_id=job.request_id, job_id=job_id):
            if row["archive_state"] == "none":
                self._build_archive(job, row)
                row = self.server_row(job_id)
            archive = row["archive_path"] if row["archive_state"] == "ready" else None
            self.publisher.publish(job, row, archive)

    def _build_archive(self, job: Job, row) -> None:
        files = [r for r in job.outputs if r.op != "bundle" and not r.skipped and Path(r.path).exists()]
        state, path = "none", None
        if files:
            fake_input = Path(f"{row['original_base']}.x")
            members = [
                (bundle_member_name(r.op, fake_input, Path(r.path).suffix.lstrip(".")), Path(r.path)) for r in files
            ]
            target = self.outputs_dir / job.id / "bundle.zip"
            try:
                write_bundle(target, members, tag=job.id[:8])
                state, path = "ready", str(target)
            except Exception as exc:  # noqa: BLE001 - the outputs are still served one by one
                log.warning("archive failed", extra={"error": str(exc)})
                state = "failed"
        else:
            state = "failed"  # metadata-only job: nothing to zip
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE server_jobs SET archive_state = ?, archive_path = ? WHERE job_id = ?", (state, path, job.id)
            )

    # ------------------------------------------------------------ retention
    def sweep_temp_files(self) -> int:
        """Remove `.pixtools-tmp-*` files a killed process left (archive and output writes) at start."""
        n = 0
        for folder in (self.outputs_dir, self.uploads_dir):
            if not folder.is_dir():
                continue
            for root, _dirs, files in os.walk(folder):
                for name in files:
                    if name.startswith(TMP_PREFIX):
                        Path(root, name).unlink(missing_ok=True)
                        n += 1
        if n:
            log.info("removed leftovers of interrupted writes", extra={"count": n})
        return n

    def sweep_expired(self) -> int:
        """Delete jobs (rows and files) older than the retention period, like upstream's 24 h."""
        self._last_sweep = time.monotonic()
        cutoff = time.time() - self.config.retention_s
        rows = self.store.query(
            "SELECT s.job_id FROM server_jobs s LEFT JOIN jobs j ON j.id = s.job_id "
            "WHERE s.created_ts < ? AND (j.status IS NULL OR j.status NOT IN ('PENDING','PROCESSING'))",
            (cutoff,),
        )
        ids = [r["job_id"] for r in rows]
        if ids:
            objects = self.publisher.objects_of(ids)
            self.store.delete(ids)
            with self.store.transaction() as conn:
                for job_id in ids:
                    conn.execute("DELETE FROM server_jobs WHERE job_id = ?", (job_id,))
            for job_id in ids:
                shutil.rmtree(self.uploads_dir / job_id, ignore_errors=True)
                shutil.rmtree(self.outputs_dir / job_id, ignore_errors=True)
            self.publisher.delete_objects(objects)
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM idempotency_keys WHERE created_ts < ?", (time.time() - IDEMPOTENCY_TTL_S,))
        return len(ids)
