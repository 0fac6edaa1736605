"""Core fixtures: a real store, real photos, and real (tmpfs) full or read-only disks."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore
from tests.conftest import require_testdata


@pytest.fixture
def store(tmp_path):
    s = JobStore(tmp_path / "jobs.sqlite3")
    yield s
    s.close()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(workers=2, db_path=str(tmp_path / "jobs.sqlite3"))


@pytest.fixture
def cbsd68() -> Path:
    return require_testdata("testsets", "CBSD68")


@pytest.fixture
def exif_jpgs() -> Path:
    return require_testdata("exif", "jpg")


def _mount_tmpfs(path: Path, options: str) -> bool:
    if os.geteuid() != 0:
        return False
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    return r.returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 2 MB filesystem that fills up (tmpfs), or None where mounting is not allowed."""
    mnt = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    if not _mount_tmpfs(mnt, "size=2m"):
        yield None
        return
    try:
        yield mnt
    finally:
        _umount(mnt)


@pytest.fixture
def readonly_dir(tmp_path):
    """A folder nobody can write to: a read-only tmpfs as root (root ignores chmod), else chmod 555."""
    mnt = tmp_path / f"ro-{uuid.uuid4().hex[:6]}"
    if _mount_tmpfs(mnt, "ro,size=1m"):
        try:
            yield mnt
        finally:
            _umount(mnt)
        return
    mnt.mkdir()
    mnt.chmod(0o555)
    try:
        yield mnt
    finally:
        mnt.chmod(0o755)
