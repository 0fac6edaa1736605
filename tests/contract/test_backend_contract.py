"""One contract, every backend (as huey runs one storage suite against every storage).

Each test runs against the core `LocalRunner` (the window's, the CLI's and
`serve`'s scheduler) and against `RemoteBackend` talking to a real
`pixtools serve` child process. A front end (the window's queue controller)
relies on exactly this: events in order, one "finished" per job whatever its
end, a bad file failing alone, cancel, retry, and jobs in flight at quit
finishing after a restart.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from pixtools_desktop.core.backend import Backend, remove_jobs, retry_jobs
from pixtools_desktop.core.jobs import JobStatus, OutputOptions
from pixtools_desktop.core.runner import LocalRunner
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore, NewJob
from tests.conftest import require_testdata
from tests.server.serve_proc import ServeProcess

API_KEY = "contract-key-7"


@pytest.fixture(scope="module")
def serve(tmp_path_factory):
    s = ServeProcess(tmp_path_factory.mktemp("contract_serve"), api_key=API_KEY).start()
    yield s
    s.stop()


class Recorder:
    """A backend listener: every event, in order, from whichever thread sent it."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, object]] = []
        self._lock = threading.Lock()

    def __call__(self, event: str, job_id: str, payload: object) -> None:
        with self._lock:
            self.events.append((event, job_id, payload))

    def of(self, job_id: str) -> list[str]:
        with self._lock:
            return [e for e, j, _ in self.events if j == job_id]

    def finished(self, job_id: str) -> list:
        with self._lock:
            return [p for e, j, p in self.events if j == job_id and e == "finished"]


@pytest.fixture(params=["local", "remote"])
def kind(request):
    return request.param


@pytest.fixture
def make_backend(kind, request, tmp_path):
    """`make(store, **kw)` -> a started backend with a Recorder; all stopped at teardown."""
    made: list[Backend] = []

    def make(store: JobStore, *, start: bool = True):
        if kind == "local":
            backend = LocalRunner(store, Settings(workers=2, isolate_jobs=False, max_attempts=1), workers=2)
        else:
            from pixtools_desktop.remote.backend import RemoteBackend

            serve = request.getfixturevalue("serve")
            backend = RemoteBackend(
                store, Settings(poll_interval=0.05, max_attempts=1), base_url=serve.url, api_key=API_KEY
            )
        rec = Recorder()
        backend.add_listener(rec)
        made.append(backend)
        if start:
            backend.start()
        return backend, rec

    yield make
    for b in made:
        b.stop()


@pytest.fixture
def photos(tmp_path) -> list[Path]:
    src = require_testdata("testsets", "CBSD68")
    out = []
    for f in sorted(src.glob("*.png"))[:3]:
        out.append(Path(shutil.copy(f, tmp_path / f.name)))
    return out


def _job(path: Path, out: Path, ops=("jpg",)) -> NewJob:
    return NewJob(str(path), list(ops), options=OutputOptions(output_dir=str(out)))


def _wait(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_submit_progress_finish(make_backend, store, photos, tmp_path):
    backend, rec = make_backend(store)
    assert isinstance(backend, Backend)
    jobs = backend.submit([_job(p, tmp_path / "out", ("jpg", "webp")) for p in photos])
    _wait(lambda: all(rec.finished(j.id) for j in jobs))
    for job in jobs:
        seen = rec.of(job.id)
        assert seen[0] == "started" and seen[-1] == "finished" and seen.count("finished") == 1, seen
        assert "progress" in seen
        final = rec.finished(job.id)[0]
        assert final.status == JobStatus.COMPLETED and store.get(job.id).status == JobStatus.COMPLETED
        assert sorted(Image.open(o.path).format for o in final.outputs) == ["JPEG", "WEBP"]


def test_a_bad_file_fails_alone_with_a_reason(make_backend, store, photos, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    backend, rec = make_backend(store)
    good, broken = backend.submit([_job(photos[0], tmp_path / "out"), _job(bad, tmp_path / "out")])
    _wait(lambda: rec.finished(good.id) and rec.finished(broken.id))
    assert store.get(good.id).status == JobStatus.COMPLETED
    failed = store.get(broken.id)
    assert failed.status == JobStatus.FAILED
    assert failed.error_message and "Traceback" not in failed.error_message
    assert rec.finished(broken.id)[0].status == JobStatus.FAILED


def test_cancel_a_waiting_job_reports_it_finished(make_backend, store, photos, tmp_path):
    backend, rec = make_backend(store)
    backend.pause()
    keep, drop = backend.submit([_job(photos[0], tmp_path / "out"), _job(photos[1], tmp_path / "out")])
    backend.cancel(drop.id)
    assert store.get(drop.id).status == JobStatus.CANCELLED
    [final] = rec.finished(drop.id)  # at once: a front end counts it as finished
    assert final.status == JobStatus.CANCELLED
    backend.resume()
    _wait(lambda: rec.finished(keep.id))
    assert store.get(keep.id).status == JobStatus.COMPLETED
    assert rec.of(drop.id) == ["finished"]  # it never ran
    assert not (tmp_path / "out" / f"{photos[1].stem}_jpg.jpg").exists()


def test_pause_starts_nothing_new(make_backend, store, photos, tmp_path):
    backend, rec = make_backend(store)
    backend.pause()
    jobs = backend.submit([_job(p, tmp_path / "out") for p in photos])
    time.sleep(1.0)  # longer than any backend's idle poll
    assert not rec.events and all(store.get(j.id).status == JobStatus.PENDING for j in jobs)
    backend.resume()
    _wait(lambda: all(rec.finished(j.id) for j in jobs))


def test_pause_landing_during_a_claim_starts_nothing(make_backend, kind, store, photos, tmp_path, monkeypatch):
    """The worker checked "not paused" and is claiming as the user presses Pause (CI caught this once)."""
    backend, rec = make_backend(store, start=False)
    [job] = backend.submit([_job(photos[0], tmp_path / "out")])
    if kind == "local":
        owner, name = store, "claim_next"
    else:
        from pixtools_desktop.remote import state

        owner, name = state, "claim_due"
    real = getattr(owner, name)

    def claim_as_pause_lands(*args, **kwargs):
        backend.pause()
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, claim_as_pause_lands)
    backend.start()
    time.sleep(1.0)
    assert not rec.events and store.get(job.id).status == JobStatus.PENDING
    monkeypatch.undo()
    backend.resume()
    _wait(lambda: rec.finished(job.id))
    assert store.get(job.id).status == JobStatus.COMPLETED


def test_retry_after_the_cause_is_fixed(make_backend, store, photos, tmp_path):
    bad = tmp_path / "later.png"
    bad.write_bytes(b"not an image yet")
    backend, rec = make_backend(store)
    [job] = backend.submit([_job(bad, tmp_path / "out")])
    _wait(lambda: rec.finished(job.id))
    assert store.get(job.id).status == JobStatus.FAILED
    shutil.copy(photos[0], bad)  # the user fixed the file
    assert retry_jobs(backend, store, [job.id]) == 1
    _wait(lambda: len(rec.finished(job.id)) == 2)
    final = store.get(job.id)
    assert final.status == JobStatus.COMPLETED, final.error_message
    assert Image.open(final.outputs[0].path).size == Image.open(photos[0]).size


def test_remove_keeps_running_jobs(make_backend, store, photos, tmp_path):
    backend, rec = make_backend(store, start=False)
    jobs = backend.submit([_job(p, tmp_path / "out") for p in photos])
    store.claim_next("std")  # as if one were running in this process
    running = [j.id for j in jobs if store.get(j.id).status == JobStatus.PROCESSING]
    kept = remove_jobs(store, [j.id for j in jobs])
    assert kept == running
    assert [j.id for j in store.get_many([j.id for j in jobs])] == running


def test_jobs_in_flight_at_quit_finish_after_a_restart(make_backend, store, photos, tmp_path):
    big = tmp_path / "big.jpg"
    with Image.open(photos[0]) as im:
        im.resize((im.width * 4, im.height * 4)).save(big, quality=90)  # a few seconds of AVIF work
    backend, rec = make_backend(store)
    [job] = backend.submit([_job(big, tmp_path / "out", ("avif", "webp"))])
    _wait(lambda: "started" in rec.of(job.id))
    backend.stop()  # the app quits mid-job
    assert not store.get(job.id).status.is_final  # local: re-queued; remote: still followed on the server
    again, rec2 = make_backend(store)  # the app starts again on the same database
    _wait(lambda: store.get(job.id).status.is_final, timeout=120)
    final = store.get(job.id)
    assert final.status == JobStatus.COMPLETED, final.error_message
    assert sorted(Path(o.path).suffix for o in final.outputs) == [".avif", ".webp"]
    assert len(list((tmp_path / "out").glob("big_*"))) == 2  # each output once, no half-written leftovers
