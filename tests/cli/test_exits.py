"""Honest exits: requests that cannot run say why once and exit 2; pipes and full disks end with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from PIL import Image

from tests.cli.conftest import fill, job_rows, process_cmd
from tests.conftest import require_testdata


def _no_traceback(proc) -> None:
    assert "Traceback" not in proc.stderr and "Error:" not in proc.stderr.replace("pixtools:", ""), proc.stderr


def test_missing_paths_are_named_and_exit_2_before_anything_runs(run_cli, photo_dir, tmp_path, pixtools_home):
    out = tmp_path / "out"
    proc = run_cli("process", "no/such/folder", "--ops", "webp", "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.strip() == "pixtools: no such file or folder: no/such/folder"
    proc = run_cli("process", str(photo_dir), "gone.jpg", "also/gone", "--ops", "webp", "--out", str(out))
    assert proc.returncode == 2 and "gone.jpg" in proc.stderr and "also/gone" in proc.stderr
    _no_traceback(proc)
    assert not out.exists(), "nothing may run when a path is wrong"
    assert (
        not (pixtools_home / "data" / "jobs.sqlite3").exists()
        or job_rows(pixtools_home / "data" / "jobs.sqlite3") == []
    )


def test_folder_with_images_only_in_subfolders_hints_recursive(run_cli, tmp_path):
    nested = tmp_path / "card"
    (nested / "DCIM" / "100").mkdir(parents=True)
    Image.new("RGB", (40, 30), "red").save(nested / "DCIM" / "100" / "a.png")
    (nested / "readme.txt").write_text("x")
    proc = run_cli("process", str(nested), "--ops", "webp", "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert f"no images found in {nested} (use --recursive to look in sub-folders)" in proc.stderr
    _no_traceback(proc)
    proc = run_cli("process", str(nested), "--ops", "webp", "--out", str(tmp_path / "o"), "-r")
    assert proc.returncode == 0 and (tmp_path / "o" / "a_webp.webp").exists()


def test_empty_input_is_not_success(run_cli, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_cli("process", str(empty), "--ops", "webp", "--recursive")
    assert proc.returncode == 2 and f"no images found in {empty}" in proc.stderr and "--recursive" not in proc.stderr


def test_an_empty_folder_beside_real_photos_is_a_note_not_an_error(run_cli, photo_dir, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_cli("process", str(photo_dir), str(empty), "--ops", "webp", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    assert f"no images found in {empty}" in proc.stderr and "4 done, 0 failed" in proc.stdout


def test_unknown_op_lists_the_valid_ones(run_cli, photo_dir):
    proc = run_cli("process", str(photo_dir), "--ops", "webp,sepia")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "pixtools: unknown operation 'sepia'; valid operations: jpg, png, webp, avif, denoise, metadata, tiff"
    )
    assert "OperationType" not in proc.stderr


def test_missing_denoise_model_is_said_once_before_the_batch(run_cli, photo_dir, tmp_path, pixtools_home):
    proc = run_cli("process", str(photo_dir), "--ops", "denoise,webp", "--out", str(tmp_path / "o"), "-r")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "pixtools models download" in lines[0] and "pixtools models import" in lines[0]
    assert not (tmp_path / "o").exists()
    listing = run_cli("jobs", "list", "--json", check=True)
    assert json.loads(listing.stdout) == [], "no job may be queued only to fail for the same reason"


def test_only_ffdnet_installed_auto_denoise_runs_and_dncnn_is_asked_for(run_cli, photo_dir, tmp_path):
    """With FFDNet alone installed, the default (auto) denoises with it; `model: dncnn` names its own fix."""
    ffdnet = require_testdata("weights", "FFDNet_color.mat")
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / ffdnet.name).symlink_to(ffdnet)
    env = {"PIXTOOLS_WEIGHTS": str(weights)}
    first = sorted(photo_dir.glob("*.png"))[0]
    proc = run_cli("process", str(first), "--ops", "denoise", "--out", str(tmp_path / "o"), "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    [job] = json.loads(proc.stdout)["jobs"]
    assert job["status"] == "COMPLETED" and (tmp_path / "o").exists()
    asked = run_cli(
        "process", str(first), "--ops", "denoise", "--params", '{"denoise": {"model": "dncnn"}}',
        "--out", str(tmp_path / "o2"), env=env,
    )  # fmt: skip
    assert asked.returncode == 2 and "pixtools models download" in asked.stderr, asked.stderr
    none = run_cli(
        "process", str(first), "--ops", "denoise", "--params", '{"denoise": {"model": "ffdnet"}}',
        "--out", str(tmp_path / "o3"), env={"PIXTOOLS_WEIGHTS": str(tmp_path / "empty")},
    )  # fmt: skip
    assert none.returncode == 2 and "--model ffdnet-color" in none.stderr, none.stderr


def test_jobs_show_takes_an_unambiguous_prefix(run_cli, photo_dir, tmp_path):
    run_cli("process", str(photo_dir), "--ops", "webp", "--out", str(tmp_path / "o"), check=True)
    ids = [j["job_id"] for j in json.loads(run_cli("jobs", "list", "--json", check=True).stdout)]
    # The shortest prefix that picks exactly one of the four jobs.
    prefix = next(i[:n] for n in range(1, 37) for i in ids if sum(x.startswith(i[:n]) for x in ids) == 1)
    shown = run_cli("jobs", "show", prefix)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["job_id"].startswith(prefix)
    missing = run_cli("jobs", "show", "zzzz")
    assert missing.returncode == 1 and "not found" in missing.stderr


def test_ambiguous_prefix_is_a_clear_error(run_cli, tmp_path, pixtools_home):
    from pixtools_desktop.core.store import JobStore, NewJob

    db = pixtools_home / "data" / "jobs.sqlite3"
    with JobStore(db) as store:
        store.add_jobs(
            [
                NewJob(input_path=str(tmp_path / f"{i}.png"), operations=["webp"], id=f"abcd{i}000-0000")
                for i in range(2)
            ]
        )
    proc = run_cli("jobs", "show", "abcd")
    assert proc.returncode == 2
    assert "'abcd' is ambiguous" in proc.stderr and "abcd0000-0000" in proc.stderr and "abcd1000-0000" in proc.stderr
    assert run_cli("jobs", "show", "abcd1").returncode == 0


def test_a_closed_pipe_ends_quietly(photo_dir, tmp_path, pixtools_home):
    """`pixtools … | head`: the reader is gone before we write; no BrokenPipeError traceback."""
    env = {**os.environ, "PIXTOOLS_HOME": str(pixtools_home)}
    for args in (
        ["process", str(photo_dir), "--ops", "webp,metadata", "--out", str(tmp_path / "o"), "--json"],
        ["jobs", "list"],
    ):
        r, w = os.pipe()
        os.close(r)  # like `head` that has already exited
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "pixtools_desktop", *args],
                stdout=w,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                timeout=120,
            )
        finally:
            os.close(w)
        assert proc.returncode == 141, (args, proc.stderr)
        assert proc.stderr.strip() == "", proc.stderr
    assert len(list((tmp_path / "o").glob("*.webp"))) == 4, "the batch itself ran before the summary was cut"


def test_full_job_database_disk_is_one_sentence_and_exit_2(small_disk, photo_dir, tmp_path):
    """PIXTOOLS_HOME on a real 1 MB filesystem: full before the run, and full with a database already there."""
    home = small_disk("1m")
    env = {**os.environ, "PIXTOOLS_HOME": str(home)}

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "pixtools_desktop", *args], capture_output=True, text=True, env=env, timeout=120
        )

    filler = fill(home)
    proc = cli("process", str(photo_dir), "--ops", "webp", "--out", str(tmp_path / "o"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().startswith("pixtools: the disk holding the job database is full"), proc.stderr
    assert "Traceback" not in proc.stderr and "sqlite3" not in proc.stderr

    filler.unlink()
    assert cli("process", str(photo_dir), "--ops", "webp", "--out", str(tmp_path / "o")).returncode == 0
    fill(home)
    for args in (
        ("process", str(photo_dir), "--ops", "jpg", "--out", str(tmp_path / "o2"), "-r"),
        ("jobs", "list"),
        ("jobs", "retry-failed"),
    ):
        proc = cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.strip().startswith("pixtools: the disk holding the job database is full"), proc.stderr
        assert "Traceback" not in proc.stderr


def test_job_database_disk_filling_mid_batch_stops_with_exit_2_and_resumes(small_disk, tmp_path):
    """The disk fills while a batch runs: one sentence, exit 2, and the same command finishes the batch later."""
    src = require_testdata("testsets", "CBSD68", "101085.png")
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(30):
        Image.open(src).crop((i, 0, 300 + i, 200)).save(inputs / f"img{i:02d}.png")
    home = small_disk("2m")
    env = {**os.environ, "PIXTOOLS_HOME": str(home)}
    db = home / "data" / "jobs.sqlite3"
    cmd = process_cmd(inputs, tmp_path / "out", "webp,tiff", "--no-progress", workers=1)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        import time

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if db.exists() and sum(1 for _, s, _ in job_rows(db) if s == "COMPLETED") >= 3:
                break
            time.sleep(0.05)
        filler = fill(home)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 2, (out, err)
    assert err.strip() == (
        f"pixtools: the disk holding the job database is full ({home / 'data'}). Free some space "
        "there (or move the database with PIXTOOLS_DB or PIXTOOLS_HOME) and run the same command "
        "again: unfinished jobs resume."
    ), err
    filler.unlink()
    rerun = subprocess.run(cmd + ["--json"], env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert len(job_rows(db)) == 30 and {s for _, s, _ in job_rows(db)} == {"COMPLETED"}
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted([f"img{i:02d}_webp.webp" for i in range(30)] + [f"img{i:02d}_tiff.tiff" for i in range(30)])
