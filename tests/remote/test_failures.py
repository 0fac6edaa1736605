"""Error codes, lost connections, restarts of either side, and idempotent resubmits — all over real HTTP."""

from __future__ import annotations

import http.server
import logging
import threading
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from pixtools_desktop.core.jobs import JobStatus
from pixtools_desktop.core.logs import setup_logging
from pixtools_desktop.core.store import JobStore
from pixtools_desktop.remote import state
from pixtools_desktop.remote.api import ApiClient, explain_status
from pixtools_desktop.remote.backend import RemoteBackend
from tests.remote.conftest import API_KEY
from tests.remote.helpers import fast_settings, make_png, new_job, run_jobs, wait_for
from tests.server.serve_proc import free_port


@pytest.fixture
def store(tmp_path):
    with JobStore(tmp_path / "jobs.sqlite3") as s:
        yield s


@pytest.mark.parametrize(
    "key, message",
    [
        ("not-the-key", "The server rejected the API key (401)"),
        (None, "The server requires an API key (401)"),
    ],
)
def test_wrong_and_missing_api_key(store, server, tmp_path, key, message):
    [job] = run_jobs(
        store, fast_settings(), server.url, [new_job(make_png(tmp_path / "k.png"), ["jpg"], tmp_path)], api_key=key
    )
    assert job.status == JobStatus.FAILED and job.error_message.startswith(message)


def test_unknown_remote_job_404(store, server, tmp_path):
    backend = RemoteBackend(store, fast_settings(), base_url=server.url, api_key=API_KEY)
    backend.pause()
    try:
        [job] = backend.submit([new_job(make_png(tmp_path / "g.png"), ["jpg"], tmp_path)])
        store.update_fields(job.id, remote_job_id=str(uuid.uuid4()))  # as if the server forgot it (24 h retention)
        state.update(store, job.id, phase=state.POLL)
        state.mark_processing(store, job.id)
        backend.start()
        assert backend.wait_idle(timeout=30)
    finally:
        backend.stop()
    job = store.get(job.id)
    assert job.status == JobStatus.FAILED
    assert job.error_message.startswith("The server no longer has this job (404: Job ") and "24 h" in job.error_message


def test_413_from_a_server_with_a_smaller_limit(store, serve_factory, tmp_path):
    srv = serve_factory(extra_args=["--max-upload-mb", "1"])
    noise = (np.random.default_rng(1).random((700, 700, 3)) * 255).astype("uint8")
    src = tmp_path / "noise.png"
    Image.fromarray(noise).save(src)
    assert 1024 * 1024 < src.stat().st_size < 10 * 1024 * 1024
    [job] = run_jobs(store, fast_settings(), srv.url, [new_job(src, ["jpg"], tmp_path)])
    assert job.status == JobStatus.FAILED
    assert job.error_message == "The file is too large for the server (413): File exceeds 1MB limit"


def test_400_and_422_answers_read_well(server):
    """A correct client never triggers these, so map real answers of the real server."""
    png = (Path(__file__).parent / "helpers.py").read_bytes()  # not an image
    r400 = httpx.post(
        f"{server.url}/api/process",
        data={"operations": '["jpg"]'},
        files={"file": ("a.png", png, "image/png")},
        headers={"X-API-Key": API_KEY},
    )
    err = explain_status(r400, base_url=server.url, what="submit", has_key=True)
    assert str(err).startswith("The server refused the file (400): File content does not match its declared type")
    r422 = httpx.post(
        f"{server.url}/api/process", files={"file": ("a.png", png, "image/png")}, headers={"X-API-Key": API_KEY}
    )
    err = explain_status(r422, base_url=server.url, what="submit", has_key=True)
    assert str(err) == "The server rejected the request (422): operations: Field required"
    r404 = httpx.get(f"{server.url}/nothing-here")
    assert "does not offer the PixTools API (404" in str(
        explain_status(r404, base_url=server.url, what="submit", has_key=False)
    )


class _Always503(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"detail":"database is down"}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def test_5xx_retried_then_failed(store, tmp_path):
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Always503)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="http-503")
    t.start()
    try:
        [job] = run_jobs(
            store,
            fast_settings(max_attempts=2),
            f"http://127.0.0.1:{httpd.server_port}",
            [new_job(make_png(tmp_path / "s.png"), ["jpg"], tmp_path)],
            timeout=30,
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
        t.join(5)
    assert job.status == JobStatus.FAILED
    assert job.error_message == "The server had an internal error (503): database is down. Gave up after 3 tries."


def test_unreachable_server_pauses_then_gives_up(store, tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    backend = RemoteBackend(store, fast_settings(), base_url=url, max_offline_retries=3)
    backend.start()
    try:
        [job] = backend.submit([new_job(make_png(tmp_path / "n.png"), ["jpg"], tmp_path)])
        paused = wait_for(lambda: (j := store.get(job.id)).error_message and j)
        assert paused.status == JobStatus.PROCESSING  # waiting, not failed
        assert paused.error_message.startswith(f"Connection lost: Cannot reach the server at {url}")
        assert backend.wait_idle(timeout=30)
    finally:
        backend.stop()
    job = store.get(job.id)
    assert job.status == JobStatus.FAILED and job.error_message.endswith("Gave up after 3 retries.")


def test_resubmit_with_same_idempotency_key_returns_same_job(store, server, tmp_path):
    src = make_png(tmp_path / "i.png")
    api = ApiClient(server.url, API_KEY)
    try:
        a = api.submit(
            src,
            filename="i.png",
            mime="image/png",
            operations=["jpg"],
            params={},
            webhook_url=None,
            idempotency_key="k-same",
            request_id=None,
        )
        b = api.submit(
            src,
            filename="i.png",
            mime="image/png",
            operations=["jpg"],
            params={},
            webhook_url=None,
            idempotency_key="k-same",
            request_id=None,
        )
    finally:
        api.close()
    assert a == b
    # A POST whose answer was lost (timeout): the retry carries the stored key and gets that same job.
    backend = RemoteBackend(store, fast_settings(), base_url=server.url, api_key=API_KEY)
    backend.pause()
    try:
        [job] = backend.submit([new_job(src, ["webp"], tmp_path / "o")])
        key = state.load(store, job.id).idempotency_key
        assert key == state.idempotency_key_for(job.id)
        lost = ApiClient(server.url, API_KEY)
        try:
            first = lost.submit(
                src,
                filename="i.png",
                mime="image/png",
                operations=["webp"],
                params={},
                webhook_url=None,
                idempotency_key=key,
                request_id=None,
            )
        finally:
            lost.close()
        backend.start()
        backend.resume()
        assert backend.wait_idle(timeout=30)
    finally:
        backend.stop()
    job = store.get(job.id)
    assert job.status == JobStatus.COMPLETED and job.remote_job_id == first


def test_server_restart_while_polling(store, serve_factory, tmp_path):
    srv = serve_factory(api_key=API_KEY, extra_args=["--workers", "1"])
    srcs = [make_png(tmp_path / f"r{i}.png", size=(400, 300), color=(i * 40, 90, 200)) for i in range(4)]
    backend = RemoteBackend(store, fast_settings(), base_url=srv.url, api_key=API_KEY)
    backend.start()
    try:
        jobs = backend.submit([new_job(p, ["avif", "webp"], tmp_path / "o") for p in srcs])
        wait_for(lambda: all(store.get(j.id).remote_job_id for j in jobs))
        srv.stop()  # graceful: queued jobs stay in the server's store
        wait_for(lambda: any((store.get(j.id).error_message or "").startswith("Connection lost") for j in jobs))
        assert not any(store.get(j.id).status.is_final and store.get(j.id).status != JobStatus.COMPLETED for j in jobs)
        srv.start()  # same port, same data dir
        assert backend.wait_idle(timeout=60)
    finally:
        backend.stop()
    for j in store.get_many([j.id for j in jobs]):
        assert j.status == JobStatus.COMPLETED, j.error_message
        assert j.error_message is None
        assert {Image.open(o.path).format for o in j.outputs} == {"AVIF", "WEBP"}


def test_desktop_restart_resumes_polling_and_downloads(tmp_path, server):
    db = tmp_path / "jobs.sqlite3"
    src = make_png(tmp_path / "d.png")
    with JobStore(db) as store:
        slow = RemoteBackend(store, fast_settings(poll_interval=30.0), base_url=server.url, api_key=API_KEY)
        slow.start()
        try:
            [job] = slow.submit([new_job(src, ["jpg", "webp"], tmp_path / "o")])
            wait_for(lambda: store.get(job.id).remote_job_id)
        finally:
            slow.stop()  # the app quits before the first poll
        assert store.get(job.id).status == JobStatus.PROCESSING
    with JobStore(db) as store:  # the app starts again
        again = RemoteBackend(store, fast_settings(), base_url=server.url, api_key=API_KEY)
        again.start()
        try:
            assert again.wait_idle(timeout=30)
        finally:
            again.stop()
        job = store.get(job.id)
    assert job.status == JobStatus.COMPLETED
    assert sorted(Image.open(o.path).format for o in job.outputs) == ["JPEG", "WEBP"]


def test_api_key_never_reaches_db_or_logs(tmp_path, server, pixtools_home):
    log_file = setup_logging(logging.INFO)
    try:
        db = tmp_path / "jobs.sqlite3"
        with JobStore(db) as store:
            (ok,) = run_jobs(
                store,
                fast_settings(),
                server.url,
                [new_job(make_png(tmp_path / "s.png"), ["jpg"], tmp_path)],
                api_key=API_KEY,
            )
            (bad,) = run_jobs(
                store,
                fast_settings(),
                server.url,
                [new_job(make_png(tmp_path / "t.png"), ["webp"], tmp_path)],
                api_key="wrong-" + API_KEY,
            )
            assert ok.status == JobStatus.COMPLETED and bad.status == JobStatus.FAILED
        for handler in logging.getLogger().handlers:
            handler.flush()
        blobs = [p.read_bytes() for p in tmp_path.glob("jobs.sqlite3*")] + [Path(log_file).read_bytes()]
        assert b"remote job submitted" in blobs[-1]  # the log did record the run
        assert not any(API_KEY.encode() in b for b in blobs)
    finally:
        root = logging.getLogger()
        for h in list(root.handlers):
            if getattr(h, "baseFilename", None) == str(log_file):
                root.removeHandler(h)
                h.close()
