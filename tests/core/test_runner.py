"""The one local scheduler: denoise on its model thread (model loaded there, lazily), cancel of a
running denoise between tiles, a graceful stop that joins every thread, and the shared WorkerLoop."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from pixtools_desktop.core.jobs import JobStatus, OutputOptions
from pixtools_desktop.core.runner import LocalRunner
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import NewJob
from pixtools_desktop.core.worker_loop import WorkerLoop
from pixtools_desktop.wiring import denoiser_factory as real_denoiser_factory
from tests.conftest import require_testdata


def _wait(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def denoise_settings(tmp_path) -> Settings:
    weights = require_testdata("weights")
    try:
        import pixtools_desktop.ml  # noqa: F401 - only asks whether the ML layer imports
    except ImportError as exc:
        pytest.skip(f"ML layer missing: {exc}")
    return Settings(weights_path=str(weights), denoise_threads=2, denoise_tile=48, isolate_jobs=False, workers=1)


def _noisy(tmp_path: Path, size=(240, 180)) -> Path:
    src = sorted(require_testdata("testsets", "CBSD68").glob("*.png"))[0]
    out = tmp_path / "noisy.png"
    with Image.open(src) as im:
        im.crop((0, 0, *size)).save(out)
    return out


def test_denoise_loads_the_model_lazily_on_the_model_thread_and_cancels_between_tiles(
    store, denoise_settings, tmp_path
):
    loaded_on: list[threading.Thread] = []

    def factory(settings):
        loaded_on.append(threading.current_thread())
        return real_denoiser_factory(settings)

    events: list[tuple[str, str, object]] = []
    runner = LocalRunner(store, denoise_settings, denoiser_factory=factory)
    runner.add_listener(lambda e, j, p: events.append((e, j, p)))
    with runner:
        assert loaded_on == []  # nothing loaded before a denoise runs
        [first] = runner.submit(
            [NewJob(str(_noisy(tmp_path)), ["denoise"], options=OutputOptions(output_dir=str(tmp_path / "out")))]
        )
        _wait(lambda: store.get(first.id).status.is_final, timeout=120)
        assert store.get(first.id).status == JobStatus.COMPLETED, store.get(first.id).error_message
        assert loaded_on and all(t is runner.model_thread for t in loaded_on)
        assert runner.model_thread is not threading.main_thread()

        big = tmp_path / "big.png"
        with Image.open(_noisy(tmp_path)) as im:
            im.resize((960, 720)).save(big)  # 300 tiles of 48 px
        # DnCNN at a fixed sigma: an upscaled photo reads nearly clean, and "auto" would keep it untouched.
        params = {"denoise": {"model": "dncnn", "sigma": 25}}
        [job] = runner.submit(
            [NewJob(str(big), ["denoise"], params=params, options=OutputOptions(output_dir=str(tmp_path / "o2")))]
        )
        _wait(lambda: any(e == "progress" and j == job.id and p > 0.05 for e, j, p in events), timeout=120)
        runner.cancel(job.id)
        _wait(lambda: store.get(job.id).status.is_final, timeout=60)
    final = store.get(job.id)
    assert final.status == JobStatus.CANCELLED
    last = max(p for e, j, p in events if e == "progress" and j == job.id)
    assert last < 0.9  # it stopped between tiles, long before the end
    assert [p.status for e, j, p in events if e == "finished" and j == job.id] == [JobStatus.CANCELLED]
    assert not list((tmp_path / "o2").glob("*"))  # no half-written output


def test_stop_joins_every_thread_and_requeues_the_running_job(store, tmp_path):
    src = sorted(require_testdata("testsets", "CBSD68").glob("*.png"))[0]
    big = tmp_path / "big.png"
    with Image.open(src) as im:
        im.resize((im.width * 4, im.height * 4)).save(big)
    runner = LocalRunner(store, Settings(isolate_jobs=False), workers=3)
    started = threading.Event()
    runner.add_listener(lambda e, j, p: started.set() if e == "started" else None)
    runner.start()
    threads = runner._loop.threads()
    assert len(threads) == 4 and runner.alive  # 3 standard workers and the model thread
    [job] = runner.submit([NewJob(str(big), ["avif"], options=OutputOptions(output_dir=str(tmp_path / "o")))])
    assert started.wait(30)
    runner.stop()
    assert not any(t.is_alive() for t in threads) and not runner.alive
    assert store.get(job.id).status == JobStatus.PENDING  # resumes at the next start


def test_worker_loop_survives_a_failing_step_wakes_early_and_joins():
    calls: list[str] = []
    ready = threading.Event()
    state = {"work": 0, "boom": True}

    def step(lane: str) -> bool:
        calls.append(lane)
        if state["boom"]:
            state["boom"] = False
            raise RuntimeError("database is locked")
        if state["work"]:
            state["work"] -= 1
            ready.set()
            return True
        return False

    loop = WorkerLoop("test", step, poll_s=30.0)  # a long poll: only wake() can make it look again soon
    loop.start(["a"])
    try:
        _wait(lambda: len(calls) >= 2, timeout=10)  # the failed step was logged and the worker carried on
        time.sleep(0.2)
        n = len(calls)
        state["work"] = 1
        loop.wake()
        assert ready.wait(5)  # woken at once, not after the 30 s poll
        assert len(calls) > n
    finally:
        loop.stop(timeout=10)
    assert not any(t.is_alive() for t in loop.threads()) and not loop.running
