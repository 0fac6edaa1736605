"""End to end: `pixtools process --upload --webhook` in a subprocess, health, and the runner hook."""

from __future__ import annotations

import hmac
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from PIL import Image

from pixtools_desktop.cloud import links, outbox, uploads
from pixtools_desktop.cloud.health import check_cloud, check_s3
from pixtools_desktop.cloud.service import SinkService
from pixtools_desktop.core.jobs import JobStatus, OutputOptions
from pixtools_desktop.core.runner import LocalRunner
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import NewJob
from pixtools_desktop.wiring import health_report
from tests.cloud.cloud_servers import ACCESS_KEY, BUCKET, SECRET_KEY
from tests.cloud.conftest import sink_config

REPO = Path(__file__).resolve().parents[2]
HOOK_SECRET = "whsec-cli-Pq7Lm2"


def _images(folder: Path, n: int = 2) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"shot{i}.png"
        Image.new("RGB", (80, 60), (30 * i, 100, 200)).save(p)
        paths.append(p)
    return paths


def test_cli_process_upload_and_webhook_end_to_end(seaweed, receiver, tmp_path, pixtools_home):
    src = _images(tmp_path / "in")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PIXTOOLS_", "AWS_"))},
        "PIXTOOLS_HOME": str(pixtools_home),
        "PIXTOOLS_S3_ENDPOINT_URL": seaweed.endpoint,
        "PIXTOOLS_S3_BUCKET": BUCKET,
        "PIXTOOLS_S3_PREFIX": "cli",
        "PIXTOOLS_S3_REGION": "us-east-1",
        "PIXTOOLS_WEBHOOK_URL": receiver.url,
        "PIXTOOLS_WEBHOOK_SECRET": HOOK_SECRET,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    cmd = [
        sys.executable,
        "-m",
        "pixtools_desktop",
        "process",
        *map(str, src),
        "--ops",
        "jpg,webp,metadata",
        "--out",
        str(tmp_path / "out"),
        "--zip",
        "--upload",
        "--json",
        "--sink-timeout",
        "60",
    ]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["done"] == 2 and summary["failed"] == 0
    for job in summary["jobs"]:
        objects = {o["op"]: o for o in job["uploads"]}
        assert set(objects) == {"jpg", "webp", "bundle"}
        assert objects["bundle"]["key"] == f"cli/archives/{job['job_id']}/bundle.zip"
        for op in ("jpg", "webp"):
            o = objects[op]
            assert o["state"] == "done" and o["key"].startswith(f"cli/processed/{job['job_id']}/{op}_")
            r = httpx.get(o["url"], timeout=10)
            local = next(x for x in job["outputs"] if x["op"] == op)
            assert r.status_code == 200 and r.content == Path(local["path"]).read_bytes()
            assert f"pixtools_{op}_{Path(job['input']).stem}.{op}" in r.headers["content-disposition"]
        assert job["webhook"]["state"] == "delivered" and job["webhook"]["last_status"] == 200
    # Each job announced once, signed, with its presigned result URLs.
    assert receiver.count() == 2
    by_job = {json.loads(r.body)["job_id"]: r for r in receiver.requests}
    assert set(by_job) == {j["job_id"] for j in summary["jobs"]}
    for job in summary["jobs"]:
        req = by_job[job["job_id"]]
        expected = "sha256=" + hmac.new(HOOK_SECRET.encode(), req.body, "sha256").hexdigest()
        assert hmac.compare_digest(expected, req.headers["X-PixTools-Signature"])
        assert req.headers["X-Request-ID"] == summary["request_id"]
        body = json.loads(req.body)
        assert set(body["result_urls"]) == {"jpg", "webp"} and body["archive_url"]
        assert httpx.get(body["result_urls"]["webp"], timeout=10).status_code == 200
    # Secrets never reach the log file or the database (WAL included).
    log_file = pixtools_home / "logs" / "pixtools.log"
    assert log_file.exists() and b"uploaded" in log_file.read_bytes()
    files = [log_file, *(pixtools_home / "data").glob("jobs.sqlite3*")]
    assert any(f.name == "jobs.sqlite3" for f in files)
    for f in files:
        data = f.read_bytes()
        for secret in (HOOK_SECRET, SECRET_KEY, "X-Amz-Signature="):
            assert secret.encode() not in data, f"{secret!r} found in {f.name}"


def test_cli_rejects_a_non_http_webhook(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "pixtools_desktop",
        "process",
        str(tmp_path),
        "--ops",
        "jpg",
        "--webhook",
        "ftp://example.test/x",
    ]
    env = {**os.environ, "PIXTOOLS_HOME": str(tmp_path / "home")}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "webhook_url must be a valid http(s) URL" in proc.stderr


def test_runner_hook_uploads_then_announces(store, settings, receiver, tmp_path):
    """The real engine on worker threads; the finish hook only queues, the service does the I/O."""
    src = _images(tmp_path / "in", 1)[0]
    settings.workers = 1
    cfg = sink_config(settings, webhook_url=receiver.url)
    with SinkService(store, settings, cfg) as service:
        runner = LocalRunner(store, settings, workers=1)
        runner.add_finish_hook(service.hook)
        runner.start()
        try:
            [job] = runner.submit(
                [
                    NewJob(
                        input_path=str(src),
                        operations=["webp"],
                        request_id="req-runner",
                        options=OutputOptions(output_dir=str(tmp_path / "out")),
                    )
                ]
            )
            assert runner.wait_idle(timeout=60)
        finally:
            runner.stop()
        assert service.wait([job.id], 30)
    final = store.get(job.id)
    assert final.status == JobStatus.COMPLETED, final.error_message
    [row] = uploads.for_job(store, job.id)
    assert row.state == "done"
    [req] = receiver.requests
    body = json.loads(req.body)
    assert list(body["result_urls"]) == ["webp"] and req.headers["X-Request-ID"] == "req-runner"
    assert [r.state for r in outbox.for_job(store, job.id)] == ["delivered"]
    assert [label for label, _ in links.job_links(store, job.id, settings)] == ["WEBP on S3"]


def test_health_reports_s3_and_breakers(settings, seaweed):
    assert check_s3(settings) == {"s3": "ok"}
    report = health_report(settings)
    assert report["dependencies"]["s3"] == "ok" and report["dependencies"]["webhook"] == "not configured"
    down = Settings(s3_enabled=True, s3_endpoint_url="http://127.0.0.1:9", s3_bucket=BUCKET)
    assert check_s3(down)["s3"].startswith("unreachable: cannot reach the S3 endpoint")
    missing = Settings(s3_enabled=True, s3_endpoint_url=seaweed.endpoint, s3_bucket="no-such-bucket-here")
    assert check_s3(missing)["s3"].startswith("error: the bucket no-such-bucket-here does not exist")
    assert check_cloud(Settings()) == {"s3": "not configured", "webhook": "not configured"}
    unhealthy = health_report(down)
    assert unhealthy["status"] == "unhealthy"
