"""The remote backend's own rows (`remote_jobs`, migration 10): who polls what, and when.

Why a table and not memory: the idempotency key must exist before the first
POST (so a retry after a timeout can never make a second server job), and
the poll schedule must survive a restart of the app. Rows are claimed like
the store claims local jobs: stamped with the claiming process, and taken
over when that process is gone, so the GUI and a CLI run on one database
never poll or download the same job at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from pixtools_desktop.core.store import JobStore
from pixtools_desktop.core.store.job_store import _owner_alive, process_token

SUBMIT, POLL = "submit", "poll"

# Jobs being handled by some RemoteBackend of *this* process (several may share a store).
_inflight: set[str] = set()
_inflight_lock = threading.Lock()


def idempotency_key_for(job_id: str) -> str:
    """One key per job, derived from its id, so every retry of that job carries the same key."""
    return f"pixtools-desktop-{job_id}"


@dataclass
class RemoteRow:
    job_id: str
    phase: str
    remote_status: str | None
    interval_s: float
    net_failures: int
    server_errors: int
    archive_waits: int
    idempotency_key: str
    status_since: float = 0.0  # when the server-side status last changed (the stall clock)


def ensure_rows(store: JobStore, base_url: str) -> None:
    """Give every unfinished job of this backend a row (also heals a crash between insert and row)."""
    now = time.time()
    with store.transaction() as conn:
        have = {r["job_id"] for r in conn.execute("SELECT job_id FROM remote_jobs").fetchall()}
        for job_id, remote_job_id in store.unfinished_on_backend(base_url, conn=conn):
            if job_id in have:
                continue
            phase = POLL if remote_job_id else SUBMIT
            conn.execute(
                "INSERT OR IGNORE INTO remote_jobs (job_id, base_url, idempotency_key, phase, next_at, updated_at)"
                " VALUES (?,?,?,?,?,?)",
                (job_id, base_url, idempotency_key_for(job_id), phase, 0, now),
            )


def due_now(store: JobStore, base_url: str) -> None:
    """After an app restart, poll at once instead of waiting out an old schedule."""
    with store.transaction() as conn:
        conn.execute("UPDATE remote_jobs SET next_at = MIN(next_at, ?) WHERE base_url = ?", (time.time(), base_url))


def claim_due(store: JobStore, base_url: str, *, batch_ids: set[str] | None, submits_allowed: bool) -> str | None:
    """Claim the most overdue row of this backend, or None."""
    now = time.time()
    sql = (
        "SELECT r.job_id, r.claimed_by FROM remote_jobs r JOIN jobs j ON j.id = r.job_id "
        "WHERE r.base_url = ? AND r.next_at <= ? AND j.status IN ('PENDING','PROCESSING')"
    )
    args: list = [base_url, now]
    if not submits_allowed:
        sql += " AND r.phase != 'submit'"
    if batch_ids is not None:
        if not batch_ids:
            return None
        sql += f" AND j.batch_id IN ({','.join('?' * len(batch_ids))})"
        args += sorted(batch_ids)
    sql += " ORDER BY r.next_at LIMIT 25"
    me = process_token()
    for row in store.query(sql, args):
        job_id, owner = row["job_id"], row["claimed_by"]
        with _inflight_lock:
            if job_id in _inflight:
                continue
            if owner is not None and owner != me and _owner_alive(owner):
                continue
            with store.transaction() as conn:
                cur = conn.execute(
                    "UPDATE remote_jobs SET claimed_by = ? WHERE job_id = ? AND claimed_by IS ?", (me, job_id, owner)
                )
            if cur.rowcount == 1:
                _inflight.add(job_id)
                return job_id
    return None


def release(store: JobStore, job_id: str) -> None:
    try:
        with store.transaction() as conn:
            conn.execute("UPDATE remote_jobs SET claimed_by = NULL WHERE job_id = ?", (job_id,))
    finally:
        with _inflight_lock:
            _inflight.discard(job_id)


def next_due(store: JobStore, base_url: str) -> float | None:
    rows = store.query(
        "SELECT MIN(r.next_at) AS t FROM remote_jobs r JOIN jobs j ON j.id = r.job_id "
        "WHERE r.base_url = ? AND j.status IN ('PENDING','PROCESSING')",
        (base_url,),
    )
    return rows[0]["t"] if rows and rows[0]["t"] is not None else None


def load(store: JobStore, job_id: str) -> RemoteRow | None:
    rows = store.query("SELECT * FROM remote_jobs WHERE job_id = ?", (job_id,))
    if not rows:
        return None
    r = rows[0]
    return RemoteRow(
        job_id=r["job_id"],
        phase=r["phase"],
        remote_status=r["remote_status"],
        interval_s=r["interval_s"],
        net_failures=r["net_failures"],
        server_errors=r["server_errors"],
        archive_waits=r["archive_waits"],
        idempotency_key=r["idempotency_key"],
        status_since=r["status_since"] or 0.0,
    )


def update(store: JobStore, job_id: str, **fields) -> None:
    allowed = {
        "phase",
        "remote_status",
        "next_at",
        "interval_s",
        "net_failures",
        "server_errors",
        "archive_waits",
        "status_since",
    }
    bad = set(fields) - allowed
    if bad:
        raise ValueError(f"not updatable: {sorted(bad)}")
    sets = ", ".join(f"{k} = ?" for k in fields)
    with store.transaction() as conn:
        conn.execute(
            f"UPDATE remote_jobs SET {sets}, updated_at = ? WHERE job_id = ?", [*fields.values(), time.time(), job_id]
        )


def rekey(store: JobStore, job_id: str) -> None:
    """After a failure: a retry submits the file again under a fresh Idempotency-Key.

    The old key would only hand back the server's old job (the one that stalled or failed).
    """
    import uuid

    with store.transaction() as conn:
        conn.execute(
            "UPDATE remote_jobs SET phase = ?, idempotency_key = ?, remote_status = NULL, status_since = 0, "
            "archive_waits = 0, net_failures = 0, server_errors = 0, next_at = 0 WHERE job_id = ?",
            (SUBMIT, f"{idempotency_key_for(job_id)}-{uuid.uuid4().hex[:12]}", job_id),
        )


def mark_processing(store: JobStore, job_id: str) -> None:
    """PENDING -> PROCESSING when the upload starts (the store's `complete` expects PROCESSING)."""
    store.mark_started(job_id)


def adopt_into_backend(store: JobStore, job_ids: list[str], base_url: str) -> None:
    """Hand not-yet-started jobs (e.g. adopted from an earlier local run) to this backend."""
    store.assign_backend(job_ids, base_url)
