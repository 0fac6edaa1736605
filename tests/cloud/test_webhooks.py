"""Webhook deliveries from the durable outbox to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import hmac
import json
import os
import time

import pytest

from pixtools_desktop.cloud import breakers, outbox, webhooks
from pixtools_desktop.cloud.config import RetryPolicy, SinkConfig
from pixtools_desktop.cloud.health import check_webhooks
from pixtools_desktop.cloud.service import SinkService
from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.jobs import JobStatus
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore
from tests.cloud.conftest import finished_job

SECRET = "whsec-test-3Jq9"


def hook_config(url: str, **kw) -> SinkConfig:
    kw.setdefault("retry", RetryPolicy(base=0.05, cap=0.2, max_attempts=5))
    kw.setdefault("webhook_timeout", 0.5)
    return SinkConfig.from_settings(Settings(), webhook_url=url, **kw)


def run_until_settled(store, cfg, job_ids, timeout=20.0):
    with SinkService(store, Settings(), cfg) as service:
        for job in job_ids:
            service.hook(job)
        assert service.wait([j.id for j in job_ids], timeout)


def test_fails_n_times_then_succeeds(store, receiver, tmp_path):
    receiver.script = [500, 503]
    job = finished_job(store, tmp_path, ops=("jpg", "metadata"))
    run_until_settled(store, hook_config(receiver.url), [job])
    assert receiver.count() == 3
    [row] = outbox.for_job(store, job.id)
    assert (row.state, row.attempts, row.last_status) == ("delivered", 3, 200)
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert all(b["job_id"] == job.id and b["status"] == "COMPLETED" and b["event"] == "job.completed" for b in bodies)
    body = bodies[-1]
    assert body["result_urls"] == {}  # no S3 in this run
    assert body["outputs"] == [
        {"op": "jpg", "path": job.outputs[0].path, "size": job.outputs[0].size, "mime": "image/jpeg"}
    ]
    assert body["error_message"] is None and body["timestamp"].endswith("+00:00")
    assert {r.headers["X-Request-ID"] for r in receiver.requests} == {job.request_id}
    assert "X-PixTools-Signature" not in receiver.requests[0].headers  # no secret, no signature
    after = store.get(job.id)
    assert after.status == JobStatus.COMPLETED and not any(w.startswith("webhook") for w in after.warnings)


def test_signature_verifies_with_compare_digest(store, receiver, tmp_path):
    job = finished_job(store, tmp_path)
    run_until_settled(store, hook_config(receiver.url, webhook_secret=SECRET), [job])
    [req] = receiver.requests
    header = req.headers["X-PixTools-Signature"]
    assert header.startswith("sha256=")
    expected = "sha256=" + hmac.new(SECRET.encode(), req.body, "sha256").hexdigest()
    assert hmac.compare_digest(expected, header)
    assert webhooks.verify(req.body, header, SECRET)
    assert not webhooks.verify(req.body, header, "another-secret")
    assert not webhooks.verify(req.body + b" ", header, SECRET)


def test_secret_from_environment(monkeypatch):
    monkeypatch.setenv("PIXTOOLS_WEBHOOK_SECRET", SECRET)
    cfg = SinkConfig.from_settings(Settings(webhook_url="https://example.test/hook"))
    assert cfg.webhook_secret == SECRET and SECRET not in repr(cfg)


def test_hang_past_timeout_is_retried(store, receiver, tmp_path):
    receiver.script = [("hang", 1.0)]
    job = finished_job(store, tmp_path)
    run_until_settled(store, hook_config(receiver.url, webhook_timeout=0.3), [job])
    [row] = outbox.for_job(store, job.id)
    assert row.state == "delivered" and row.attempts == 2
    assert receiver.wait_for(2, 5)


def test_hang_message_names_the_timeout(store, receiver, tmp_path):
    receiver.default = ("hang", 3.0)
    job = finished_job(store, tmp_path)
    cfg = hook_config(receiver.url, webhook_timeout=0.3, retry=RetryPolicy(base=60, cap=60, max_attempts=5))
    outbox.enqueue(store, job, receiver.url, signed=False)
    row = outbox.claim_next(store)
    with __import__("httpx").Client() as client:
        assert outbox.process_one(store, row, cfg, client, Settings()) == "retry"
    [row] = outbox.for_job(store, job.id)
    assert row.state == "pending" and "no answer within 0.3 s" in row.last_error
    note = [w for w in store.get(job.id).warnings if w.startswith("webhook")]
    assert note and "retrying in" in note[0]


def test_410_is_not_retried_and_marks_webhook_failed(store, receiver, tmp_path):
    receiver.default = 410
    job = finished_job(store, tmp_path)
    run_until_settled(store, hook_config(receiver.url), [job])
    time.sleep(0.3)  # give a wrong retry the chance to show up
    assert receiver.count() == 1
    [row] = outbox.for_job(store, job.id)
    assert (row.state, row.attempts, row.last_status) == ("failed", 1, 410)
    after = store.get(job.id)
    assert after.status == JobStatus.COMPLETED_WEBHOOK_FAILED and after.status.is_success
    assert any("410" in w and "not retried" in w for w in after.warnings)


def test_retries_exhausted_marks_webhook_failed(store, receiver, tmp_path):
    receiver.default = 503
    job = finished_job(store, tmp_path)
    run_until_settled(store, hook_config(receiver.url, retry=RetryPolicy(base=0.02, cap=0.05, max_attempts=3)), [job])
    assert receiver.count() == 3
    [row] = outbox.for_job(store, job.id)
    assert (row.state, row.attempts) == ("failed", 3)
    assert store.get(job.id).status == JobStatus.COMPLETED_WEBHOOK_FAILED


def test_429_is_retried(store, receiver, tmp_path):
    receiver.script = [429, 408]
    job = finished_job(store, tmp_path)
    run_until_settled(store, hook_config(receiver.url), [job])
    assert [r.answered for r in receiver.requests] == [429, 408, 200]


def test_breaker_opens_half_opens_and_closes(store, receiver, tmp_path):
    import httpx

    receiver.script = [500, 500]
    host = receiver.url.split("/")[2]
    cfg = hook_config(
        receiver.url, fail_max=2, reset_timeout=0.6, retry=RetryPolicy(base=0.0, cap=0.0, max_attempts=10)
    )
    job = finished_job(store, tmp_path)
    outbox.enqueue(store, job, receiver.url, signed=False)
    with httpx.Client() as client:

        def step():
            row = outbox.claim_next(store, now=time.time() + 3600)
            assert row is not None
            return outbox.process_one(store, row, cfg, client, Settings())

        assert step() == "retry" and breakers.states()[host] == "closed"
        assert step() == "retry" and breakers.states()[host] == "open"  # fail_max reached
        assert check_webhooks(Settings())[f"webhook:{host}"] == "open"
        assert step() == "deferred"  # open: no request is made, no attempt spent
        assert receiver.count() == 2
        [row] = outbox.for_job(store, job.id)
        assert row.attempts == 2 and "circuit breaker" in row.last_error and row.next_at > time.time()
        time.sleep(0.7)  # past reset_timeout: the next call is the half-open trial
        assert step() == "delivered"
    assert breakers.transitions(host) == [("closed", "open"), ("open", "half-open"), ("half-open", "closed")]
    assert breakers.states()[host] == "closed"
    assert receiver.count() == 3


def test_breaker_trial_failure_reopens(store, receiver, tmp_path):
    import httpx

    receiver.default = 500
    host = receiver.url.split("/")[2]
    cfg = hook_config(receiver.url, fail_max=1, reset_timeout=0.3, retry=RetryPolicy(base=0, cap=0, max_attempts=10))
    job = finished_job(store, tmp_path)
    outbox.enqueue(store, job, receiver.url, signed=False)
    with httpx.Client() as client:
        for expected in ("retry", "deferred"):
            row = outbox.claim_next(store, now=time.time() + 3600)
            assert outbox.process_one(store, row, cfg, client, Settings()) == expected
        time.sleep(0.4)
        row = outbox.claim_next(store, now=time.time() + 3600)
        assert outbox.process_one(store, row, cfg, client, Settings()) == "retry"
    assert breakers.transitions(host) == [("closed", "open"), ("open", "half-open"), ("half-open", "open")]


def test_nothing_delivered_twice_after_restart(receiver, tmp_path):
    db = tmp_path / "jobs.sqlite3"
    first = JobStore(db)
    delivered = finished_job(first, tmp_path / "a", stem="a")
    interrupted = finished_job(first, tmp_path / "b", stem="b")
    cfg = hook_config(receiver.url)
    run_until_settled(first, cfg, [delivered])
    assert receiver.count() == 1
    # b was claimed by a process that then died before it sent anything.
    outbox.enqueue(first, interrupted, receiver.url, signed=False)
    with first.transaction() as conn:
        conn.execute(
            "UPDATE webhook_outbox SET state = 'sending', claimed_by = ? WHERE job_id = ?",
            (f"{os.uname().nodename}:999999", interrupted.id),
        )
    first.close()

    second = JobStore(db)
    try:
        with SinkService(second, Settings(), cfg) as service:
            service.hook(second.get(delivered.id))  # the same outcome announced again: ignored
            assert service.wait([delivered.id, interrupted.id], 10)
            time.sleep(0.3)
        ids = [json.loads(r.body)["job_id"] for r in receiver.requests]
        assert sorted(ids) == sorted([delivered.id, interrupted.id])
        assert [r.state for r in outbox.for_job(second, interrupted.id)] == ["delivered"]
    finally:
        second.close()


def test_failure_announced_only_when_asked(store, receiver, tmp_path):
    failed = finished_job(store, tmp_path / "f", stem="f", fail="The file f.png is not an image.")
    run_until_settled(store, hook_config(receiver.url), [failed])
    assert receiver.count() == 0 and outbox.for_job(store, failed.id) == []
    run_until_settled(store, hook_config(receiver.url, webhook_on_failure=True), [failed])
    [req] = receiver.requests
    body = json.loads(req.body)
    assert body["event"] == "job.failed" and body["status"] == "FAILED"
    assert body["error_message"] == "The file f.png is not an image." and body["result_urls"] == {}
    assert store.get(failed.id).status == JobStatus.FAILED


@pytest.mark.parametrize("url", ["ftp://example.test/x", "file:///etc/passwd", "example.test/hook", "http://"])
def test_only_http_urls(url):
    with pytest.raises(ValidationError, match="webhook_url must be a valid http"):
        SinkConfig.from_settings(Settings(), webhook_url=url)


def test_health_without_webhook_is_not_configured():
    assert check_webhooks(Settings()) == {"webhook": "not configured"}
    assert check_webhooks(Settings(webhook_url="https://hooks.example.test:8443/x")) == {
        "webhook:hooks.example.test:8443": "closed"
    }
