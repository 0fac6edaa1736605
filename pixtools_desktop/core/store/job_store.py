"""JobStore: every job state change is one SQLite transaction.

Why these choices:
- WAL mode, so the window can read the queue while workers write.
- One connection per store guarded by a lock; writes use `BEGIN IMMEDIATE` so
  two processes (the GUI and a CLI run) never interleave a read-modify-write.
- Jobs are *claimed* atomically (`UPDATE … RETURNING`), stamped with the
  claiming process's token (claims.py: never reused by a restart); at
  start-up, jobs left `PROCESSING` by a process that is no longer alive are
  re-queued, so a crash loses nothing and no job runs twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pixtools_desktop.core.jobs import FINAL_STATUSES, Job, JobStatus, OutputOptions, OutputRecord
from pixtools_desktop.core.store import claims, written
from pixtools_desktop.core.store.job_rows import JobRowsMixin
from pixtools_desktop.core.store.migrations import migrate


def utcnow() -> str:
    return datetime.now(UTC).isoformat()


# Claim identity lives in claims.py; these names stay importable for the cloud and remote modules.
process_token = claims.process_token
_owner_alive = claims.owner_alive


@dataclass
class NewJob:
    """What a front end submits; the store fills in the rest."""

    input_path: str
    operations: list[str]
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    options: OutputOptions = field(default_factory=OutputOptions)
    batch_id: str | None = None
    seq: int = 0
    request_id: str | None = None
    backend: str = "local"
    dedupe_key: str | None = None
    id: str | None = None


_COLUMNS = (
    "id, batch_id, seq, input_path, operations, params, options, status, progress, error_message, error_code, "
    "warnings, outputs, metadata, attempts, request_id, backend, remote_job_id, created_at, updated_at, "
    "started_at, finished_at, not_before"
)


def _row_to_job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        batch_id=row["batch_id"],
        seq=row["seq"],
        input_path=row["input_path"],
        operations=json.loads(row["operations"]),
        params=json.loads(row["params"]),
        options=OutputOptions.from_json(json.loads(row["options"])),
        status=JobStatus(row["status"]),
        progress=row["progress"],
        error_message=row["error_message"],
        error_code=row["error_code"],
        warnings=json.loads(row["warnings"]),
        outputs=[OutputRecord(**o) for o in json.loads(row["outputs"])],
        metadata=json.loads(row["metadata"]) if row["metadata"] else None,
        attempts=row["attempts"],
        request_id=row["request_id"],
        backend=row["backend"],
        remote_job_id=row["remote_job_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        not_before=row["not_before"],
    )


class JobStore(JobRowsMixin):
    """Thread-safe access to the jobs database."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=30000")
        with self._lock:
            self.schema_version = migrate(self._conn, self.path)
        self._closed = False

    # ------------------------------------------------------------ plumbing
    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> JobStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write; other modules (outbox, uploads) use it too."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # ------------------------------------------------------------ creating
    def add_jobs(self, new_jobs: list[NewJob]) -> list[Job]:
        """Insert jobs in one transaction (a batch of 10,000 is one commit)."""
        now = utcnow()
        ids = []
        with self.transaction() as conn:
            for nj in new_jobs:
                job_id = nj.id or str(uuid.uuid4())
                ids.append(job_id)
                lane = "model" if "denoise" in nj.operations else "std"
                conn.execute(
                    "INSERT INTO jobs (id, batch_id, seq, dedupe_key, input_path, operations, params, options, lane,"
                    " status, request_id, backend, created_at, updated_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        job_id,
                        nj.batch_id,
                        nj.seq,
                        nj.dedupe_key,
                        nj.input_path,
                        json.dumps(nj.operations),
                        json.dumps(nj.params),
                        json.dumps(nj.options.to_json()),
                        lane,
                        JobStatus.PENDING.value,
                        nj.request_id,
                        nj.backend,
                        now,
                        now,
                    ),
                )
        return self.get_many(ids)

    # ------------------------------------------------------------ reading
    def get(self, job_id: str) -> Job | None:
        rows = self.query(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        return _row_to_job(rows[0]) if rows else None

    def get_many(self, ids: list[str]) -> list[Job]:
        out: list[Job] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.query(f"SELECT {_COLUMNS} FROM jobs WHERE id IN ({marks})", chunk)
            by_id = {r["id"]: _row_to_job(r) for r in rows}
            out.extend(by_id[j] for j in chunk if j in by_id)
        return out

    def list_jobs(
        self,
        *,
        status: JobStatus | str | None = None,
        batch_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[Job]:
        where: list[str] = []
        args: list[Any] = []
        if status is not None:
            where.append("status = ?")
            args.append(str(status))
        if batch_id is not None:
            where.append("batch_id = ?")
            args.append(batch_id)
        sql = f"SELECT {_COLUMNS} FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at {0}, seq {0}".format("DESC" if newest_first else "ASC")
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        return [_row_to_job(r) for r in self.query(sql, args)]

    def list_ids(self, *, batch_id: str | None = None) -> list[str]:
        if batch_id is None:
            rows = self.query("SELECT id FROM jobs ORDER BY created_at, seq")
        else:
            rows = self.query("SELECT id FROM jobs WHERE batch_id = ? ORDER BY seq", (batch_id,))
        return [r["id"] for r in rows]

    def count_by_status(self, *, batch_id: str | None = None) -> dict[str, int]:
        if batch_id is None:
            rows = self.query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
        else:
            rows = self.query("SELECT status, COUNT(*) AS n FROM jobs WHERE batch_id = ? GROUP BY status", (batch_id,))
        counts = {s.value: 0 for s in JobStatus}
        counts.update({r["status"]: r["n"] for r in rows})
        return counts

    def find_by_dedupe_key(self, key: str) -> Job | None:
        rows = self.query(f"SELECT {_COLUMNS} FROM jobs WHERE dedupe_key = ? ORDER BY created_at DESC LIMIT 1", (key,))
        return _row_to_job(rows[0]) if rows else None

    def has_unfinished(self, *, batch_id: str | None = None, lane: str | None = None) -> bool:
        sql = "SELECT 1 FROM jobs WHERE status IN ('PENDING','PROCESSING')"
        args: list[Any] = []
        if batch_id is not None:
            sql += " AND batch_id = ?"
            args.append(batch_id)
        if lane is not None:
            sql += " AND lane = ?"
            args.append(lane)
        return bool(self.query(sql + " LIMIT 1", args))

    def next_wakeup(self, lane: str) -> float | None:
        """Earliest `not_before` of a pending job in a lane (for backoff sleeps)."""
        rows = self.query(
            "SELECT MIN(not_before) AS t FROM jobs WHERE status = 'PENDING' AND lane = ? AND backend = 'local'",
            (lane,),
        )
        return rows[0]["t"] if rows and rows[0]["t"] is not None else None

    # ------------------------------------------------------------ running
    def claim_next(self, lane: str, *, batch_id: str | None = None, now: float | None = None) -> Job | None:
        """Atomically move the oldest runnable PENDING job of a lane to PROCESSING."""
        now = time.time() if now is None else now
        sub = "SELECT id FROM jobs WHERE status = 'PENDING' AND lane = ? AND backend = 'local' AND not_before <= ?"
        args: list[Any] = [lane, now]
        if batch_id is not None:
            sub += " AND batch_id = ?"
            args.append(batch_id)
        sub += " ORDER BY created_at, seq LIMIT 1"
        ts = utcnow()
        with self.transaction() as conn:
            row = conn.execute(
                f"UPDATE jobs SET status = 'PROCESSING', attempts = attempts + 1, claimed_by = ?, "
                f"started_at = ?, updated_at = ?, progress = 0, error_message = NULL, error_code = NULL "
                f"WHERE id = ({sub}) RETURNING {_COLUMNS}",
                [process_token(), ts, ts, *args],
            ).fetchone()
        return _row_to_job(row) if row else None

    def set_progress(self, job_id: str, progress: float) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ? AND status = 'PROCESSING'",
                (max(0.0, min(1.0, progress)), utcnow(), job_id),
            )

    def save_outputs(self, job_id: str, outputs: list[OutputRecord]) -> None:
        """Record outputs as each lands, so a resumed job never writes one twice."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET outputs = ?, updated_at = ? WHERE id = ?",
                (json.dumps([o.to_json() for o in outputs]), utcnow(), job_id),
            )
            written.remember(conn, outputs)

    def complete(
        self,
        job_id: str,
        *,
        outputs: list[OutputRecord],
        metadata: dict[str, Any] | None,
        warnings: list[str],
        status: JobStatus = JobStatus.COMPLETED,
    ) -> bool:
        ts = utcnow()
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE jobs SET status = ?, progress = 1, outputs = ?, metadata = ?, warnings = ?, "
                "error_message = NULL, error_code = NULL, finished_at = ?, updated_at = ?, claimed_by = NULL "
                "WHERE id = ? AND status = 'PROCESSING'",
                (
                    status.value,
                    json.dumps([o.to_json() for o in outputs]),
                    json.dumps(metadata) if metadata is not None else None,
                    json.dumps(warnings),
                    ts,
                    ts,
                    job_id,
                ),
            )
            if cur.rowcount == 1:
                written.remember(conn, outputs)
        return cur.rowcount == 1

    def fail(
        self,
        job_id: str,
        message: str,
        *,
        retry_at: float | None = None,
        warnings: list[str] | None = None,
        code: str | None = None,
    ) -> JobStatus:
        """Fail a job; with `retry_at` it goes back to PENDING until then (transient errors).

        `code` is the reason for programs (core.errors.ErrorCode), stored beside the message.
        """
        ts = utcnow()
        status = JobStatus.PENDING if retry_at is not None else JobStatus.FAILED
        with self.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET status = ?, error_message = ?, error_code = ?, not_before = ?, updated_at = ?, "
                "finished_at = CASE WHEN ? = 'FAILED' THEN ? ELSE finished_at END, claimed_by = NULL, "
                "warnings = COALESCE(?, warnings) WHERE id = ?",
                (
                    status.value,
                    message,
                    code,
                    retry_at or 0,
                    ts,
                    status.value,
                    ts,
                    json.dumps(warnings) if warnings is not None else None,
                    job_id,
                ),
            )
        return status

    def mark_cancelled(self, job_id: str) -> None:
        ts = utcnow()
        with self.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET status = 'CANCELLED', error_code = 'cancelled', cancel_requested = 0, "
                "claimed_by = NULL, "
                "finished_at = ?, updated_at = ? WHERE id = ? "
                "AND status NOT IN ('COMPLETED','FAILED','COMPLETED_WEBHOOK_FAILED')",
                (ts, ts, job_id),
            )

    def requeue(self, job_id: str) -> None:
        """Put an interrupted job back in the queue without spending an attempt."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET status = 'PENDING', attempts = MAX(0, attempts - 1), claimed_by = NULL, "
                "progress = 0, updated_at = ? WHERE id = ? AND status = 'PROCESSING'",
                (utcnow(), job_id),
            )

    def reassign_batch(self, job_ids: list[str], batch_id: str) -> None:
        """Adopt jobs of an interrupted earlier run into the current batch."""
        with self.transaction() as conn:
            for job_id in job_ids:
                conn.execute("UPDATE jobs SET batch_id = ?, updated_at = ? WHERE id = ?", (batch_id, utcnow(), job_id))

    def set_status(
        self, job_id: str, status: JobStatus, *, error_message: str | None = None, error_code: str | None = None
    ) -> None:
        """Plain status change (remote backend, webhook outcome)."""
        ts = utcnow()
        finished = ts if status in FINAL_STATUSES else None
        with self.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET status = ?, error_message = COALESCE(?, error_message), "
                "error_code = COALESCE(?, error_code), updated_at = ?, "
                "finished_at = COALESCE(?, finished_at) WHERE id = ?",
                (status.value, error_message, error_code, ts, finished, job_id),
            )

    def update_fields(self, job_id: str, **fields: Any) -> None:
        """Set raw columns (remote_job_id, metadata, …); JSON-encodes dicts and lists."""
        allowed = {
            "remote_job_id",
            "metadata",
            "warnings",
            "outputs",
            "progress",
            "error_message",
            "error_code",
            "request_id",
        }
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"not updatable: {sorted(bad)}")
        sets, args = [], []
        for k, v in fields.items():
            sets.append(f"{k} = ?")
            args.append(json.dumps(v) if isinstance(v, (dict, list)) else v)
        with self.transaction() as conn:
            conn.execute(f"UPDATE jobs SET {', '.join(sets)}, updated_at = ? WHERE id = ?", [*args, utcnow(), job_id])

    # ------------------------------------------------------------ user actions
    def request_cancel(self, job_id: str) -> JobStatus | None:
        """Cancel a pending job at once; flag a running one (checked between steps)."""
        with self.transaction() as conn:
            row = conn.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            status = JobStatus(row["status"])
            ts = utcnow()
            if status == JobStatus.PENDING:
                conn.execute(
                    "UPDATE jobs SET status = 'CANCELLED', error_code = 'cancelled', finished_at = ?, updated_at = ? "
                    "WHERE id = ?",
                    (ts, ts, job_id),
                )
                return JobStatus.CANCELLED
            if status == JobStatus.PROCESSING:
                conn.execute("UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ?", (ts, job_id))
            return status

    def is_cancel_requested(self, job_id: str) -> bool:
        rows = self.query("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,))
        return bool(rows and rows[0]["cancel_requested"])

    def retry_failed(self, *, batch_id: str | None = None, job_ids: list[str] | None = None) -> int:
        """FAILED and CANCELLED jobs go back to PENDING with a fresh attempt budget.

        Failures a later run has already redone (`superseded_failures`) stay as
        they are: retrying them would only write `photo_op (2).ext` beside the
        file that run made. Outputs a failed job recorded are kept, so the
        engine reuses the ones that landed.
        """
        skip = set(self.superseded_failures(batch_id=batch_id, job_ids=job_ids))
        sql = (
            "UPDATE jobs SET status = 'PENDING', attempts = 0, error_message = NULL, error_code = NULL, progress = 0, "
            "not_before = 0, cancel_requested = 0, finished_at = NULL, updated_at = ? "
            "WHERE status IN ('FAILED','CANCELLED')"
        )
        args: list[Any] = [utcnow()]
        if batch_id is not None:
            sql += " AND batch_id = ?"
            args.append(batch_id)
        if job_ids is not None:
            sql += f" AND id IN ({','.join('?' * len(job_ids))})"
            args += job_ids
        if skip:
            sql += f" AND id NOT IN ({','.join('?' * len(skip))})"
            args += sorted(skip)
        with self.transaction() as conn:
            return conn.execute(sql, args).rowcount

    def superseded_failures(self, *, batch_id: str | None = None, job_ids: list[str] | None = None) -> list[str]:
        """FAILED/CANCELLED jobs whose same file and request a job created after them has completed."""
        sql = (
            "SELECT f.id, f.operations AS fo, f.params AS fp, f.options AS fopt, "
            "s.operations AS so, s.params AS sp, s.options AS sopt FROM jobs f JOIN jobs s "
            "ON s.input_path = f.input_path AND s.id != f.id AND s.created_at > f.created_at "
            "AND s.status IN ('COMPLETED','COMPLETED_WEBHOOK_FAILED') WHERE f.status IN ('FAILED','CANCELLED')"
        )
        args: list[Any] = []
        if batch_id is not None:
            sql += " AND f.batch_id = ?"
            args.append(batch_id)
        if job_ids is not None:
            if not job_ids:
                return []
            sql += f" AND f.id IN ({','.join('?' * len(job_ids))})"
            args += job_ids
        out: list[str] = []
        for r in self.query(sql, args):
            same = all(json.loads(r[a]) == json.loads(r[b]) for a, b in (("fo", "so"), ("fp", "sp"), ("fopt", "sopt")))
            if same and r["id"] not in out:
                out.append(r["id"])
        return out

    def recover_interrupted(self) -> list[str]:
        """Re-queue jobs left PROCESSING by a process that died (crash, kill -9, power cut)."""
        return self.release_dead_claims(
            "jobs", "status = 'PROCESSING' AND backend = 'local'", "status = 'PENDING', progress = 0"
        )

    def release_dead_claims(self, table: str, claimed_where: str, reset_set: str) -> list[Any]:
        """Rows of `table` matching `claimed_where` whose claiming process is dead get `reset_set`.

        One recovery rule for every claimed queue (jobs, uploads, webhook outbox):
        a live owner keeps its rows, so two processes sharing the database never
        steal each other's work. The SQL fragments are constants of the callers.
        """
        rows = self.query(f"SELECT id, claimed_by FROM {table} WHERE {claimed_where}")
        dead = [r["id"] for r in rows if not _owner_alive(r["claimed_by"])]
        if dead:
            with self.transaction() as conn:
                for row_id in dead:
                    conn.execute(
                        f"UPDATE {table} SET {reset_set}, claimed_by = NULL, updated_at = ? "
                        f"WHERE id = ? AND {claimed_where}",
                        (utcnow(), row_id),
                    )
        return dead

    def delete(self, job_ids: list[str]) -> int:
        """Remove jobs from history (running ones are left alone)."""
        n = 0
        with self.transaction() as conn:
            for i in range(0, len(job_ids), 500):
                chunk = job_ids[i : i + 500]
                n += conn.execute(
                    f"DELETE FROM jobs WHERE status != 'PROCESSING' AND id IN ({','.join('?' * len(chunk))})", chunk
                ).rowcount
        return n

    def clear_history(self) -> int:
        """Forget finished jobs; history is only ever cleared by the user."""
        with self.transaction() as conn:
            return conn.execute(
                "DELETE FROM jobs WHERE status IN ('COMPLETED','FAILED','CANCELLED','COMPLETED_WEBHOOK_FAILED')"
            ).rowcount

    def known_output_paths(self, paths: Iterable[str | os.PathLike[str]]) -> set[str]:
        """Those of `paths` (as given) the app ever wrote as an output, even if the job is gone."""
        return written.known(self, paths)

    def integrity_check(self) -> str:
        rows = self.query("PRAGMA quick_check")
        return rows[0][0] if rows else "unknown"
