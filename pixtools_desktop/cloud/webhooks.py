"""Webhook requests: the PixTools payload, its HMAC signature, one HTTP POST.

The body is the PixTools server's (`job_id`, `status`, `result_urls`) plus
`event`, `outputs`, `error_message`, `timestamp` (and `archive_url`,
`request_id`). With a secret, `X-PixTools-Signature: sha256=<hex>` is the
HMAC-SHA256 of the exact body bytes sent; `X-Request-ID` is always the job's
request id. A receiver verifies with `hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from pixtools_desktop.cloud.breakers import DeliveryFailed, DeliveryRejected
from pixtools_desktop.core.jobs import Job

SIGNATURE_HEADER = "X-PixTools-Signature"
RETRYABLE_4XX = {408, 429}
USER_AGENT = "PixTools-Desktop-Webhook/1"


class TargetRefused(Exception):
    """The delivery target is not allowed (e.g. `serve` refusing a private address); never retried."""


def event_for(job: Job) -> str:
    return "job.completed" if job.status.is_success else "job.failed"


def build_payload(job: Job, event: str, result_urls: dict[str, str], archive_url: str | None) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "status": job.status.value,
        "result_urls": result_urls,
        "archive_url": archive_url,
        "event": event,
        "outputs": [{"op": o.op, "path": o.path, "size": o.size, "mime": o.mime} for o in job.outputs],
        "error_message": job.error_message,
        "request_id": job.request_id,
        "timestamp": datetime.now(UTC).isoformat(),
    }


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """The header value: sha256=<hex HMAC-SHA256 of the body>."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: str) -> bool:
    """What a receiver does (and what the tests do)."""
    return header is not None and bool(header) and hmac.compare_digest(sign(body, secret), header)


def headers_for(body: bytes, request_id: str | None, secret: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-Request-ID": request_id or ""}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    return headers


def retry_after_s(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - datetime.now(UTC).timestamp())
        except (TypeError, ValueError):
            return None


def post(
    client: httpx.Client, url: str, body: bytes, headers: dict[str, str], timeout: float, extensions: dict | None = None
) -> int:
    """POST once; returns the 2xx status or raises DeliveryFailed / DeliveryRejected."""
    try:
        response = client.post(url, content=body, headers=headers, timeout=timeout, extensions=extensions or None)
    except httpx.TimeoutException as exc:
        raise DeliveryFailed(f"no answer within {timeout:g} s ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise DeliveryFailed(f"cannot connect ({type(exc).__name__}: {exc})") from exc
    status = response.status_code
    if 200 <= status < 300:
        return status
    reason = f"HTTP {status} {response.reason_phrase}".strip()
    if status >= 500 or status in RETRYABLE_4XX:
        err = DeliveryFailed(f"the receiver answered {reason}", status)
        err.retry_after = retry_after_s(response)  # type: ignore[attr-defined]
        raise err
    raise DeliveryRejected(status, f"the receiver refused the delivery: {reason} (not retried)")
