"""Claims survive container restarts: a new PID 1 never mistakes a dead PID 1's claims for its own.

Reproduces the container case with `unshare --pid --fork --mount-proc`: the
first child claims a job, an upload and a webhook delivery as PID 1 and dies;
the second child is PID 1 again and must re-queue all three (with host:pid
claims it kept them PROCESSING forever).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pixtools_desktop.core.store import claims

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("claim_child.py")


def _unshare_prefix() -> list[str]:
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is not installed")
    for prefix in (
        ["unshare", "--pid", "--fork", "--mount-proc"],
        ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc"],
    ):
        if subprocess.run([*prefix, "true"], capture_output=True, timeout=20).returncode == 0:
            return prefix
    pytest.skip("PID namespaces are not available here (unshare --pid failed, also with --user)")


def _run(prefix: list[str], mode: str, db: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [*prefix, sys.executable, str(CHILD), mode, str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_restarted_pid1_recovers_claims_of_dead_pid1(tmp_path):
    prefix = _unshare_prefix()
    db = tmp_path / "jobs.sqlite3"
    first = _run(prefix, "claim", db)
    assert first["pid"] == 1 and first["job"] and first["upload"] and first["outbox"]
    second = _run(prefix, "recover", db)
    assert second["pid"] == 1  # the same PID as the dead owner
    assert (second["jobs"], second["uploads"], second["outbox"]) == (1, 1, 1)


def test_token_is_per_process_and_judged_by_more_than_the_pid():
    me = claims.process_token()
    assert claims.owner_alive(me)
    host, pid = claims.HOST, os.getpid()
    start = me.split(":")[-2]
    assert not claims.owner_alive(f"{host}:{pid}:{start}:0000000000000000")  # our pid, another process
    assert not claims.owner_alive(f"{host}:{pid}")  # legacy token with our pid: an earlier life
    parent = os.getppid()  # alive, but it did not start at our start time
    assert claims.owner_alive(f"{host}:{parent}:{claims._start_ticks(parent)}:ab")
    assert not claims.owner_alive(f"{host}:{parent}:1:ab")
    assert claims.owner_alive(f"elsewhere:{pid}:1:ab")  # another machine: not ours to judge
    child = subprocess.run(
        [sys.executable, "-c", "from pixtools_desktop.core.store import claims;print(claims.process_token())"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    ).stdout.strip()
    assert child and child != me and not claims.owner_alive(child)  # that process has exited
