"""Reruns and retries reuse what landed: never `photo_op (2).ext` beside a file an earlier attempt wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from PIL import Image

from tests.cli.conftest import grow, job_rows, process_cmd
from tests.conftest import require_testdata


def _kodak(tmp_path, names):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for n in names:
        Image.open(require_testdata("testsets", "Kodak24", f"{n}.png")).save(inputs / f"{n}.png")
    return inputs


def test_rerun_after_disk_full_adopts_the_outputs_that_landed(small_disk, tmp_path, pixtools_home):
    """A real 1.6 MB disk: the batch fills it midway; grow it, rerun the same command: no '(2)' files."""
    inputs = _kodak(tmp_path, ["kodim01", "kodim02", "kodim03", "kodim04", "kodim05", "kodim06"])
    disk = small_disk("1600k")
    out = disk / "out"
    env = {**os.environ, "PIXTOOLS_HOME": str(pixtools_home), "PIXTOOLS_MAX_ATTEMPTS": "1"}
    cmd = process_cmd(inputs, out, "webp,tiff", "--json", workers=1)
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 1, first.stderr
    failed = [j for j in json.loads(first.stdout)["jobs"] if j["status"] == "FAILED"]
    assert failed and all("disk is full" in j["error_message"] for j in failed)
    landed_before = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    # The point of the test: some failed job had already written one of its outputs.
    partial = [j for j in failed if any(o["path"] for o in j["outputs"] if os.path.exists(o["path"]))]
    assert partial, f"no failed job had a landed output; disk too big or too small: {sorted(landed_before)}"

    grow(disk, "20m")
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    names = sorted(p.name for p in out.iterdir())
    expected = sorted(f"kodim0{i}_{op}" for i in range(1, 7) for op in ("webp.webp", "tiff.tiff"))
    assert names == expected, names
    assert landed_before <= set(names)
    assert len(job_rows(pixtools_home / "data" / "jobs.sqlite3")) == 6, "the failed jobs were re-queued, not copied"

    retry = subprocess.run(
        [sys.executable, "-m", "pixtools_desktop", "jobs", "retry-failed"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert retry.returncode == 0 and "0 job(s) queued again" in retry.stdout, retry.stdout + retry.stderr
    assert sorted(p.name for p in out.iterdir()) == expected


def test_retry_failed_skips_failures_a_later_run_already_fixed(run_cli, tmp_path):
    """A broken file fails; the user fixes it and runs the command again; retry-failed must not redo it."""
    good = require_testdata("testsets", "CBSD68", "101085.png")
    photo = tmp_path / "in" / "101085.png"
    photo.parent.mkdir()
    photo.write_bytes(good.read_bytes()[:700])
    out = tmp_path / "out"
    first = run_cli("process", str(photo), "--ops", "jpg,webp", "--out", str(out))
    assert first.returncode == 1
    photo.write_bytes(good.read_bytes())  # fixed: a new size and mtime, so a new job
    assert run_cli("process", str(photo), "--ops", "jpg,webp", "--out", str(out)).returncode == 0
    retry = run_cli("jobs", "retry-failed")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert "0 job(s) queued again" in retry.stdout
    assert "1 failed job(s) left as they are: a later run already did the same work" in retry.stdout
    assert sorted(p.name for p in out.iterdir()) == ["101085_jpg.jpg", "101085_webp.webp"]


def test_retry_adopts_the_outputs_a_failed_job_already_wrote(run_cli, small_disk, tmp_path, pixtools_home):
    """retry-failed (not a rerun) after a full disk: the output that landed is reused, the missing one written."""
    inputs = _kodak(tmp_path, ["kodim01", "kodim02", "kodim03", "kodim04"])
    disk = small_disk("1100k")
    out = disk / "out"
    proc = run_cli(
        "process",
        str(inputs),
        "--ops",
        "webp,tiff",
        "--out",
        str(out),
        "--workers",
        "1",
        env={"PIXTOOLS_MAX_ATTEMPTS": "1"},
    )
    assert proc.returncode == 1
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if not p.name.startswith(".")}
    assert any(n.replace("_webp.webp", "_tiff.tiff") not in before for n in before if n.endswith("_webp.webp")), (
        f"no failed job had written its first output: {sorted(before)}"
    )
    grow(disk, "20m")
    retry = run_cli("jobs", "retry-failed")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"kodim0{i}_{op}" for i in range(1, 5) for op in ("webp.webp", "tiff.tiff")), names
    for name, mtime in before.items():
        assert (out / name).stat().st_mtime_ns == mtime, f"{name} was written again"
