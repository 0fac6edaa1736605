"""Migrations 2 and 3 (uploads, webhook outbox) upgrade an existing v1 database in place."""

from __future__ import annotations

import sqlite3

from pixtools_desktop.core.store import JobStore
from pixtools_desktop.core.store.migrations import MIGRATIONS


def test_v1_database_upgrades_and_keeps_jobs(tmp_path):
    db = tmp_path / "jobs.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    for statement in MIGRATIONS[0].apply.split(";"):  # type: ignore[union-attr]
        if statement.strip():
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO jobs (id, input_path, operations, status, created_at, updated_at) "
        "VALUES ('j1', '/x.png', '[\"jpg\"]', 'COMPLETED', 't', 't')"
    )
    conn.close()
    with JobStore(db) as store:
        assert store.schema_version >= 3
        assert store.get("j1").status.value == "COMPLETED"
        tables = {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"uploads", "webhook_outbox"} <= tables
        with store.transaction() as c:
            c.execute(
                "INSERT INTO uploads (job_id, op, path, content_type, filename, bucket, key, created_at, "
                "updated_at) VALUES ('j1','jpg','/x_jpg.jpg','image/jpeg','f','b','k','t','t')"
            )
            c.execute(
                "INSERT INTO webhook_outbox (job_id, event, url, dedupe, created_at, updated_at) "
                "VALUES ('j1','job.completed','http://h/x','d','t','t')"
            )
        assert store.delete(["j1"]) == 1  # a job removed from history takes its sink rows along
        assert store.query("SELECT COUNT(*) FROM uploads")[0][0] == 0
        assert store.query("SELECT COUNT(*) FROM webhook_outbox")[0][0] == 0
    assert (tmp_path / "jobs.sqlite3.bak-v1").exists()
