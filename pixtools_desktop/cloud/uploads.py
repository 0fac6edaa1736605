"""The `uploads` table: S3 uploads as durable rows, and the worker step that sends one.

Why rows: an upload must survive a crash, a restart and a dead endpoint
without ever failing the job or uploading twice. So the key is chosen once
and stored before any byte leaves; a row is claimed atomically; a row that
was interrupted mid-upload (its claimer died) is first checked with HEAD and
marked done when the object is already there with the right size.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixtools_desktop.cloud import s3
from pixtools_desktop.cloud.config import RetryPolicy, S3Target
from pixtools_desktop.cloud.job_notes import set_note
from pixtools_desktop.core.jobs import Job
from pixtools_desktop.core.logs import log_context
from pixtools_desktop.core.store import JobStore
from pixtools_desktop.core.store.job_store import process_token, utcnow

log = logging.getLogger(__name__)

NOTE = "upload failed:"
ACTIVE_STATES = ("pending", "uploading")

_COLS = (
    "id, job_id, op, path, size, content_type, filename, endpoint_url, bucket, key, state, attempts, "
    "next_at, claimed_by, last_error, etag, created_at, updated_at, uploaded_at"
)


@dataclass
class UploadRow:
    id: int
    job_id: str
    op: str
    path: str
    size: int
    content_type: str
    filename: str
    endpoint_url: str | None
    bucket: str
    key: str
    state: str
    attempts: int
    next_at: float
    claimed_by: str | None
    last_error: str | None
    etag: str | None
    created_at: str
    updated_at: str
    uploaded_at: str | None

    @classmethod
    def from_row(cls, row: Any) -> UploadRow:
        return cls(**{k: row[k] for k in row.keys()})


def enqueue_job(store: JobStore, job: Job, target: S3Target, *, base_name: str | None = None) -> list[UploadRow]:
    """One row per output that exists on disk; a job already queued keeps its rows (and keys).

    `base_name` is the `{base}` of the download name `pixtools_{op}_{base}.{ext}`
    (default: the input file's stem; `pixtools serve` passes the client's original name,
    since its input is stored under a generated one).
    """
    ts = utcnow()
    name_source = f"{base_name}.x" if base_name else job.input_path
    with store.transaction() as conn:
        for out in job.outputs:
            path = Path(out.path)
            if not path.is_file():
                continue
            ext = path.suffix.lstrip(".") or "bin"
            conn.execute(
                "INSERT OR IGNORE INTO uploads (job_id, op, path, size, content_type, filename, endpoint_url, bucket,"
                " key, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    job.id,
                    out.op,
                    str(path),
                    path.stat().st_size,
                    out.mime or "application/octet-stream",
                    s3.download_name(out.op, name_source, ext),
                    target.endpoint_url,
                    target.bucket,
                    s3.object_key(target, job.id, out.op, ext),
                    ts,
                    ts,
                ),
            )
    return for_job(store, job.id)


def for_job(store: JobStore, job_id: str) -> list[UploadRow]:
    rows = store.query(f"SELECT {_COLS} FROM uploads WHERE job_id = ? ORDER BY id", (job_id,))
    return [UploadRow.from_row(r) for r in rows]


def claim_next(store: JobStore, *, now: float | None = None) -> UploadRow | None:
    """Atomically take the oldest due pending upload."""
    now = time.time() if now is None else now
    with store.transaction() as conn:
        row = conn.execute(
            f"UPDATE uploads SET state = 'uploading', claimed_by = ?, updated_at = ? WHERE id = ("
            f"SELECT id FROM uploads WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT 1) "
            f"RETURNING {_COLS}",
            (process_token(), utcnow(), now),
        ).fetchone()
    return UploadRow.from_row(row) if row else None


def next_due(store: JobStore) -> float | None:
    rows = store.query("SELECT MIN(next_at) AS t FROM uploads WHERE state = 'pending'")
    return rows[0]["t"] if rows and rows[0]["t"] is not None else None


def recover_interrupted(store: JobStore) -> list[int]:
    """Rows left `uploading` by a process that died go back to pending (they will HEAD first)."""
    return store.release_dead_claims(
        "uploads", "state = 'uploading'", "state = 'pending', last_error = COALESCE(last_error, 'interrupted')"
    )


def mark_done(store: JobStore, row: UploadRow, etag: str | None) -> None:
    ts = utcnow()
    with store.transaction() as conn:
        conn.execute(
            "UPDATE uploads SET state = 'done', etag = ?, claimed_by = NULL, last_error = NULL, uploaded_at = ?, "
            "updated_at = ? WHERE id = ?",
            (etag, ts, ts, row.id),
        )
        left = conn.execute(
            "SELECT COUNT(*) FROM uploads WHERE job_id = ? AND state != 'done'", (row.job_id,)
        ).fetchone()[0]
    if left == 0:
        set_note(store, row.job_id, NOTE, None)


def mark_failed(store: JobStore, row: UploadRow, message: str, *, retry_at: float | None) -> None:
    """A failed try: back to pending until `retry_at`, or `failed` for good (None)."""
    attempts = row.attempts + 1
    with store.transaction() as conn:
        conn.execute(
            "UPDATE uploads SET state = ?, attempts = ?, next_at = ?, last_error = ?, claimed_by = NULL, "
            "updated_at = ? WHERE id = ?",
            ("pending" if retry_at is not None else "failed", attempts, retry_at or 0, message, utcnow(), row.id),
        )
    if retry_at is not None:
        note = f"{NOTE} {message} (try {attempts}; retrying in {max(0, retry_at - time.time()):.0f} s)"
    else:
        note = f"{NOTE} {message} (gave up after {attempts} tries)"
    set_note(store, row.job_id, NOTE, note)


def retry_failed(store: JobStore, *, job_ids: list[str] | None = None) -> int:
    """Give failed uploads a fresh budget (after the user fixed the credentials, say)."""
    sql = "UPDATE uploads SET state = 'pending', attempts = 0, next_at = 0, updated_at = ? WHERE state = 'failed'"
    args: list[Any] = [utcnow()]
    if job_ids is not None:
        sql += f" AND job_id IN ({','.join('?' * len(job_ids))})"
        args += job_ids
    with store.transaction() as conn:
        return conn.execute(sql, args).rowcount


def process_one(store: JobStore, row: UploadRow, client: Any, policy: RetryPolicy, config: Any = None) -> bool:
    """Send one claimed upload; record the outcome. Returns True when the object is in S3."""
    path = Path(row.path)
    with log_context(job_id=row.job_id):
        try:
            if row.attempts > 0 or row.last_error == "interrupted":
                existing = s3.head(client, row.bucket, row.key)  # an earlier try may have landed
                if existing is not None and existing.get("ContentLength") == row.size:
                    mark_done(store, row, existing.get("ETag", "").strip('"'))
                    log.info("upload already in S3, not sent again", extra={"op": row.op, "key": row.key})
                    return True
            t0 = time.monotonic()
            etag = s3.upload(client, row.bucket, row.key, path, row.content_type, config)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded on the row, never raised into a worker
            message, permanent = s3.explain(exc, row.bucket)
            attempt = row.attempts + 1
            retry_at = None if permanent or attempt >= policy.max_attempts else time.time() + policy.delay(attempt)
            mark_failed(store, row, message, retry_at=retry_at)
            log.warning(
                "upload failed",
                extra={
                    "op": row.op,
                    "key": row.key,
                    "error": message,
                    "attempt": attempt,
                    "will_retry": retry_at is not None,
                },
            )
            return False
        mark_done(store, row, etag)
        log.info(
            "uploaded",
            extra={"op": row.op, "key": row.key, "bytes": row.size, "seconds": round(time.monotonic() - t0, 3)},
        )
        return True
