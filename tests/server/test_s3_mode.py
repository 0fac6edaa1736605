"""`pixtools serve` in S3 mode against a real SeaweedFS (tests/cloud/cloud_servers.py).

Checked end to end: results and the archive land under PixTools' key layout,
GET /api/jobs/{id} hands out S3 presigned URLs (re-signed each read) that
download the right files with upstream's names, COMPLETED never shows before
the results are stored, the desktop RemoteBackend downloads them, the
webhook carries the S3 URLs, and a dead S3 fails the job after bounded retries.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import time
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from PIL import Image

from pixtools_desktop.core.jobs import JobStatus
from pixtools_desktop.core.store import JobStore
from tests.cloud.cloud_servers import ACCESS_KEY, BUCKET, SECRET_KEY, Seaweed
from tests.remote.helpers import fast_settings, make_png, new_job, run_jobs
from tests.server.conftest import API_KEY, FAST_RETRY_ENV
from tests.server.serve_proc import ServeProcess, free_port
from tests.server.tcp_proxy import TcpProxy
from tests.server.test_contract import KEY, post

pytestmark = pytest.mark.timeout(120)


def s3_env(home: Path, endpoint: str, bucket: str = BUCKET) -> dict[str, str]:
    """The desktop's own S3 settings as env, credentials through boto3's AWS_* chain only."""
    return {
        **FAST_RETRY_ENV,
        "PIXTOOLS_S3_ENABLED": "1",
        "PIXTOOLS_S3_ENDPOINT_URL": endpoint,
        "PIXTOOLS_S3_BUCKET": bucket,
        "PIXTOOLS_S3_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-creds"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture(scope="module")
def s3_server(seaweed, tmp_path_factory):
    home = tmp_path_factory.mktemp("serve_s3")
    server = ServeProcess(home, api_key=API_KEY, env=s3_env(home, seaweed.endpoint)).start()
    yield server
    server.stop()


def poll_until_final(server, job_id: str, *, archive: bool, timeout: float = 60.0) -> tuple[dict, list[str]]:
    """Poll fast; every read that says COMPLETED must already carry every result URL."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = httpx.get(f"{server.url}/api/jobs/{job_id}", headers=KEY, timeout=10).json()
        seen.append(body["status"])
        if body["status"] in ("COMPLETED", "COMPLETED_WEBHOOK_FAILED"):
            assert set(body["result_urls"]) == {op for op in body["operations"] if op != "metadata"}, body
            if body["archive_url"] or not archive:
                return body, seen
        elif body["status"] == "FAILED":
            return body, seen
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} not final in {timeout} s: {seen[-3:]}")


def assert_presigned(url: str, seaweed: Seaweed, key: str) -> dict:
    parts = urlparse(url)
    assert f"{parts.scheme}://{parts.netloc}" == seaweed.endpoint and parts.path == f"/{BUCKET}/{key}"
    query = parse_qs(parts.query)
    assert {"X-Amz-Signature", "X-Amz-Date", "X-Amz-Expires"} <= set(query)
    assert query["X-Amz-Expires"] == ["86400"]
    return query


def test_results_in_s3_layout_presigned_and_named(s3_server, seaweed, receiver):
    r = post(
        s3_server,
        name="Holiday Pic.png",
        ops='["jpg","webp","metadata"]',
        params='{"jpg":{"quality":70,"resize":{"width":32}}}',
        webhook=receiver.url,
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    job, seen = poll_until_final(s3_server, job_id, archive=True)
    assert job["status"] == "COMPLETED" and job["error_message"] is None, job
    assert job["metadata"] == {}  # upstream's shape: a PNG without EXIF has no keys

    keys = sorted(
        o["Key"]
        for o in seaweed.client().list_objects_v2(Bucket=BUCKET, Prefix=f"processed/{job_id}/").get("Contents", [])
    )
    assert len(keys) == 2 and all(re.fullmatch(rf"processed/{job_id}/(jpg|webp)_[0-9a-f]{{8}}\.\1", k) for k in keys)
    by_op = {k.rsplit("/", 1)[1].split("_")[0]: k for k in keys}
    seaweed.client().head_object(Bucket=BUCKET, Key=f"archives/{job_id}/bundle.zip")

    expected = {"jpg": ("image/jpeg", "JPEG", (32, 24)), "webp": ("image/webp", "WEBP", (64, 48))}
    for op, (ctype, fmt, size) in expected.items():
        url = job["result_urls"][op]
        assert_presigned(url, seaweed, by_op[op])
        d = httpx.get(url, timeout=10)  # plain HTTP, no credentials: the signature is the permission
        assert d.status_code == 200 and d.headers["content-type"] == ctype
        assert d.headers["content-disposition"] == f'attachment; filename="pixtools_{op}_Holiday Pic.{op}"'
        im = Image.open(io.BytesIO(d.content))
        assert im.format == fmt and im.size == size
    assert_presigned(job["archive_url"], seaweed, f"archives/{job_id}/bundle.zip")
    a = httpx.get(job["archive_url"], timeout=10)
    assert a.status_code == 200
    assert a.headers["content-disposition"] == 'attachment; filename="pixtools_bundle_Holiday Pic.zip"'
    assert sorted(zipfile.ZipFile(io.BytesIO(a.content)).namelist()) == [
        "pixtools_jpg_Holiday Pic.jpg",
        "pixtools_webp_Holiday Pic.webp",
    ]

    time.sleep(1.1)  # SigV4 dates have one-second resolution
    again = httpx.get(f"{s3_server.url}/api/jobs/{job_id}", headers=KEY, timeout=10).json()
    first_date = parse_qs(urlparse(job["result_urls"]["jpg"]).query)["X-Amz-Date"]
    assert assert_presigned(again["result_urls"]["jpg"], seaweed, by_op["jpg"])["X-Amz-Date"] != first_date
    assert httpx.get(again["result_urls"]["jpg"], timeout=10).status_code == 200

    assert receiver.wait_for(1, timeout=20)  # the webhook carries the S3 URLs, upstream's shape
    body = json.loads(receiver.requests[0].body)
    assert set(body) == {"job_id", "status", "result_urls"} and body["status"] == "COMPLETED"
    assert set(body["result_urls"]) == {"jpg", "webp"}
    assert (
        httpx.get(body["result_urls"]["webp"], timeout=10).content
        == httpx.get(again["result_urls"]["webp"], timeout=10).content
    )

    health = httpx.get(f"{s3_server.url}/api/health", timeout=10)
    assert health.status_code == 200 and health.json()["dependencies"]["s3"] == "ok"
    assert "s3" not in httpx.get(f"{s3_server.url}/api/readyz", timeout=10).json()["dependencies"]
    log = (s3_server.home / f"serve-{s3_server.port}.log").read_text(errors="replace")
    assert SECRET_KEY not in log and "X-Amz-Signature" not in log


def test_remote_backend_downloads_from_s3(s3_server, tmp_path):
    src = make_png(tmp_path / "beach.png", size=(90, 60))
    out = tmp_path / "out"
    with JobStore(tmp_path / "jobs.sqlite3") as store:
        [job] = run_jobs(
            store,
            fast_settings(download_archive=True),
            s3_server.url,
            [new_job(src, ["avif", "jpg", "metadata"], out)],
            api_key=API_KEY,
        )
    assert job.status == JobStatus.COMPLETED, job.error_message
    by_op = {o.op: Path(o.path) for o in job.outputs}
    assert set(by_op) == {"avif", "jpg", "bundle"}
    assert Image.open(by_op["avif"]).format == "AVIF" and Image.open(by_op["jpg"]).size == (90, 60)
    assert by_op["jpg"].name == "beach_jpg.jpg"
    assert sorted(zipfile.ZipFile(by_op["bundle"]).namelist()) == ["pixtools_avif_beach.avif", "pixtools_jpg_beach.jpg"]


def test_unreachable_s3_fails_the_job_after_bounded_retries(serve_factory, receiver, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    server = serve_factory(api_key=API_KEY, env=s3_env(tmp_path, dead))
    job_id = post(server, webhook=receiver.url).json()["job_id"]
    job, seen = poll_until_final(server, job_id, archive=False)
    assert "COMPLETED" not in seen  # it never looked done while the results were not stored
    assert job["status"] == "FAILED" and job["result_urls"] == {} and job["archive_url"] is None
    attempts = FAST_RETRY_ENV["PIXTOOLS_SERVE_UPLOAD_ATTEMPTS"]
    assert job["error_message"].startswith("The results could not be stored in S3: cannot reach the S3 endpoint")
    assert f"gave up after {attempts} tries" in job["error_message"]
    # a job with nothing to store still completes
    meta_id = post(server, ops='["metadata"]').json()["job_id"]
    meta, _ = poll_until_final(server, meta_id, archive=False)
    assert meta["status"] == "COMPLETED" and meta["result_urls"] == {}
    health = httpx.get(f"{server.url}/api/health", timeout=20)
    assert health.status_code == 503 and health.json()["detail"]["dependencies"]["s3"] == "unreachable"
    assert receiver.count() == 0  # never announced: the job failed


def _upload_attempts(server: ServeProcess) -> int:
    with sqlite3.connect(f"file:{server.data_dir / 'server.sqlite3'}?mode=ro", uri=True, timeout=10) as conn:
        return conn.execute("SELECT COALESCE(MAX(attempts), 0) FROM uploads").fetchone()[0]


def test_uploads_resume_after_a_server_restart(serve_factory, seaweed, receiver, tmp_path):
    """S3 down, server stopped mid-retry; S3 back, server restarted: the job completes, the webhook goes once."""
    port = free_port()
    env = {
        **s3_env(tmp_path, f"http://127.0.0.1:{port}"),
        "PIXTOOLS_SERVE_UPLOAD_RETRY_BASE_S": "2",
        "PIXTOOLS_SERVE_UPLOAD_ATTEMPTS": "6",
    }
    server = serve_factory(api_key=API_KEY, env=env)
    job_id = post(server, name="night.png", ops='["webp"]', webhook=receiver.url).json()["job_id"]
    deadline = time.monotonic() + 30
    while _upload_attempts(server) < 1:
        assert time.monotonic() < deadline, "no upload attempt recorded"
        time.sleep(0.05)
    assert httpx.get(f"{server.url}/api/jobs/{job_id}", headers=KEY, timeout=10).json()["status"] == "PROCESSING"
    server.stop()
    proxy = TcpProxy(port, ("127.0.0.1", seaweed.s3_port)).start()
    try:
        server.start()
        job, _ = poll_until_final(server, job_id, archive=True)
        assert job["status"] == "COMPLETED", job
        d = httpx.get(job["result_urls"]["webp"], timeout=10)
        assert d.status_code == 200 and Image.open(io.BytesIO(d.content)).format == "WEBP"
        assert d.headers["content-disposition"] == 'attachment; filename="pixtools_webp_night.webp"'
        assert receiver.wait_for(1, timeout=20)
        time.sleep(0.5)
        assert receiver.count() == 1 and json.loads(receiver.requests[0].body)["job_id"] == job_id
    finally:
        server.stop()
        proxy.stop()


def test_retention_sweep_deletes_the_s3_objects(seaweed, tmp_path, monkeypatch):
    """In-process ServeService: after the retention period the job's rows, files and S3 objects are gone."""
    from pixtools_desktop.cloud import s3
    from pixtools_desktop.core.ops import OperationRequest, OperationType
    from pixtools_desktop.core.settings import Settings
    from pixtools_desktop.server.config import ServerConfig
    from pixtools_desktop.server.service import ServeService

    for k, v in s3_env(tmp_path, seaweed.endpoint).items():
        monkeypatch.setenv(k, v)
    s3.clear_client_cache()
    settings = Settings(s3_enabled=True, s3_endpoint_url=seaweed.endpoint, s3_bucket=BUCKET, s3_region="us-east-1")
    svc = ServeService(
        ServerConfig(data_dir=tmp_path / "srv", db_path=tmp_path / "srv" / "s.sqlite3", workers=1), settings
    )
    svc.start()
    try:
        job_id = svc.create_job(
            upload=io.BytesIO(make_png(tmp_path / "a.png").read_bytes()),
            ext="png",
            original_name="a.png",
            request=OperationRequest((OperationType("jpg"),), {}),
            webhook_url="",
            idempotency_key=None,
            request_id=None,
        )
        deadline = time.monotonic() + 30
        while not (svc.job_view(job_id, "http://x") or {}).get("archive_url"):
            assert time.monotonic() < deadline, svc.job_view(job_id, "http://x")
            time.sleep(0.05)
        listed = seaweed.client().list_objects_v2(Bucket=BUCKET, Prefix=f"processed/{job_id}/").get("Contents", [])
        assert len(listed) == 1
        svc.config.retention_s = -1
        assert svc.sweep_expired() == 1
        assert svc.job_view(job_id, "http://x") is None and not (svc.outputs_dir / job_id).exists()
        for prefix in (f"processed/{job_id}/", f"archives/{job_id}/"):
            assert not seaweed.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents")
    finally:
        svc.stop()
        s3.clear_client_cache()
