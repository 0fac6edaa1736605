"""`pixtools serve` webhooks go through the durable outbox: retries with backoff, upstream's exact body.

Real server process, real receiver on 127.0.0.1; the server's backoff is
shortened by FAST_RETRY_ENV (0.1 s doubling to 0.4 s, 4 tries).
"""

from __future__ import annotations

import json
import time

import httpx

from tests.server.conftest import FAST_RETRY_ENV
from tests.server.test_contract import KEY, png_bytes, post, wait_done

ATTEMPTS = int(FAST_RETRY_ENV["PIXTOOLS_SERVE_WEBHOOK_ATTEMPTS"])


def wait_status(server, job_id: str, wanted: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = httpx.get(f"{server.url}/api/jobs/{job_id}", headers=KEY, timeout=10).json()
        if body["status"] == wanted:
            return body
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {wanted}: {body}")


def test_fails_twice_then_delivered_with_upstream_body(keyed_server, receiver):
    receiver.script = [500, 429]  # a 5xx and a 429 are both retried; the third try gets the default 200
    job_id = post(keyed_server, ops='["jpg","webp","metadata"]', webhook=receiver.url).json()["job_id"]
    assert receiver.wait_for(3, timeout=20)
    time.sleep(0.6)  # longer than the backoff cap: nothing more may come after the 2xx
    assert [r.answered for r in receiver.requests] == [500, 429, 200]
    bodies = [json.loads(r.body) for r in receiver.requests]
    for body in bodies:
        assert set(body) == {"job_id", "status", "result_urls"}  # upstream's shape, nothing added
        assert body["job_id"] == job_id and body["status"] == "COMPLETED"
        assert set(body["result_urls"]) == {"jpg", "webp"}
    assert all(
        r.path == "/hooks/pixtools"
        and r.headers["Content-Type"] == "application/json"
        and "X-PixTools-Signature" not in r.headers
        for r in receiver.requests
    )
    job = wait_done(keyed_server, job_id)
    assert job["status"] == "COMPLETED" and job["error_message"] is None
    d = httpx.get(bodies[-1]["result_urls"]["webp"], timeout=10)
    assert d.status_code == 200 and d.headers["content-type"] == "image/webp"


def test_410_is_not_retried_and_marks_webhook_failed(keyed_server, receiver):
    receiver.default = 410
    job_id = post(keyed_server, webhook=receiver.url).json()["job_id"]
    job = wait_status(keyed_server, job_id, "COMPLETED_WEBHOOK_FAILED")
    time.sleep(1.0)  # several backoff periods: a retry would have arrived by now
    assert receiver.count() == 1 and receiver.requests[0].answered == 410
    assert job["error_message"] is None and set(job["result_urls"]) == {"jpg"}
    assert httpx.get(job["result_urls"]["jpg"], timeout=10).status_code == 200  # the results are fine


def test_exhausted_retries_mark_webhook_failed(keyed_server, receiver):
    receiver.default = 503
    job_id = post(keyed_server, webhook=receiver.url).json()["job_id"]
    wait_status(keyed_server, job_id, "COMPLETED_WEBHOOK_FAILED")
    time.sleep(0.6)
    assert receiver.count() == ATTEMPTS  # bounded: exactly the configured number of tries


def test_failed_job_never_calls_the_webhook(keyed_server, receiver):
    broken = png_bytes()[:60]  # a real PNG signature and header, then nothing: decoding fails
    job_id = post(keyed_server, data=broken, webhook=receiver.url).json()["job_id"]
    job = wait_status(keyed_server, job_id, "FAILED")
    assert job["error_message"] and job["result_urls"] == {}
    time.sleep(0.6)
    assert receiver.count() == 0
