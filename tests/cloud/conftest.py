"""Fixtures of the cloud tests: a real S3 (SeaweedFS), a real webhook receiver, finished jobs.

SeaweedFS is started once per session (it takes a couple of seconds) on free
ports in a temporary folder, and killed with its folder removed at the end.
The webhook receiver is per test. Jobs are real store rows whose outputs are
real images written with Pillow.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pixtools_desktop.cloud import breakers
from pixtools_desktop.cloud.config import RetryPolicy, SinkConfig
from pixtools_desktop.core.jobs import Job, OutputOptions, OutputRecord
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore, NewJob
from tests.cloud.cloud_servers import BUCKET


@pytest.fixture(autouse=True)
def fresh_breakers():
    breakers.reset_all()
    yield
    breakers.reset_all()


@pytest.fixture
def store(tmp_path):
    s = JobStore(tmp_path / "jobs.sqlite3")
    yield s
    s.close()


@pytest.fixture
def settings(tmp_path, seaweed, aws_env) -> Settings:
    return Settings(
        s3_enabled=True,
        s3_endpoint_url=seaweed.endpoint,
        s3_bucket=BUCKET,
        s3_region="us-east-1",
        db_path=str(tmp_path / "jobs.sqlite3"),
    )


FAST_RETRY = RetryPolicy(base=0.1, cap=0.4, max_attempts=4)


def sink_config(settings: Settings, **kw) -> SinkConfig:
    kw.setdefault("retry", FAST_RETRY)
    kw.setdefault("webhook_timeout", 0.5)
    upload = kw.pop("upload", True)
    return SinkConfig.from_settings(settings, upload=upload, **kw)


def finished_job(
    store: JobStore,
    folder: Path,
    ops=("jpg", "webp"),
    *,
    stem: str = "photo",
    bundle: bool = False,
    fail: str | None = None,
) -> Job:
    """A real job row: claimed, its outputs written as real image files, then completed (or failed)."""
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / f"{stem}.png"
    Image.new("RGB", (64, 48), (200, 40, 90)).save(src)
    [job] = store.add_jobs(
        [NewJob(input_path=str(src), operations=list(ops), options=OutputOptions(), request_id="req-" + stem)]
    )
    claimed = store.claim_next("std")
    assert claimed is not None and claimed.id == job.id
    if fail:
        store.fail(job.id, fail)
        return store.get(job.id)  # type: ignore[return-value]
    outputs = []
    formats = {
        "jpg": ("JPEG", "image/jpeg"),
        "webp": ("WEBP", "image/webp"),
        "png": ("PNG", "image/png"),
        "avif": ("AVIF", "image/avif"),
    }
    for op in ops:
        if op == "metadata":
            continue
        fmt, mime = formats[op]
        path = folder / f"{stem}_{op}.{op}"
        Image.new("RGB", (64, 48), (10, 120, 200)).save(path, fmt)
        outputs.append(OutputRecord(op=op, path=str(path), size=path.stat().st_size, mime=mime))
    if bundle:
        import zipfile

        zpath = folder / f"{stem}_bundle.zip"
        with zipfile.ZipFile(zpath, "w") as zf:
            for o in outputs:
                zf.write(o.path, Path(o.path).name)
        outputs.append(OutputRecord(op="bundle", path=str(zpath), size=zpath.stat().st_size, mime="application/zip"))
    assert store.complete(job.id, outputs=outputs, metadata=None, warnings=[])
    return store.get(job.id)  # type: ignore[return-value]
