"""Health of the cloud sinks, one of the checks `pixtools_desktop.wiring` passes to `core.health`.

"s3": "ok" after a `head_bucket`, "unreachable: …" or "error: …" otherwise,
"not configured" when S3 is off. "webhook:<host>": each breaker's state
(closed / open / half-open, pybreaker's words); "webhook": "not configured"
when no webhook is set and none was ever called.
"""

from __future__ import annotations

from pixtools_desktop.cloud import breakers, s3
from pixtools_desktop.cloud.config import S3Target, s3_configured, url_host
from pixtools_desktop.core import health
from pixtools_desktop.core.settings import Settings


def check_s3(settings: Settings) -> dict[str, str]:
    if not s3_configured(settings):
        return {"s3": health.NOT_CONFIGURED}
    target = S3Target.from_settings(settings)
    try:
        s3.make_client(target, fast=True).head_bucket(Bucket=target.bucket)
    except Exception as exc:  # noqa: BLE001 - any failure is a health answer; s3.explain words it
        message, permanent = s3.explain(exc, target.bucket)
        return {"s3": f"{'error' if permanent else 'unreachable'}: {message}"}
    return {"s3": health.OK}


def check_webhooks(settings: Settings) -> dict[str, str]:
    states = breakers.states()
    if settings.webhook_url:
        states.setdefault(url_host(settings.webhook_url), "closed")
    if not states:
        return {"webhook": health.NOT_CONFIGURED}
    return {f"webhook:{host}": state for host, state in sorted(states.items())}


def check_cloud(settings: Settings) -> dict[str, str]:
    return {**check_s3(settings), **check_webhooks(settings)}
