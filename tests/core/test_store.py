"""The job store on a real SQLite file: WAL, migrations, atomic claims, recovery."""

import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading

import pytest

from pixtools_desktop.core.jobs import JobStatus, OutputOptions, OutputRecord
from pixtools_desktop.core.store import JobStore, NewJob, migrations


@pytest.fixture
def store(tmp_path):
    s = JobStore(tmp_path / "jobs.sqlite3")
    yield s
    s.close()


def _new(n=1, ops=("webp",), batch="b1"):
    return [NewJob(input_path=f"/tmp/in{i}.jpg", operations=list(ops), batch_id=batch, seq=i) for i in range(n)]


def test_wal_mode_and_schema_version(store):
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    assert store.schema_version == max(m.version for m in migrations.MIGRATIONS)


def test_add_and_read_back_roundtrip(store):
    opts = OutputOptions(output_dir="/out", naming_template="{n}_{stem}.{ext}", bundle_zip=True)
    [job] = store.add_jobs([NewJob("/x/a.jpg", ["webp", "metadata"], {"webp": {"quality": 70}}, opts, "b", 3)])
    got = store.get(job.id)
    assert got.status == JobStatus.PENDING and got.options == opts and got.params == {"webp": {"quality": 70}}
    assert got.seq == 3 and got.operations == ["webp", "metadata"]


def test_denoise_jobs_go_to_the_model_lane(store):
    store.add_jobs(_new(1, ("webp",)) + _new(1, ("denoise",), batch="b2"))
    assert store.claim_next("model").operations == ["denoise"]
    assert store.claim_next("model") is None
    assert store.claim_next("std").operations == ["webp"]


def test_claims_are_exclusive_across_threads(store):
    store.add_jobs(_new(200))
    claimed, lock = [], threading.Lock()

    def worker():
        while (job := store.claim_next("std")) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 200 and len(set(claimed)) == 200


def _claim_in_child(path, q):
    s = JobStore(path)
    ids = []
    while (job := s.claim_next("std")) is not None:
        ids.append(job.id)
    s.close()
    q.put(ids)


def test_claims_are_exclusive_across_processes(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    with JobStore(path) as s:
        s.add_jobs(_new(120))
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_claim_in_child, args=(path, q)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [q.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    ids = [i for r in results for i in r]
    assert len(ids) == 120 and len(set(ids)) == 120


def test_failure_with_retry_goes_back_to_pending_until_backoff(store):
    [job] = store.add_jobs(_new(1))
    store.claim_next("std", now=0)
    assert store.fail(job.id, "disk full", retry_at=1000.0) == JobStatus.PENDING
    assert store.claim_next("std", now=999.0) is None
    again = store.claim_next("std", now=1001.0)
    assert again.id == job.id and again.attempts == 2


def test_retry_failed_resets_attempts_and_error(store):
    jobs = store.add_jobs(_new(3))
    for j in jobs[:2]:
        store.claim_next("std")
        store.fail(j.id, "broken file")
    assert store.count_by_status()["FAILED"] == 2
    assert store.retry_failed() == 2
    j = store.get(jobs[0].id)
    assert j.status == JobStatus.PENDING and j.attempts == 0 and j.error_message is None


def test_cancel_pending_at_once_and_running_by_flag(store):
    a, b = store.add_jobs(_new(2))
    assert store.request_cancel(a.id) == JobStatus.CANCELLED
    running = store.claim_next("std")
    assert running.id == b.id
    assert store.request_cancel(b.id) == JobStatus.PROCESSING
    assert store.is_cancel_requested(b.id)


def test_recover_requeues_jobs_of_dead_processes_only(store, tmp_path):
    a, b = store.add_jobs(_new(2))
    store.claim_next("std")  # claimed by this (live) process
    store.claim_next("std")
    # Pretend job b was claimed by a process that has since died.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with store.transaction() as conn:
        conn.execute("UPDATE jobs SET claimed_by = ? WHERE id = ?", (f"{os.uname().nodename}:{dead.pid}", b.id))
    assert store.recover_interrupted() == [b.id]
    assert store.get(b.id).status == JobStatus.PENDING
    assert store.get(a.id).status == JobStatus.PROCESSING


def test_complete_records_outputs_metadata_and_warnings(store):
    [job] = store.add_jobs(_new(1))
    store.claim_next("std")
    out = [OutputRecord("webp", "/o/a.webp", 123, "image/webp")]
    assert store.complete(job.id, outputs=out, metadata={"iso": 100}, warnings=["w"])
    got = store.get(job.id)
    assert got.status == JobStatus.COMPLETED and got.outputs == out and got.metadata == {"iso": 100}
    assert got.finished_at and got.progress == 1


def test_history_is_kept_until_cleared(store):
    jobs = store.add_jobs(_new(3))
    store.claim_next("std")
    store.complete(jobs[0].id, outputs=[], metadata=None, warnings=[])
    assert store.clear_history() == 1
    assert len(store.list_jobs()) == 2


def test_migration_backs_up_and_applies_in_order(tmp_path, monkeypatch):
    path = tmp_path / "jobs.sqlite3"
    with JobStore(path) as s:
        s.add_jobs(_new(2))
    extra = migrations.Migration(999, "test column", "ALTER TABLE jobs ADD COLUMN note TEXT")
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, extra])
    with JobStore(path) as s:
        assert s.schema_version == 999
        assert len(s.list_jobs()) == 2
    backups = list(tmp_path.glob("jobs.sqlite3.bak-v*"))
    assert len(backups) == 1
    old = sqlite3.connect(backups[0])
    assert old.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 2
    old.close()


def test_failed_migration_rolls_back(tmp_path, monkeypatch):
    path = tmp_path / "jobs.sqlite3"
    JobStore(path).close()
    bad = migrations.Migration(998, "broken", "ALTER TABLE jobs ADD COLUMN a TEXT; THIS IS NOT SQL")
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, bad])
    with pytest.raises(sqlite3.OperationalError):
        JobStore(path)
    conn = sqlite3.connect(path)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(jobs)")]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    assert "a" not in cols and version < 998


def test_migration_50_remembers_the_outputs_of_jobs_already_in_the_database(tmp_path, monkeypatch):
    """A database from before the written_outputs table: its jobs' outputs become known files."""

    path = tmp_path / "jobs.sqlite3"
    before_50 = [m for m in migrations.MIGRATIONS if m.version < 50]
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", before_50)
        with JobStore(path) as s:
            [job] = s.add_jobs(_new(1))
            out = str(tmp_path / "out" / "a_jpg.jpg")
            with s.transaction() as conn:  # as the code before version 50 recorded outputs: on the row only
                outputs = json.dumps([OutputRecord("jpg", out, 10, "image/jpeg").to_json()])
                conn.execute("UPDATE jobs SET outputs = ?, status = 'COMPLETED' WHERE id = ?", (outputs, job.id))
            assert s.schema_version == 40
    with JobStore(path) as s:
        assert s.schema_version == max(m.version for m in migrations.MIGRATIONS)
        s.clear_history()
        assert s.known_output_paths([out, str(tmp_path / "other.jpg")]) == {out}
