"""`pixtools process` flags for the cloud sinks (loaded by cli/process_extras.py).

`--upload` sends each output to S3 per the settings (PIXTOOLS_S3_* variables,
AWS_* credentials or a profile); `--webhook URL [--webhook-secret S]`
announces each job. The sinks run in-process beside the batch; the command
waits for them (bounded by `--sink-timeout`) before its summary, which lists
each object's key and presigned URL. Anything still pending stays queued in
the database and resumes on the next run or in the window.
"""

from __future__ import annotations

import argparse
import sys

from pixtools_desktop.cloud import links, outbox
from pixtools_desktop.cloud.config import SinkConfig
from pixtools_desktop.cloud.service import SinkService
from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.logs import redact
from pixtools_desktop.core.ops import validate_webhook_url

DEFAULT_SINK_TIMEOUT_S = 120.0
_ATTR = "_pixtools_cloud_sinks"
_extras: dict[str, dict] = {}  # job_id -> summary fields, filled by finalize (the CLI closes the store after)


def _webhook_url(value: str) -> str:
    try:
        return validate_webhook_url(value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(f"{exc.detail} (got {redact(value)!r})") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("cloud sinks")
    g.add_argument(
        "--upload",
        action="store_true",
        help="upload outputs to S3 (PIXTOOLS_S3_ENDPOINT_URL, PIXTOOLS_S3_BUCKET, PIXTOOLS_S3_PREFIX, "
        "PIXTOOLS_S3_REGION; credentials from AWS_* variables or a profile)",
    )
    g.add_argument(
        "--webhook",
        type=_webhook_url,
        default=None,
        metavar="URL",
        help="POST each job's outcome to this http(s) URL (default: PIXTOOLS_WEBHOOK_URL)",
    )
    g.add_argument(
        "--webhook-secret",
        default=None,
        metavar="S",
        help="sign webhook bodies with HMAC-SHA256 (prefer PIXTOOLS_WEBHOOK_SECRET: "
        "a flag is visible to other users of this machine)",
    )
    g.add_argument("--webhook-on-failure", action="store_true", help="also announce failed jobs")
    g.add_argument(
        "--sink-timeout",
        type=float,
        default=DEFAULT_SINK_TIMEOUT_S,
        metavar="SECONDS",
        help="how long to wait for uploads and webhooks before the summary (default 120)",
    )


def attach(args: argparse.Namespace, backend, store, settings) -> None:
    """Start the sinks for this run when asked for, and hook them to the backend."""
    try:
        cfg = SinkConfig.from_settings(
            settings,
            upload=bool(getattr(args, "upload", False)),
            webhook_url=getattr(args, "webhook", None),
            webhook_secret=getattr(args, "webhook_secret", None),
            webhook_on_failure=bool(getattr(args, "webhook_on_failure", False)),
        )
    except ValidationError as exc:  # a bad PIXTOOLS_WEBHOOK_URL
        print(f"pixtools: {exc.detail}; webhooks are off for this run", file=sys.stderr)
        cfg = SinkConfig.from_settings(settings, upload=bool(getattr(args, "upload", False)), webhook_url="")
    if not (cfg.upload or cfg.webhook_url):
        return
    service = SinkService(store, settings, cfg)
    service.start()
    setattr(args, _ATTR, service)
    backend.add_finish_hook(service.hook)


def finalize(args: argparse.Namespace, store, settings, jobs) -> None:
    """Wait (bounded) for this batch's uploads and deliveries, then note them for the summary."""
    service: SinkService | None = getattr(args, _ATTR, None)
    if service is None:
        return
    ids = [j.id for j in jobs]
    try:
        settled = service.wait(ids, getattr(args, "sink_timeout", DEFAULT_SINK_TIMEOUT_S))
    finally:
        service.stop()
        setattr(args, _ATTR, None)
    if not settled:
        print(
            f"pixtools: {service.unfinished(ids)} upload(s)/webhook(s) still pending after "
            f"{args.sink_timeout:g} s; they stay queued and resume on the next run or in the window.",
            file=sys.stderr,
        )
    for job in jobs:
        extra: dict = {}
        objects = links.uploaded_objects(store, job.id, settings)
        if objects:
            extra["uploads"] = [
                {
                    "op": o["op"],
                    "key": o["key"],
                    "url": o["url"],
                    "state": o["state"],
                    **({"error": o["error"]} if o["error"] else {}),
                }
                for o in objects
            ]
        rows = outbox.for_job(store, job.id)
        if rows:
            r = rows[-1]
            extra["webhook"] = {
                "url": redact(r.url),
                "event": r.event,
                "state": r.state,
                "attempts": r.attempts,
                "last_status": r.last_status,
                "error": r.last_error,
            }
        if extra:
            _extras[job.id] = extra
    if not getattr(args, "json", False):
        _print_sinks(jobs)


def _print_sinks(jobs) -> None:
    for job in jobs:
        extra = _extras.get(job.id, {})
        for o in extra.get("uploads", []):
            if o["url"]:
                print(f"  s3    {job.name} [{o['op']}] -> {o['key']}\n        {o['url']}")
            else:
                print(
                    f"  s3    {job.name} [{o['op']}] -> {o['key']}: upload {o['state']}"
                    f"{': ' + o['error'] if o.get('error') else ''}"
                )
        hook = extra.get("webhook")
        if hook:
            detail = f"HTTP {hook['last_status']}" if hook["last_status"] else (hook["error"] or "")
            print(f"  hook  {job.name} {hook['event']} -> {hook['url']}: {hook['state']} {detail}".rstrip())


def job_extras(job) -> dict:
    """`uploads` ([{op, key, url, state}]) and `webhook` ({url, event, state, …}) for the summary and --json."""
    return dict(_extras.get(job.id, {}))
