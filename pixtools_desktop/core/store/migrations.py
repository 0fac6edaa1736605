"""Ordered, versioned schema migrations (vorta's pattern).

`PRAGMA user_version` holds the schema version. Each migration runs in its
own transaction, so a crash mid-migration leaves the previous version intact;
before migrating an existing database the file is copied aside
(`jobs.sqlite3.bak-v{N}`), so even a buggy migration cannot lose history.

To change the schema, append a `Migration` numbered above the highest one
present (a database already at version N never runs a migration numbered
below N) — never edit a released one. Numbers in use: 1 (jobs), 2-3 (cloud
sinks), 10 (remote backend and server), 20 (server hardening), 30 (error codes),
40 (work rates).
Ranges reserved per area: server 20-29, engine 30-39, sched 40-49, window 50-59,
cli 60-69, denoise 70-79.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[sqlite3.Connection], None] | str


_V1_JOBS = """
CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    batch_id        TEXT,
    seq             INTEGER NOT NULL DEFAULT 0,
    dedupe_key      TEXT,
    input_path      TEXT NOT NULL,
    operations      TEXT NOT NULL,           -- JSON array
    params          TEXT NOT NULL DEFAULT '{}',
    options         TEXT NOT NULL DEFAULT '{}',
    lane            TEXT NOT NULL DEFAULT 'std',  -- 'std' or 'model'
    status          TEXT NOT NULL,
    progress        REAL NOT NULL DEFAULT 0,
    error_message   TEXT,
    warnings        TEXT NOT NULL DEFAULT '[]',
    outputs         TEXT NOT NULL DEFAULT '[]',
    metadata        TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    claimed_by      TEXT,
    request_id      TEXT,
    backend         TEXT NOT NULL DEFAULT 'local',
    remote_job_id   TEXT,
    not_before      REAL NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    started_at      TEXT,
    finished_at     TEXT
);
CREATE INDEX jobs_status_lane ON jobs(status, lane, not_before);
CREATE INDEX jobs_batch ON jobs(batch_id, seq);
CREATE INDEX jobs_dedupe ON jobs(dedupe_key);
CREATE INDEX jobs_created ON jobs(created_at);
"""

# Cloud sinks (pixtools_desktop.cloud): one row per object to upload, its S3
# key chosen once at enqueue so a retry or a restart never uploads it twice.
_V2_UPLOADS = """
CREATE TABLE uploads (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    op              TEXT NOT NULL,
    path            TEXT NOT NULL,
    size            INTEGER NOT NULL DEFAULT 0,
    content_type    TEXT NOT NULL,
    filename        TEXT NOT NULL,           -- Content-Disposition name, pixtools_{op}_{base}.{ext}
    endpoint_url    TEXT,
    bucket          TEXT NOT NULL,
    key             TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',  -- pending / uploading / done / failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         REAL NOT NULL DEFAULT 0,
    claimed_by      TEXT,
    last_error      TEXT,
    etag            TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    uploaded_at     TEXT,
    UNIQUE (job_id, op)
);
CREATE INDEX uploads_due ON uploads(state, next_at);
CREATE INDEX uploads_job ON uploads(job_id);
"""

# Webhook outbox: a delivery is a row, claimed atomically and marked delivered
# right after the 2xx, so it survives a restart and is never sent twice.
# The body is built at send time (fresh presigned URLs); no secret is stored.
_V3_OUTBOX = """
CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    event           TEXT NOT NULL,           -- job.completed / job.failed
    url             TEXT NOT NULL,
    signed          INTEGER NOT NULL DEFAULT 0,  -- a secret was set when it was queued
    dedupe          TEXT NOT NULL UNIQUE,
    state           TEXT NOT NULL DEFAULT 'pending',  -- pending / sending / delivered / failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         REAL NOT NULL DEFAULT 0,
    claimed_by      TEXT,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    delivered_at    TEXT
);
CREATE INDEX outbox_due ON webhook_outbox(state, next_at);
CREATE INDEX outbox_job ON webhook_outbox(job_id);
"""

# Remote backend (client) and `pixtools serve` (server) state.
_V10_REMOTE = """
CREATE TABLE remote_jobs (
    job_id          TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    base_url        TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,           -- stored before the first POST
    phase           TEXT NOT NULL DEFAULT 'submit',  -- submit / poll / download
    remote_status   TEXT,
    next_at         REAL NOT NULL DEFAULT 0,
    interval_s      REAL NOT NULL DEFAULT 0,
    net_failures    INTEGER NOT NULL DEFAULT 0,
    server_errors   INTEGER NOT NULL DEFAULT 0,
    archive_waits   INTEGER NOT NULL DEFAULT 0,
    claimed_by      TEXT,
    updated_at      REAL NOT NULL DEFAULT 0
);
CREATE INDEX remote_jobs_due ON remote_jobs(base_url, next_at);
CREATE TABLE server_jobs (
    job_id          TEXT PRIMARY KEY,        -- written before the jobs row: no FK
    original_name   TEXT,
    original_base   TEXT NOT NULL,
    upload_path     TEXT NOT NULL,
    webhook_url     TEXT,
    webhook_state   TEXT NOT NULL DEFAULT 'none',   -- none / pending / sent / failed
    archive_path    TEXT,
    archive_state   TEXT NOT NULL DEFAULT 'none',   -- none / ready / failed
    created_ts      REAL NOT NULL
);
CREATE TABLE idempotency_keys (
    key             TEXT PRIMARY KEY,
    job_id          TEXT NOT NULL,
    created_ts      REAL NOT NULL
)
"""

# Server hardening (server helper, range 20-29): webhook URLs with credentials are
# stored sealed (cloud/sealed.py) beside a redacted copy; an idempotency key
# remembers a fingerprint of its first request; a remote job remembers when its
# server-side status last changed (the stall limit).
_V20_HARDENING = """
ALTER TABLE webhook_outbox ADD COLUMN url_sealed TEXT;
ALTER TABLE server_jobs ADD COLUMN webhook_sealed TEXT;
ALTER TABLE idempotency_keys ADD COLUMN fingerprint TEXT;
ALTER TABLE remote_jobs ADD COLUMN status_since REAL NOT NULL DEFAULT 0
"""

# Engine: a failure's reason for programs (core.errors.ErrorCode), beside the
# message meant for people, so nobody has to match message text.
_V30_ERROR_CODE = "ALTER TABLE jobs ADD COLUMN error_code TEXT"

# Run-state/ETA (sched): seconds per megapixel learned on this machine, per
# backend and kind of job, so the window's ETA has a basis from the first job.
_V40_WORK_RATES = """
CREATE TABLE work_rates (
    key             TEXT PRIMARY KEY,        -- e.g. 'local:denoise+webp', 'local:lane:model'
    seconds_per_mp  REAL NOT NULL,
    samples         INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT NOT NULL
)
"""


# Own outputs (window): every file the app wrote, outliving the jobs that wrote
# it (store/written.py), filled from the jobs already in the database; and what
# the watch folder has seen (store/watch_seen.py).
def _v50_own_files(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE written_outputs (path TEXT PRIMARY KEY, written_at REAL NOT NULL) WITHOUT ROWID")
    conn.execute(
        "INSERT OR IGNORE INTO written_outputs (path, written_at) "
        "SELECT json_extract(o.value, '$.path'), 0 FROM jobs, json_each(jobs.outputs) AS o "
        "WHERE json_extract(o.value, '$.path') IS NOT NULL"
    )
    # The watch folder's memory (store/watch_seen.py): baselines and the photos taken.
    conn.execute("CREATE TABLE watch_folders (folder TEXT PRIMARY KEY, since REAL NOT NULL) WITHOUT ROWID")
    conn.execute(
        "CREATE TABLE watch_seen (folder TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, "
        "mtime_ns INTEGER NOT NULL, PRIMARY KEY (folder, path)) WITHOUT ROWID"
    )


MIGRATIONS: list[Migration] = [
    Migration(1, "jobs table", _V1_JOBS),
    Migration(2, "S3 uploads table (cloud sinks)", _V2_UPLOADS),
    Migration(3, "webhook outbox table (cloud sinks)", _V3_OUTBOX),
    Migration(10, "remote backend poll state, serve jobs and idempotency keys", _V10_REMOTE),
    Migration(20, "sealed webhook URLs, idempotency fingerprints, remote stall clock", _V20_HARDENING),
    Migration(30, "error code beside each failure message (engine)", _V30_ERROR_CODE),
    Migration(40, "learned work rates for the ETA (sched)", _V40_WORK_RATES),
    Migration(50, "files written and photos watched, kept when jobs are cleared", _v50_own_files),
]


def current_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, db_path: Path | None = None) -> int:
    """Bring the schema to the newest version; return the version reached."""
    version = current_version(conn)
    pending = sorted((m for m in MIGRATIONS if m.version > version), key=lambda m: m.version)
    if not pending:
        return version
    if version > 0 and db_path is not None and db_path.exists():
        backup = db_path.with_name(f"{db_path.name}.bak-v{version}")
        conn.execute("PRAGMA wal_checkpoint(FULL)")
        shutil.copy2(db_path, backup)
        log.info("database backed up before migration", extra={"backup": str(backup)})
    for m in pending:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if current_version(conn) >= m.version:  # another process migrated while we waited for the lock
                conn.execute("COMMIT")
                continue
            if isinstance(m.apply, str):
                for statement in m.apply.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            else:
                m.apply(conn)
            conn.execute(f"PRAGMA user_version = {int(m.version)}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        log.info("schema migrated", extra={"version": m.version, "description": m.description})
    return pending[-1].version
