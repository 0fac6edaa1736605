"""What the sinks need to know, gathered once from settings, flags and the environment.

Secrets are held only in memory: the webhook secret comes from
`PIXTOOLS_WEBHOOK_SECRET` or `--webhook-secret`, AWS credentials from boto3's
own chain (AWS_* variables, a profile, instance roles). Neither is ever
written to settings.json, the job database or the log.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from pixtools_desktop.core.jobs import Job
from pixtools_desktop.core.ops import validate_webhook_url
from pixtools_desktop.core.settings import Settings

WEBHOOK_SECRET_ENV = "PIXTOOLS_WEBHOOK_SECRET"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: `base` seconds doubling up to `cap`, at most `max_attempts` tries."""

    base: float = 5.0
    cap: float = 900.0
    max_attempts: int = 8

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the `attempt`-th failed try (1-based)."""
        return min(self.cap, self.base * (2 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class S3Target:
    """Where uploads go. Equal targets share one boto3 client."""

    bucket: str
    endpoint_url: str | None = None
    region: str = DEFAULT_REGION
    prefix: str = ""
    profile: str | None = None
    url_expiry: int = 86_400

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Target:
        return cls(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region or DEFAULT_REGION,
            prefix=(settings.s3_prefix or "").strip("/"),
            profile=settings.s3_profile or None,
            url_expiry=int(settings.s3_url_expiry or 86_400),
        )


def s3_configured(settings: Settings) -> bool:
    """S3 counts as configured when it is switched on or an endpoint is set."""
    return bool(settings.s3_enabled or settings.s3_endpoint_url)


@dataclass(frozen=True)
class SinkConfig:
    """Everything one SinkService run needs; built by `from_settings`."""

    upload: bool = False
    s3: S3Target | None = None
    webhook_url: str = ""
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_on_failure: bool = False
    webhook_timeout: float = 10.0
    fail_max: int = 5
    reset_timeout: float = 60.0
    retry: RetryPolicy = RetryPolicy()
    # (job, event) -> webhook body; None: the desktop's payload (webhooks.build_payload).
    # `pixtools serve` sets it to send upstream's exact {"job_id","status","result_urls"}.
    payload_builder: Callable[[Job, str], dict[str, Any]] | None = field(default=None, repr=False, compare=False)
    # url -> (url to connect to, extra headers, httpx extensions); raises webhooks.TargetRefused.
    # `pixtools serve` sets it (server/webhook_guard.py); the desktop's own webhook is the user's choice.
    url_guard: Callable[[str], tuple[str, dict[str, str], dict[str, Any]]] | None = field(
        default=None, repr=False, compare=False
    )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        upload: bool | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        webhook_on_failure: bool | None = None,
        **overrides,
    ) -> SinkConfig:
        """Settings first, then explicit arguments (CLI flags) win; the secret falls back to the env."""
        upload = settings.s3_enabled if upload is None else (upload or settings.s3_enabled)
        url = validate_webhook_url(webhook_url if webhook_url is not None else (settings.webhook_url or ""))
        secret = webhook_secret if webhook_secret is not None else os.environ.get(WEBHOOK_SECRET_ENV) or None
        on_failure = (
            settings.webhook_on_failure
            if webhook_on_failure is None
            else (webhook_on_failure or settings.webhook_on_failure)
        )
        fields: dict[str, Any] = {
            "upload": bool(upload),
            "s3": S3Target.from_settings(settings),
            "webhook_url": url,
            "webhook_secret": secret,
            "webhook_on_failure": bool(on_failure),
            "fail_max": int(settings.webhook_fail_max or 5),
            "reset_timeout": float(settings.webhook_reset_timeout or 60),
        }
        fields.update(overrides)  # e.g. webhook_timeout, retry (tests, embedding apps)
        return cls(**fields)


def url_host(url: str) -> str:
    """The breaker key of a webhook URL: host[:port]."""
    return urlparse(url).netloc.rpartition("@")[2].lower()
