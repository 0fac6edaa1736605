"""Small helpers shared by the remote backend tests."""

from __future__ import annotations

import time
from pathlib import Path

from PIL import Image

from pixtools_desktop.core.jobs import Job, OutputOptions
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore, NewJob
from pixtools_desktop.remote.backend import RemoteBackend


def fast_settings(**kw) -> Settings:
    s = Settings(poll_interval=0.05, max_attempts=2)
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def make_png(path: Path, size=(80, 60), color=(20, 140, 220)) -> Path:
    img = Image.new("RGB", size, color)
    for x in range(0, size[0], 7):  # some structure, so encoders have work to do
        for y in range(size[1]):
            img.putpixel((x, y), (255, 255, 0))
    img.save(path, "PNG")
    return path


def new_job(path: Path, ops: list[str], out: Path, params: dict | None = None, **opts) -> NewJob:
    return NewJob(
        input_path=str(path),
        operations=ops,
        params=params or {},
        options=OutputOptions(output_dir=str(out), **opts),
        request_id="req-test",
    )


def run_jobs(
    store: JobStore, settings: Settings, url: str, new_jobs: list[NewJob], *, api_key=None, timeout: float = 60.0, **kw
) -> list[Job]:
    backend = RemoteBackend(store, settings, base_url=url, api_key=api_key, **kw)
    backend.start()
    try:
        jobs = backend.submit(new_jobs)
        assert backend.wait_idle(timeout=timeout), [store.get(j.id) for j in jobs]
    finally:
        backend.stop()
    return store.get_many([j.id for j in jobs])


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met in {timeout} s")
