"""Presigned links for a job's uploaded results (the window's result cards, webhooks, the CLI).

URLs are signed on demand and never stored: a presigned URL is a bearer
credential for its object, so it must not sit in the job database or a log.
"""

from __future__ import annotations

import logging

from pixtools_desktop.cloud import s3, uploads
from pixtools_desktop.cloud.config import S3Target
from pixtools_desktop.core.settings import Settings, load_settings
from pixtools_desktop.core.store import JobStore

log = logging.getLogger(__name__)


def _target_for(row: uploads.UploadRow, settings: Settings) -> S3Target:
    base = S3Target.from_settings(settings)
    return S3Target(
        bucket=row.bucket,
        endpoint_url=row.endpoint_url,
        region=base.region,
        prefix=base.prefix,
        profile=base.profile,
        url_expiry=base.url_expiry,
    )


def uploaded_objects(store: JobStore, job_id: str, settings: Settings | None = None) -> list[dict]:
    """[{"op", "key", "url", "state", "error"}] for every upload row of the job; `url` only once uploaded."""
    settings = settings or load_settings()
    out = []
    for row in uploads.for_job(store, job_id):
        item = {
            "op": row.op,
            "key": row.key,
            "bucket": row.bucket,
            "url": None,
            "state": row.state,
            "error": row.last_error if row.state != "done" else None,
        }
        if row.state == "done":
            target = _target_for(row, settings)
            try:
                item["url"] = s3.presign(s3.get_client(target), row.bucket, row.key, row.filename, target.url_expiry)
            except Exception as exc:  # noqa: BLE001 - e.g. credentials gone since the upload
                item["error"] = s3.explain(exc, row.bucket)[0]
                log.warning("cannot sign a result link", extra={"job_id": job_id, "error": item["error"]})
        out.append(item)
    return out


def result_urls(store: JobStore, job_id: str, settings: Settings | None = None) -> tuple[dict[str, str], str | None]:
    """(op -> presigned URL, archive URL or None), the PixTools API's `result_urls`/`archive_url`."""
    urls: dict[str, str] = {}
    archive = None
    for item in uploaded_objects(store, job_id, settings):
        if item["url"]:
            if item["op"] == "bundle":
                archive = item["url"]
            else:
                urls[item["op"]] = item["url"]
    return urls, archive


def job_links(store: JobStore, job_id: str, settings: Settings | None = None) -> list[tuple[str, str]]:
    """[(label, url)] for the window: one per uploaded object, e.g. ("WEBP on S3", url)."""
    links = []
    for item in uploaded_objects(store, job_id, settings):
        if item["url"]:
            label = "ZIP on S3" if item["op"] == "bundle" else f"{item['op'].upper()} on S3"
            links.append((label, item["url"]))
    return links
