"""Crash safety: a CLI batch killed with SIGKILL midway completes exactly once on restart."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

from PIL import Image

from tests.cli.conftest import process_cmd
from tests.conftest import require_testdata


def wait_for_completed(db, n: int, timeout: float = 60) -> None:
    """Poll the running CLI's database (bounded) until n jobs are COMPLETED."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=5) as c:
                    if c.execute("SELECT COUNT(*) FROM jobs WHERE status = 'COMPLETED'").fetchone()[0] >= n:
                        return
            except sqlite3.OperationalError:
                pass
        time.sleep(0.02)


def test_sigkill_midway_then_rerun_completes_every_job_exactly_once(tmp_path, pixtools_home):
    src = sorted(require_testdata("testsets", "CBSD68").glob("*.png"))
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(100):
        im = Image.open(src[i % len(src)])
        im.crop((i % 7, i % 5, im.width - (i % 3), im.height)).save(inputs / f"img{i:03d}.png")
    out = tmp_path / "out"
    cmd = process_cmd(inputs, out, "webp,tiff", "--no-progress", workers=2)
    env = {**os.environ, "PIXTOOLS_HOME": str(pixtools_home)}
    db = pixtools_home / "data" / "jobs.sqlite3"
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_completed(db, 25)
        assert proc.poll() is None, "batch finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    with sqlite3.connect(db) as c:
        statuses = dict(c.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall())
    assert 25 <= statuses.get("COMPLETED", 0) < 100, statuses

    rerun = subprocess.run(cmd + ["--json"], env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr

    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT input_path, status FROM jobs").fetchall()
    assert len(rows) == 100, "the rerun must adopt the killed batch's jobs, not duplicate them"
    assert {s for _, s in rows} == {"COMPLETED"}
    files = sorted(p.name for p in out.iterdir())
    expected = sorted([f"img{i:03d}_webp.webp" for i in range(100)] + [f"img{i:03d}_tiff.tiff" for i in range(100)])
    assert files == expected, set(files) ^ set(expected)
    for name in files[::20]:
        Image.open(out / name).verify()


def test_ctrl_c_midway_leaves_jobs_queued_not_failed(tmp_path, pixtools_home):
    """Ctrl+C reaches the whole process group (CLI and its workers): nothing fails, a rerun finishes."""
    src = sorted(require_testdata("testsets", "CBSD68").glob("*.png"))
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(40):
        Image.open(src[i % len(src)]).save(inputs / f"img{i:03d}.png")
    out = tmp_path / "out"
    cmd = process_cmd(inputs, out, "webp,tiff", "--no-progress", workers=2)
    env = {**os.environ, "PIXTOOLS_HOME": str(pixtools_home)}
    db = pixtools_home / "data" / "jobs.sqlite3"
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # as from a shell
    try:
        wait_for_completed(db, 5)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert proc.returncode == 130, err
    assert err.decode().strip() == "Interrupted: unfinished jobs stay queued; run the same command again to resume."
    with sqlite3.connect(db) as c:
        statuses = dict(c.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall())
    assert "FAILED" not in statuses and "PROCESSING" not in statuses and statuses.get("COMPLETED", 0) < 40, statuses
    rerun = subprocess.run(cmd + ["--json"], env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert len(list(out.glob("*.webp"))) == 40 and len(list(out.glob("*.tiff"))) == 40
    assert not list(out.glob(".pixtools-tmp-*"))
