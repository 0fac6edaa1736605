"""S3 uploads against a real SeaweedFS that checks SigV4 signatures."""

from __future__ import annotations

import dataclasses
import os
import re
import time

import httpx
import pytest

from pixtools_desktop.cloud import links, s3, uploads
from pixtools_desktop.cloud.config import RetryPolicy
from pixtools_desktop.cloud.service import SinkService
from pixtools_desktop.core.jobs import JobStatus
from pixtools_desktop.core.store import JobStore
from tests.cloud.cloud_servers import BUCKET
from tests.cloud.conftest import finished_job, sink_config

KEY_RE = r"processed/{job}/{op}_[0-9a-f]{{8}}\.{ext}"


def _drain(service: SinkService, job_ids, timeout: float = 30.0) -> None:
    assert service.wait(job_ids, timeout), f"sinks still busy: {service.unfinished(job_ids)}"


def test_upload_key_layout_content_type_and_bytes(store, settings, seaweed, tmp_path):
    settings.s3_prefix = "/studio/shoot-7/"
    job = finished_job(store, tmp_path / "out", ops=("jpg", "webp", "png", "metadata"), bundle=True)
    with SinkService(store, settings, sink_config(settings)) as service:
        service.hook(job)
        _drain(service, [job.id])
    rows = {r.op: r for r in uploads.for_job(store, job.id)}
    assert set(rows) == {"jpg", "webp", "png", "bundle"}
    client = seaweed.client()
    for op, ext, mime in (("jpg", "jpg", "image/jpeg"), ("webp", "webp", "image/webp"), ("png", "png", "image/png")):
        row = rows[op]
        assert row.state == "done", row.last_error
        assert re.fullmatch("studio/shoot-7/" + KEY_RE.format(job=job.id, op=op, ext=ext), row.key)
        obj = client.get_object(Bucket=BUCKET, Key=row.key)
        assert obj["ContentType"] == mime
        assert obj["Body"].read() == open(row.path, "rb").read()
    assert rows["bundle"].key == f"studio/shoot-7/archives/{job.id}/bundle.zip"
    assert client.head_object(Bucket=BUCKET, Key=rows["bundle"].key)["ContentType"] == "application/zip"
    assert store.get(job.id).status == JobStatus.COMPLETED


def test_multipart_upload_through_transfer_manager(store, settings, seaweed, tmp_path):
    job = finished_job(store, tmp_path / "out", ops=("png",))
    big = tmp_path / "out" / "photo_png.png"
    big.write_bytes(os.urandom(11 * 1024 * 1024))  # 11 MiB: three 5 MiB parts
    store.save_outputs(job.id, [dataclasses.replace(job.outputs[0], size=big.stat().st_size)])
    job = store.get(job.id)
    calls: list[str] = []
    service = SinkService(
        store,
        settings,
        sink_config(settings),
        transfer_config=s3.transfer_config(threshold=5 * 1024 * 1024, chunk=5 * 1024 * 1024),
    )
    client = service._client_for(settings.s3_endpoint_url)
    client.meta.events.register("before-call.s3.*", lambda model, **kw: calls.append(model.name))
    with service:
        service.hook(job)
        _drain(service, [job.id])
    [row] = uploads.for_job(store, job.id)
    assert row.state == "done", row.last_error
    assert calls.count("CreateMultipartUpload") == 1 and calls.count("UploadPart") == 3
    assert "PutObject" not in calls
    head = seaweed.client().head_object(Bucket=BUCKET, Key=row.key)
    assert head["ContentLength"] == big.stat().st_size
    assert head["ETag"].strip('"').endswith("-3")


def test_presigned_download_over_http(store, settings, tmp_path):
    job = finished_job(store, tmp_path / "out", ops=("webp",), stem="Bühne 1")
    with SinkService(store, settings, sink_config(settings)) as service:
        service.hook(job)
        _drain(service, [job.id])
    [(label, url)] = links.job_links(store, job.id, settings)
    assert label == "WEBP on S3"
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url and "X-Amz-Expires=86400" in url
    r = httpx.get(url, timeout=10)
    assert r.status_code == 200
    assert r.content == open(job.outputs[0].path, "rb").read()
    cd = r.headers["content-disposition"]
    assert 'filename="pixtools_webp_B_hne 1.webp"' in cd and "filename*=UTF-8''pixtools_webp_B%C3%BChne%201.webp" in cd
    tampered = url.replace("X-Amz-Expires=86400", "X-Amz-Expires=86401")
    assert httpx.get(tampered, timeout=10).status_code == 403  # the server checks the signature
    settings.s3_url_expiry = 600
    [(_, short)] = links.job_links(store, job.id, settings)
    assert "X-Amz-Expires=600" in short


def test_wrong_credentials_fail_the_upload_not_the_job(store, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    job = finished_job(store, tmp_path / "out", ops=("jpg",))
    with SinkService(store, settings, sink_config(settings)) as service:
        service.hook(job)
        _drain(service, [job.id])
    [row] = uploads.for_job(store, job.id)
    assert row.state == "failed" and row.attempts == 1  # a credentials error is not retried blindly
    assert "S3 rejected the credentials (SignatureDoesNotMatch)" in row.last_error
    after = store.get(job.id)
    assert after.status == JobStatus.COMPLETED
    assert any(w.startswith("upload failed: S3 rejected the credentials") for w in after.warnings)
    # Fixed credentials + retry: the same key is uploaded and the warning goes away.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "pixtools-s3-secret-Zx81qv")
    assert uploads.retry_failed(store, job_ids=[job.id]) == 1
    with SinkService(store, settings, sink_config(settings)) as service:
        _drain(service, [job.id])
    [again] = uploads.for_job(store, job.id)
    assert again.state == "done" and again.key == row.key
    assert not any(w.startswith("upload failed") for w in store.get(job.id).warnings)


def test_server_down_then_up(store, settings, seaweed, tmp_path):
    job = finished_job(store, tmp_path / "out", ops=("jpg",))
    cfg = sink_config(settings, retry=RetryPolicy(base=0.3, cap=1.0, max_attempts=100))
    seaweed.stop()
    try:
        with SinkService(store, settings, cfg) as service:
            service.hook(job)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and uploads.for_job(store, job.id)[0].attempts < 2:
                time.sleep(0.05)
            [row] = uploads.for_job(store, job.id)
            assert row.attempts >= 2 and row.state in ("pending", "uploading")
            assert "cannot reach the S3 endpoint" in row.last_error
            warning = [w for w in store.get(job.id).warnings if w.startswith("upload failed:")]
            assert warning and "retrying" in warning[0]
            assert store.get(job.id).status == JobStatus.COMPLETED
            seaweed.start()
            _drain(service, [job.id], timeout=40)
    finally:
        if seaweed.proc is None:
            seaweed.start()
    [done] = uploads.for_job(store, job.id)
    assert done.state == "done" and done.key == row.key
    assert seaweed.client().head_object(Bucket=BUCKET, Key=done.key)["ContentLength"] == done.size
    assert not any(w.startswith("upload failed") for w in store.get(job.id).warnings)


def test_nothing_uploaded_twice_after_restart(settings, seaweed, tmp_path):
    db = tmp_path / "jobs.sqlite3"
    first = JobStore(db)
    job = finished_job(first, tmp_path / "out", ops=("jpg", "webp"))
    with SinkService(first, settings, sink_config(settings)) as service:
        service.hook(job)
        service.hook(job)  # a second hook for the same job adds nothing
        _drain(service, [job.id])
    rows = uploads.for_job(first, job.id)
    assert len(rows) == 2 and all(r.state == "done" for r in rows)
    # Simulate a crash right after the bytes landed, before "done" was recorded,
    # by a process that no longer exists.
    with first.transaction() as conn:
        conn.execute(
            "UPDATE uploads SET state = 'uploading', claimed_by = 'nohost-x:999999', etag = NULL, "
            "uploaded_at = NULL WHERE job_id = ?",
            (job.id,),
        )
        conn.execute("UPDATE uploads SET claimed_by = ? WHERE job_id = ?", (f"{os.uname().nodename}:999999", job.id))
    first.close()

    second = JobStore(db)  # the restarted app
    try:
        calls: list[str] = []
        service = SinkService(second, settings, sink_config(settings))
        client = service._client_for(settings.s3_endpoint_url)
        client.meta.events.register("before-call.s3.*", lambda model, **kw: calls.append(model.name))
        with service:
            service.hook(second.get(job.id))
            _drain(service, [job.id])
        after = uploads.for_job(second, job.id)
        assert [r.key for r in after] == [r.key for r in rows]
        assert all(r.state == "done" and r.etag for r in after)
        assert calls.count("HeadObject") == 2
        assert "PutObject" not in calls and "CreateMultipartUpload" not in calls
    finally:
        second.close()


def test_pending_upload_survives_restart(settings, seaweed, tmp_path):
    db = tmp_path / "jobs.sqlite3"
    first = JobStore(db)
    job = finished_job(first, tmp_path / "out", ops=("jpg",))
    SinkService(first, settings, sink_config(settings)).enqueue(job)  # queued, app quits before any worker ran
    first.close()
    second = JobStore(db)
    try:
        with SinkService(second, settings, sink_config(settings, upload=False)) as service:
            _drain(service, [job.id])
        [row] = uploads.for_job(second, job.id)
        assert row.state == "done"
        assert seaweed.client().head_object(Bucket=BUCKET, Key=row.key)["ContentType"] == "image/jpeg"
    finally:
        second.close()


def test_missing_output_file_fails_that_upload_only(store, settings, tmp_path):
    job = finished_job(store, tmp_path / "out", ops=("jpg", "webp"))
    service = SinkService(store, settings, sink_config(settings))
    service.enqueue(job)
    os.unlink(job.outputs[0].path)  # the user deleted it before the upload ran
    with service:
        _drain(service, [job.id])
    rows = {r.op: r for r in uploads.for_job(store, job.id)}
    assert rows["jpg"].state == "failed" and "no longer exists" in rows["jpg"].last_error
    assert rows["webp"].state == "done"
    assert store.get(job.id).status == JobStatus.COMPLETED


@pytest.mark.parametrize("prefix", ["", "a/b"])
def test_object_key_layout(prefix):
    from pixtools_desktop.cloud.config import S3Target

    t = S3Target(bucket="b", prefix=prefix)
    key = s3.object_key(t, "J", "avif", "AVIF")
    lead = f"{prefix}/" if prefix else ""
    assert re.fullmatch(lead + r"processed/J/avif_[0-9a-f]{8}\.avif", key)
    assert s3.object_key(t, "J", "bundle", "zip") == f"{lead}archives/J/bundle.zip"
    assert s3.download_name("jpg", "/x/IMG_1.HEIC.png", "jpg") == "pixtools_jpg_IMG_1.HEIC.jpg"
