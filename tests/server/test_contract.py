"""Raw-HTTP contract tests of a real `pixtools serve` process (PIXTOOLS_API.md, upstream texts)."""

from __future__ import annotations

import io
import json
import socket
import time
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest
from PIL import Image

from pixtools_desktop.server.signing import SECRET_FILE, UrlSigner
from tests.server.conftest import API_KEY

KEY = {"X-API-Key": API_KEY}
ACCEPTED = "['image/jpeg', 'image/png', 'image/webp', 'image/avif']"


def png_bytes(size=(64, 48), color=(200, 30, 90)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def post(
    server,
    *,
    name="photo.png",
    data: bytes | None = None,
    ctype="image/png",
    ops='["jpg"]',
    params=None,
    webhook=None,
    headers=None,
    timeout=30.0,
) -> httpx.Response:
    form = {"operations": ops}
    if params is not None:
        form["operation_params"] = params
    if webhook is not None:
        form["webhook_url"] = webhook
    files = {"file": (name, data if data is not None else png_bytes(), ctype)}
    return httpx.post(
        f"{server.url}/api/process", data=form, files=files, headers={**KEY, **(headers or {})}, timeout=timeout
    )


def wait_done(server, job_id: str, *, timeout: float = 60.0, archive: bool = False) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = httpx.get(f"{server.url}/api/jobs/{job_id}", headers=KEY, timeout=10).json()
        if body["status"] in ("COMPLETED", "COMPLETED_WEBHOOK_FAILED", "FAILED"):
            if not archive or body["archive_url"] or body["status"] == "FAILED":
                return body
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} not done in {timeout} s: {body}")


def test_probes_shapes_and_request_id(keyed_server):
    r = httpx.get(f"{keyed_server.url}/api/livez")
    assert r.status_code == 200 and r.json() == {"status": "alive"}
    uuid.UUID(r.headers["X-Request-ID"])  # generated when missing
    r = httpx.get(f"{keyed_server.url}/api/health", headers={"X-Request-ID": "abc-123"})
    assert r.status_code == 200 and r.headers["X-Request-ID"] == "abc-123"
    body = r.json()
    assert body["status"] == "healthy" and set(body["dependencies"]) >= {"database", "workers", "storage"}
    assert all(v == "ok" for v in body["dependencies"].values())
    r = httpx.get(f"{keyed_server.url}/api/readyz")
    assert r.status_code == 200 and r.json()["status"] == "healthy" and "storage" not in r.json()["dependencies"]
    # echoed on errors too; a header that is not a sane id is replaced
    r = httpx.get(f"{keyed_server.url}/api/jobs/{uuid.uuid4()}", headers={**KEY, "X-Request-ID": "rid-404"})
    assert r.status_code == 404 and r.headers["X-Request-ID"] == "rid-404"
    r = httpx.get(f"{keyed_server.url}/api/livez", headers={"X-Request-ID": "bad id\twith tab"})
    uuid.UUID(r.headers["X-Request-ID"])


def test_process_poll_download_archive(keyed_server):
    r = post(
        keyed_server,
        name="Holiday Pic.png",
        ops='["jpg","webp","metadata"]',
        params='{"jpg":{"quality":70,"resize":{"width":32}},"webp":{"quality":50}}',
    )
    assert r.status_code == 202, r.text
    body = r.json()
    assert set(body) == {"job_id", "status"} and body["status"] == "PENDING"
    job = wait_done(keyed_server, body["job_id"], archive=True)
    assert set(job) == {
        "job_id",
        "status",
        "operations",
        "result_urls",
        "archive_url",
        "metadata",
        "error_message",
        "created_at",
        "webhook_delivery",
    }  # the last: our extra
    assert job["status"] == "COMPLETED" and job["error_message"] is None
    assert job["operations"] == ["jpg", "webp", "metadata"]
    assert set(job["result_urls"]) == {"jpg", "webp"}
    assert job["metadata"] == {}  # upstream's shape: only the keys found, and a plain PNG has none
    assert job["created_at"].endswith("+00:00")
    d = httpx.get(job["result_urls"]["jpg"])  # no API key needed: the URL is signed
    assert d.status_code == 200 and d.headers["content-type"] == "image/jpeg"
    assert 'filename="pixtools_jpg_Holiday Pic.jpg"' in d.headers["content-disposition"]
    im = Image.open(io.BytesIO(d.content))
    assert im.format == "JPEG" and im.size == (32, 24)
    a = httpx.get(job["archive_url"])
    assert a.status_code == 200
    names = sorted(zipfile.ZipFile(io.BytesIO(a.content)).namelist())
    assert names == ["pixtools_jpg_Holiday Pic.jpg", "pixtools_webp_Holiday Pic.webp"]
    # URLs are re-signed on each read, and still valid
    again = httpx.get(f"{keyed_server.url}/api/jobs/{body['job_id']}", headers=KEY).json()
    assert httpx.get(again["result_urls"]["webp"]).status_code == 200


@pytest.mark.parametrize(
    "kwargs, code, detail",
    [
        (dict(ctype="image/gif"), 400, f"Unsupported file type: image/gif. Accepted: {ACCEPTED}"),
        (
            dict(ctype="image/jpeg"),
            400,
            "File content does not match its declared type: declared image/jpeg, but the file is image/png",
        ),
        (
            dict(data=b"<html><body>not a photo</body></html>", name="x.png"),
            400,
            "File content does not match its declared type: declared image/png, but the file is a web page (HTML)",
        ),
        (dict(ops='["sepia"]'), 422, "Invalid operations: 'sepia' is not a valid OperationType"),
        (dict(ops='["tiff"]'), 422, "Invalid operations: 'tiff' is not a valid OperationType"),
        (dict(ops="not json"), 422, None),
        (dict(ops="[]"), 422, "At least one operation is required"),
        (dict(ops='["png"]'), 422, "Cannot convert png to png - source and target formats are the same"),
        (
            dict(ops='["png"]', name="shot.PNG"),
            422,
            "Cannot convert png to png - source and target formats are the same",
        ),
        (
            dict(params='{"png":{"quality":5}}', ops='["jpg","png"]', name="a.webp", ctype="image/png"),
            422,
            "operation_params['png'].quality is only supported for jpg/webp",
        ),
        (dict(params='{"jpg":{"quality":500}}'), 422, "operation_params['jpg'].quality must be 1..100"),
        (dict(params="[1]"), 422, "operation_params must be a JSON object"),
        (dict(webhook="ftp://example.com/hook"), 422, "webhook_url must be a valid http(s) URL"),
    ],
)
def test_validation_codes_and_texts(keyed_server, kwargs, code, detail):
    r = post(keyed_server, **kwargs)
    assert r.status_code == code, r.text
    if detail is None:
        assert r.json()["detail"].startswith("Invalid operations: ")
    else:
        assert r.json() == {"detail": detail}


def test_missing_field_is_fastapi_list_detail(keyed_server):
    r = httpx.post(f"{keyed_server.url}/api/process", files={"file": ("a.png", png_bytes(), "image/png")}, headers=KEY)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail[0]["loc"] == ["body", "operations"] and detail[0]["type"] == "missing"


def test_jobs_404_and_non_uuid_422(keyed_server):
    jid = uuid.uuid4()
    r = httpx.get(f"{keyed_server.url}/api/jobs/{jid}", headers=KEY)
    assert r.status_code == 404 and r.json() == {"detail": f"Job {jid} not found"}
    r = httpx.get(f"{keyed_server.url}/api/jobs/not-a-uuid", headers=KEY)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "job_id"]


def test_api_key_wrong_and_missing_get_401(keyed_server):
    for headers in ({}, {"X-API-Key": "wrong"}):
        r = httpx.post(
            f"{keyed_server.url}/api/process",
            data={"operations": '["jpg"]'},
            files={"file": ("a.png", png_bytes(), "image/png")},
            headers=headers,
        )
        assert r.status_code == 401 and r.json() == {"detail": "Invalid API key"}
        r = httpx.get(f"{keyed_server.url}/api/jobs/{uuid.uuid4()}", headers=headers)
        assert r.status_code == 401
    assert httpx.get(f"{keyed_server.url}/api/health").status_code == 200  # probes stay open


def test_413_checked_first_and_exact_limit(keyed_server):
    limit = 10 * 1024 * 1024
    big = b"GIF89a" + b"\0" * (limit + 1 - 6)  # over the limit AND a bad type: 413 wins
    r = post(keyed_server, data=big, ctype="image/gif", ops='["sepia"]')
    assert r.status_code == 413 and r.json() == {"detail": "File exceeds 10MB limit"}
    exact = png_bytes() + b"\0" * 0  # a small file is fine
    assert post(keyed_server, data=exact).status_code == 202


def test_huge_declared_body_refused_before_reading(keyed_server):
    """A 200 MB Content-Length gets 413 at once; the server does not wait for (or buffer) the body."""
    with socket.create_connection(("127.0.0.1", keyed_server.port), timeout=10) as s:
        s.sendall(
            b"POST /api/process HTTP/1.1\r\nHost: x\r\nX-Request-ID: big-1\r\n"
            b"Content-Type: multipart/form-data; boundary=zz\r\nContent-Length: 209715200\r\n\r\n--zz\r\n"
        )
        s.settimeout(10)
        chunks = []
        while not b"".join(chunks).endswith(b"}"):
            chunk = s.recv(4096)  # the server closes after its answer; the 10 s timeout bounds the wait
            if not chunk:
                break
            chunks.append(chunk)
        head = b"".join(chunks).decode("latin-1")
    assert head.startswith("HTTP/1.1 413"), head
    assert '{"detail":"File exceeds 10MB limit"}' in head and "x-request-id: big-1" in head.lower()


def test_idempotency_key_returns_first_job(keyed_server):
    key = f"idem-{uuid.uuid4()}"
    a = post(keyed_server, headers={"Idempotency-Key": key}).json()["job_id"]
    b = post(keyed_server, headers={"Idempotency-Key": key}, ops='["webp"]').json()["job_id"]
    c = post(keyed_server, headers={"Idempotency-Key": f"other-{key}"}).json()["job_id"]
    assert a == b != c


def test_signed_urls_tamper_and_expiry_get_403(keyed_server):
    job_id = post(keyed_server).json()["job_id"]
    url = wait_done(keyed_server, job_id)["result_urls"]["jpg"]
    assert httpx.get(url).status_code == 200
    assert httpx.get(url.replace("/jpg?", "/webp?")).status_code == 403  # another output, same signature
    assert httpx.get(url[:-2] + ("00" if not url.endswith("00") else "11")).status_code == 403
    assert httpx.get(url.split("?")[0]).status_code == 403
    # a correctly signed but expired link (signed with the server's own key file)
    signer = UrlSigner((keyed_server.data_dir / SECRET_FILE).read_bytes(), ttl_s=-10)
    expired = signer.sign(keyed_server.url, job_id, "jpg")
    r = httpx.get(expired)
    assert r.status_code == 403 and r.json() == {"detail": "This download link is invalid or has expired"}
    fresh = UrlSigner((keyed_server.data_dir / SECRET_FILE).read_bytes(), ttl_s=60).sign(
        keyed_server.url, job_id, "jpg"
    )
    assert httpx.get(fresh).status_code == 200


def test_path_traversal_file_name_is_harmless(keyed_server):
    evil = "../../../../tmp/../etc/pixtools_evil\\..\\x.png"
    r = post(keyed_server, name=evil, ops='["webp"]')
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    job = wait_done(keyed_server, job_id)
    assert job["status"] == "COMPLETED"
    uploads = list((keyed_server.data_dir / "uploads" / job_id).iterdir())
    assert [p.name for p in uploads] == ["input.png"]
    assert not Path("/etc/pixtools_evil").exists()
    d = httpx.get(job["result_urls"]["webp"])
    assert 'filename="pixtools_webp_x.webp"' in d.headers["content-disposition"]


def test_webhook_called_once_or_marks_webhook_failed(keyed_server, tmp_path):
    import http.server
    import threading

    calls: list[dict] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            calls.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="hook-server")
    t.start()
    try:
        job_id = post(keyed_server, webhook=f"http://127.0.0.1:{httpd.server_port}/hook").json()["job_id"]
        deadline = time.monotonic() + 20
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        httpd.shutdown()
        httpd.server_close()
        t.join(5)
    assert len(calls) == 1
    assert (
        calls[0]["job_id"] == job_id and calls[0]["status"] == "COMPLETED" and set(calls[0]["result_urls"]) == {"jpg"}
    )
    assert wait_done(keyed_server, job_id)["status"] == "COMPLETED"
    # a webhook nobody answers: the results exist, the status says the webhook failed
    dead_port = httpd.server_port
    job_id = post(keyed_server, webhook=f"http://127.0.0.1:{dead_port}/hook").json()["job_id"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        body = httpx.get(f"{keyed_server.url}/api/jobs/{job_id}", headers=KEY).json()
        if body["status"] == "COMPLETED_WEBHOOK_FAILED":
            break
        time.sleep(0.05)
    assert body["status"] == "COMPLETED_WEBHOOK_FAILED" and body["error_message"] is None
    assert httpx.get(body["result_urls"]["jpg"]).status_code == 200
