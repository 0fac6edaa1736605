"""JobStore's narrower reads and writes of the `jobs` table, for the layers above core.

The window's queue model, the CLI, the remote backend and the cloud sinks
need a few row-level operations the job life cycle in `job_store.py` does
not cover. They live here so that every statement against `jobs` is in
core/store (layers above keep SQL only for their own tables: uploads,
webhook_outbox, remote_jobs, server_jobs). Methods taking ``conn`` join a
transaction the caller already holds (``with store.transaction() as conn``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

_QUEUE_COLUMNS = "id, input_path, operations, status, progress, error_message"


class JobRowsMixin:
    """Mixed into JobStore (needs its ``transaction`` and ``query``)."""

    if TYPE_CHECKING:  # provided by JobStore

        def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def query(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]: ...

    @contextmanager
    def _write(self, conn: sqlite3.Connection | None) -> Iterator[sqlite3.Connection]:
        if conn is not None:
            yield conn
        else:
            with self.transaction() as own:
                yield own

    # ------------------------------------------------------------ reads
    def queue_rows(self, ids: list[str] | None = None) -> list[sqlite3.Row]:
        """The window's queue columns: every job in queue order, or the given ids (≤ 500 per call)."""
        if ids is None:
            return self.query(f"SELECT {_QUEUE_COLUMNS} FROM jobs ORDER BY created_at, seq")
        return self.query(f"SELECT {_QUEUE_COLUMNS} FROM jobs WHERE id IN ({','.join('?' * len(ids))})", ids)

    def ids_with_prefix(self, prefix: str, *, limit: int = 6) -> list[str]:
        """Job ids starting with ``prefix`` (literal: % and _ match themselves), oldest first."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self.query(
            "SELECT id FROM jobs WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at LIMIT ?", (pattern, limit)
        )
        return [r["id"] for r in rows]

    def local_ids_held_by(self, claim_token: str) -> list[str]:
        """Local jobs PROCESSING under this claim (a process's own, to requeue on Ctrl+C)."""
        rows = self.query(
            "SELECT id FROM jobs WHERE status = 'PROCESSING' AND backend = 'local' AND claimed_by = ?", (claim_token,)
        )
        return [r["id"] for r in rows]

    def unfinished_on_backend(
        self, backend: str, *, conn: sqlite3.Connection | None = None
    ) -> list[tuple[str, str | None]]:
        """(id, remote_job_id) of this backend's PENDING/PROCESSING jobs."""
        sql = "SELECT id, remote_job_id FROM jobs WHERE backend = ? AND status IN ('PENDING','PROCESSING')"
        rows = conn.execute(sql, (backend,)).fetchall() if conn is not None else self.query(sql, (backend,))
        return [(r["id"], r["remote_job_id"]) for r in rows]

    # ------------------------------------------------------------ writes
    def mark_started(self, job_id: str) -> None:
        """PENDING -> PROCESSING without a claim (a remote upload starts); counts an attempt."""
        from pixtools_desktop.core.store.job_store import utcnow

        ts = utcnow()
        with self.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET status = 'PROCESSING', attempts = attempts + 1, started_at = COALESCE(started_at, ?), "
                "updated_at = ? WHERE id = ? AND status = 'PENDING'",
                (ts, ts, job_id),
            )

    def assign_backend(self, job_ids: list[str], backend: str) -> None:
        """Hand not-yet-started jobs (never sent to a server) to ``backend``."""
        with self.transaction() as conn:
            for job_id in job_ids:
                conn.execute(
                    "UPDATE jobs SET backend = ? WHERE id = ? AND status = 'PENDING' AND remote_job_id IS NULL",
                    (backend, job_id),
                )

    def replace_warning(self, job_id: str, prefix: str, text: str | None) -> None:
        """Replace the job's warning starting with ``prefix`` by ``text`` (None: remove it), atomically."""
        from pixtools_desktop.core.store.job_store import utcnow

        with self.transaction() as conn:
            row = conn.execute("SELECT warnings FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return
            warnings = [w for w in json.loads(row["warnings"] or "[]") if not w.startswith(prefix)]
            if text:
                warnings.append(text)
            conn.execute(
                "UPDATE jobs SET warnings = ?, updated_at = ? WHERE id = ?", (json.dumps(warnings), utcnow(), job_id)
            )

    def clear_webhook_failed(self, job_id: str, *, conn: sqlite3.Connection | None = None) -> None:
        """COMPLETED_WEBHOOK_FAILED -> COMPLETED once a late delivery succeeded."""
        from pixtools_desktop.core.store.job_store import utcnow

        with self._write(conn) as c:
            c.execute(
                "UPDATE jobs SET status = 'COMPLETED', updated_at = ? WHERE id = ? "
                "AND status = 'COMPLETED_WEBHOOK_FAILED'",
                (utcnow(), job_id),
            )
