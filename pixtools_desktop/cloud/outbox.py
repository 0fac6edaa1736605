"""The `webhook_outbox` table: announcements as durable rows, and the step that delivers one.

Why an outbox: the job worker only inserts a row (microseconds, same
database), so a slow or dead receiver never slows the queue, and a delivery
pending at a crash is still there at the next start. A row waits while its
job's uploads are still in flight, so `result_urls` lists what landed.
Delivered rows are marked in the transaction right after the 2xx; a restart
never re-sends them.

A URL with credentials (`user:pass@`, `?token=`) is stored redacted in `url`
and sealed in full in `url_sealed` (cloud/sealed.py). Rows are claimed per
host: a worker skips hosts another worker of this process is sending to, so a
hanging receiver holds one worker, never the deliveries to other hosts.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pybreaker

from pixtools_desktop.cloud import breakers, links, sealed, webhooks
from pixtools_desktop.cloud.config import SinkConfig, url_host
from pixtools_desktop.cloud.job_notes import set_note
from pixtools_desktop.core.jobs import Job, JobStatus
from pixtools_desktop.core.logs import log_context, redact
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore
from pixtools_desktop.core.store.job_store import process_token, utcnow

log = logging.getLogger(__name__)

NOTE = "webhook"
ACTIVE_STATES = ("pending", "sending")
_COLS = (
    "id, job_id, event, url, signed, dedupe, state, attempts, next_at, claimed_by, last_status, last_error, "
    "created_at, updated_at, delivered_at, url_sealed"
)


@dataclass
class OutboxRow:
    id: int
    job_id: str
    event: str
    url: str
    signed: int
    dedupe: str
    state: str
    attempts: int
    next_at: float
    claimed_by: str | None
    last_status: int | None
    last_error: str | None
    created_at: str
    updated_at: str
    delivered_at: str | None
    url_sealed: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> OutboxRow:
        return cls(**{k: row[k] for k in row.keys()})


def enqueue(store: JobStore, job: Job, url: str, *, signed: bool) -> bool:
    """Queue one announcement of this job's outcome; the same outcome is never queued twice."""
    event = webhooks.event_for(job)
    url_id = hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]  # never the URL itself: it may hold a secret
    dedupe = f"{job.id}|{event}|{job.finished_at or job.updated_at}|{url_id}"
    shown = redact(url)
    sealed_url = sealed.seal(url, sealed.store_key(store)) if shown != url else None
    ts = utcnow()
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT OR IGNORE INTO webhook_outbox (job_id, event, url, url_sealed, signed, dedupe, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?,?)",
            (job.id, event, shown, sealed_url, int(signed), dedupe, ts, ts),
        )
    return cur.rowcount == 1


def target_url(store: JobStore, row: OutboxRow) -> str:
    """The URL to POST to: the sealed original when it held credentials."""
    if row.url_sealed:
        return sealed.unseal(row.url_sealed, sealed.store_key(store))
    return row.url


def for_job(store: JobStore, job_id: str) -> list[OutboxRow]:
    rows = store.query(f"SELECT {_COLS} FROM webhook_outbox WHERE job_id = ? ORDER BY id", (job_id,))
    return [OutboxRow.from_row(r) for r in rows]


_READY = (
    "o.state = 'pending' AND NOT EXISTS ("
    "SELECT 1 FROM uploads u WHERE u.job_id = o.job_id AND u.state IN ('pending','uploading'))"
)
_CANDIDATES = 64


def claim_next(
    store: JobStore, *, now: float | None = None, skip_hosts: set[str] | frozenset = frozenset()
) -> OutboxRow | None:
    """Atomically take the oldest due delivery whose job has no upload in flight, to a host not in `skip_hosts`."""
    now = time.time() if now is None else now
    with store.transaction() as conn:
        rows = conn.execute(
            f"SELECT o.id, o.url FROM webhook_outbox o WHERE {_READY} AND o.next_at <= ? "
            f"ORDER BY o.next_at, o.id LIMIT {_CANDIDATES}",
            (now,),
        ).fetchall()
        pick = next((r["id"] for r in rows if url_host(r["url"]) not in skip_hosts), None)
        if pick is None:
            return None
        row = conn.execute(
            f"UPDATE webhook_outbox SET state = 'sending', claimed_by = ?, updated_at = ? "
            f"WHERE id = ? AND state = 'pending' RETURNING {_COLS}",
            (process_token(), utcnow(), pick),
        ).fetchone()
    return OutboxRow.from_row(row) if row else None


def next_due(store: JobStore, skip_hosts: set[str] | frozenset = frozenset()) -> float | None:
    """Earliest due time of a row not waiting for uploads (those wake the worker when done) nor for a busy host."""
    rows = store.query(
        f"SELECT o.next_at, o.url FROM webhook_outbox o WHERE {_READY} ORDER BY o.next_at LIMIT {_CANDIDATES}"
    )
    due = [r["next_at"] for r in rows if url_host(r["url"]) not in skip_hosts]
    return min(due) if due else None


def delivery_state(store: JobStore, job_id: str) -> dict[str, Any] | None:
    """The latest delivery of a job as a client may see it (no URL: it may hold a secret)."""
    rows = for_job(store, job_id)
    if not rows:
        return None
    row = rows[-1]
    state = {"pending": "retrying" if row.attempts else "pending", "sending": "sending"}.get(row.state, row.state)
    return {
        "state": state,  # pending / sending / retrying / delivered / failed
        "attempts": row.attempts,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "next_attempt_at": row.next_at if row.state == "pending" and row.attempts else None,
        "delivered_at": row.delivered_at,
    }


def recover_interrupted(store: JobStore) -> list[int]:
    """Rows left `sending` by a dead process go back to pending (their 2xx was never recorded)."""
    return store.release_dead_claims("webhook_outbox", "state = 'sending'", "state = 'pending'")


def _release(store: JobStore, row: OutboxRow, next_at: float, message: str) -> None:
    """Put a claimed row back without spending an attempt (the breaker is open)."""
    with store.transaction() as conn:
        conn.execute(
            "UPDATE webhook_outbox SET state = 'pending', claimed_by = NULL, next_at = ?, last_error = ?, "
            "updated_at = ? WHERE id = ?",
            (next_at, message, utcnow(), row.id),
        )


def _mark_delivered(store: JobStore, row: OutboxRow, status: int) -> None:
    ts = utcnow()
    with store.transaction() as conn:
        conn.execute(
            "UPDATE webhook_outbox SET state = 'delivered', attempts = attempts + 1, last_status = ?, "
            "last_error = NULL, claimed_by = NULL, delivered_at = ?, updated_at = ? WHERE id = ?",
            (status, ts, ts, row.id),
        )
        store.clear_webhook_failed(row.job_id, conn=conn)
    set_note(store, row.job_id, NOTE, None)


def _mark_failed(store: JobStore, row: OutboxRow, message: str, status: int | None, retry_at: float | None) -> None:
    attempts = row.attempts + 1
    with store.transaction() as conn:
        conn.execute(
            "UPDATE webhook_outbox SET state = ?, attempts = ?, next_at = ?, last_status = ?, "
            "last_error = ?, claimed_by = NULL, updated_at = ? WHERE id = ?",
            (
                "pending" if retry_at is not None else "failed",
                attempts,
                retry_at or 0,
                status,
                message,
                utcnow(),
                row.id,
            ),
        )
    host = url_host(row.url)
    if retry_at is not None:
        set_note(
            store,
            row.job_id,
            NOTE,
            f"{NOTE} to {host} failed: {message} (try {attempts}; retrying in {max(0, retry_at - time.time()):.0f} s)",
        )
        return
    set_note(store, row.job_id, NOTE, f"{NOTE} to {host} failed: {message} (gave up after {attempts} tries)")
    if row.event == "job.completed":
        job = store.get(row.job_id)
        if job is not None and job.status == JobStatus.COMPLETED:
            store.set_status(row.job_id, JobStatus.COMPLETED_WEBHOOK_FAILED)


def process_one(store: JobStore, row: OutboxRow, cfg: SinkConfig, client: httpx.Client, settings: Settings) -> str:
    """Deliver one claimed row; returns 'delivered', 'retry', 'failed' or 'deferred' (breaker open)."""
    job = store.get(row.job_id)
    host = url_host(row.url)
    with log_context(request_id=job.request_id if job else None, job_id=row.job_id):
        if job is None:
            _mark_failed(store, row, "the job no longer exists", None, None)
            return "failed"
        if row.signed and not cfg.webhook_secret:
            message = "the webhook secret is not available (set PIXTOOLS_WEBHOOK_SECRET)"
            return _after_failure(store, row, cfg, message, None, None)
        try:
            if cfg.payload_builder is not None:
                payload = cfg.payload_builder(job, row.event)
            else:
                urls: dict[str, Any] = {}
                archive = None
                if _has_uploads(store, job.id):
                    urls, archive = links.result_urls(store, job.id, settings)
                payload = webhooks.build_payload(job, row.event, urls, archive)
        except Exception as exc:  # noqa: BLE001 - e.g. links cannot be signed; a claimed row must not stay stuck
            return _after_failure(store, row, cfg, f"cannot build the webhook body: {exc}", None, None)
        body = webhooks.encode(payload)
        headers = webhooks.headers_for(body, job.request_id, cfg.webhook_secret if row.signed else None)
        try:
            url = target_url(store, row)
        except ValueError:
            _mark_failed(store, row, "the stored webhook URL cannot be read (its sealing key changed)", None, None)
            return "failed"
        extensions: dict[str, Any] = {}
        if cfg.url_guard is not None:  # `pixtools serve`: resolve, refuse private targets, pin the address
            try:
                url, extra, extensions = cfg.url_guard(url)
            except webhooks.TargetRefused as exc:
                _mark_failed(store, row, str(exc), None, None)
                log.warning("webhook target refused", extra={"url": redact(row.url), "error": str(exc)})
                return "failed"
            headers.update(extra)
        cb = breakers.get_breaker(host, cfg.fail_max, cfg.reset_timeout)
        try:
            status = cb.call(webhooks.post, client, url, body, headers, cfg.webhook_timeout, extensions)
        except pybreaker.CircuitBreakerError:
            when = breakers.reopen_at(cb)
            _release(store, row, when, f"circuit breaker for {host} is open")
            log.info("webhook deferred: breaker open", extra={"host": host, "retry_in_s": round(when - time.time(), 1)})
            return "deferred"
        except breakers.DeliveryRejected as exc:
            _mark_failed(store, row, str(exc), exc.status, None)
            log.warning("webhook refused", extra={"url": redact(row.url), "status": exc.status})
            return "failed"
        except breakers.DeliveryFailed as exc:
            return _after_failure(store, row, cfg, str(exc), exc.status, getattr(exc, "retry_after", None))
        _mark_delivered(store, row, status)
        log.info(
            "webhook delivered",
            extra={"url": redact(row.url), "status": status, "event": row.event, "attempt": row.attempts + 1},
        )
        return "delivered"


def _after_failure(
    store: JobStore, row: OutboxRow, cfg: SinkConfig, message: str, status: int | None, retry_after: float | None
) -> str:
    attempt = row.attempts + 1
    if attempt >= cfg.retry.max_attempts:
        _mark_failed(store, row, message, status, None)
        log.warning("webhook failed for good", extra={"url": redact(row.url), "error": message, "attempt": attempt})
        return "failed"
    delay = max(cfg.retry.delay(attempt), retry_after or 0)
    _mark_failed(store, row, message, status, time.time() + delay)
    log.warning(
        "webhook failed, will retry",
        extra={"url": redact(row.url), "error": message, "attempt": attempt, "retry_in_s": delay},
    )
    return "retry"


def _has_uploads(store: JobStore, job_id: str) -> bool:
    return bool(store.query("SELECT 1 FROM uploads WHERE job_id = ? AND state = 'done' LIMIT 1", (job_id,)))


def retry_failed(store: JobStore, *, job_ids: list[str] | None = None) -> int:
    sql = (
        "UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_at = 0, updated_at = ? WHERE state = 'failed'"
    )
    args: list[Any] = [utcnow()]
    if job_ids is not None:
        sql += f" AND job_id IN ({','.join('?' * len(job_ids))})"
        args += job_ids
    with store.transaction() as conn:
        return conn.execute(sql, args).rowcount
