"""CLI fixtures: run the real `pixtools` entry point in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_testdata


@pytest.fixture
def run_cli(pixtools_home):
    def run(*args: str, timeout: float = 120, env: dict | None = None, check: bool = False, cwd=None):
        e = {**os.environ, "PIXTOOLS_HOME": str(pixtools_home), **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "pixtools_desktop", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=e,
            cwd=cwd,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


@pytest.fixture
def photo_dir(tmp_path) -> Path:
    """A folder of real photos (CBSD68 crops) with a sub-folder."""
    from PIL import Image

    src = require_testdata("testsets", "CBSD68")
    d = tmp_path / "photos dir é"
    (d / "sub").mkdir(parents=True)
    for i, p in enumerate(sorted(src.glob("*.png"))[:6]):
        target = d / ("sub" if i >= 4 else "") / f"photo {i}.png"
        Image.open(p).crop((0, 0, 160, 120)).save(target)
    (d / "notes.txt").write_text("not an image")
    return d


def process_cmd(inputs: Path, out: Path, ops: str, *extra: str, workers: int = 2) -> list[str]:
    """`python -m pixtools_desktop process INPUTS --ops OPS --out OUT --workers N …` for subprocess."""
    return [sys.executable, "-m", "pixtools_desktop", "process", str(inputs), "--ops", ops, "--out", str(out),
            "--workers", str(workers), *extra]  # fmt: skip


def parse_json(stdout: str) -> dict:
    return json.loads(stdout)


def _mount_tmpfs(path: Path, size: str) -> bool:
    import subprocess as sp

    if os.geteuid() != 0:
        return False
    path.mkdir(parents=True, exist_ok=True)
    return (
        sp.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True).returncode == 0
    )


@pytest.fixture
def small_disk(tmp_path):
    """A real, small filesystem (tmpfs) we can fill and grow: `small_disk(size)` mounts one, unmounted after."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        mnt = tmp_path / f"disk{len(mounted)}"
        if not _mount_tmpfs(mnt, size):
            pytest.skip("mounting a tmpfs needs root (the full-disk tests use a real small filesystem)")
        mounted.append(mnt)
        return mnt

    yield mount
    for mnt in mounted:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def grow(mnt: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mnt)], check=True, capture_output=True)


def fill(mnt: Path) -> Path:
    """Write zeros until the filesystem is full; the returned file can be deleted to free it again."""
    filler = mnt / "filler.bin"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    return filler


def start_cli(args: list[str], env: dict, **kw) -> subprocess.Popen:
    """A real `pixtools` process that takes Ctrl+C like one started from a shell.

    A child of a background process may inherit SIGINT as ignored; reset it
    to the default in the child before exec, so SIGINT reaches Python.
    """
    import signal

    return subprocess.Popen(
        [sys.executable, "-m", "pixtools_desktop", *args],
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **kw,
    )


def job_rows(db: Path) -> list[tuple[str, str, float]]:
    """(id, status, progress) of every job, read straight from the database (bounded wait on a lock)."""
    import sqlite3

    with sqlite3.connect(db, timeout=5) as c:
        return c.execute("SELECT id, status, progress FROM jobs ORDER BY created_at").fetchall()


def processes_using(home: Path) -> list[int]:
    """Pids of live processes whose environment has PIXTOOLS_HOME=home (the CLI and its workers)."""
    needle = f"PIXTOOLS_HOME={home}".encode() + b"\0"
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            env = (d / "environ").read_bytes() + b"\0"
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env and state != "Z":
            pids.append(int(d.name))
    return pids
