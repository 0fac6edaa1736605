"""Issue 15.1: a job the server accepts and never finishes fails after the stall limit, with a clear sentence."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from pixtools_desktop.core.jobs import JobStatus
from pixtools_desktop.core.store import JobStore
from pixtools_desktop.remote.backend import RemoteBackend
from tests.remote.helpers import fast_settings, make_png, new_job, wait_for
from tests.remote.stub_server import StallingServer
from tests.server.serve_proc import REPO


def test_cli_ends_with_the_message_and_exit_1(tmp_path):
    src = make_png(tmp_path / "lost.png")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTOOLS_")}
    env.update(PIXTOOLS_HOME=str(tmp_path / "home"), PIXTOOLS_POLL_INTERVAL="0.1", PIXTOOLS_REMOTE_STALL_PENDING_S="2")
    with StallingServer() as stub:
        t0 = time.monotonic()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pixtools_desktop",
                "process",
                str(src),
                "--ops",
                "jpg",
                "--backend",
                stub.url,
                "--out",
                str(tmp_path / "out"),
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - t0
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert f"The server at {stub.url} accepted this job" in out and "never started it" in out, out
    assert elapsed < 30, elapsed
    assert stub.polls >= 2


def test_stall_shows_while_waiting_then_retry_resubmits_under_a_fresh_key(tmp_path):
    settings = fast_settings()
    with StallingServer(status="PROCESSING") as stub, JobStore(tmp_path / "jobs.sqlite3") as store:
        backend = RemoteBackend(store, settings, base_url=stub.url, stall_pending_s=1.0, stall_processing_s=0.6)
        backend.start()
        try:
            [job] = backend.submit([new_job(make_png(tmp_path / "a.png"), ["jpg", "denoise"], tmp_path / "out")])
            note = wait_for(
                lambda: (
                    (store.get(job.id).error_message or "").startswith("Waiting on the server") and store.get(job.id)
                ),
                timeout=10,
            )
            assert note.status == JobStatus.PROCESSING and "not finished after" in note.error_message
            failed = wait_for(lambda: store.get(job.id).status == JobStatus.FAILED and store.get(job.id), timeout=20)
            assert failed.error_message.startswith(f"The server at {stub.url} reported this job as PROCESSING for")
            # jpg + denoise weigh 1 + 3: the PROCESSING limit is 4 x 0.6 s
            started = time.time()
            assert store.retry_failed(job_ids=[job.id]) == 1
            backend.wake()
            wait_for(lambda: len(stub.keys) == 2, timeout=10)
            assert stub.keys[0] != stub.keys[1] and all(k and k.startswith("pixtools-desktop-") for k in stub.keys)
            again = wait_for(lambda: store.get(job.id).status == JobStatus.FAILED and store.get(job.id), timeout=20)
            assert time.time() - started >= 2.0 and "PROCESSING" in again.error_message
        finally:
            backend.stop()
