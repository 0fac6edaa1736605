"""The watch folder's timer lists the folder off the GUI thread: one listing at a time, the window stays
responsive while a slow one runs, what lands is still queued, and stop() cancels and waits for a listing."""

from __future__ import annotations

import shutil
import threading
import time

import pytest
from PySide6.QtCore import QTimer

from pixtools_desktop.ui import watch_folder
from tests.ui.conftest import choose


@pytest.fixture
def fast_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch_folder, "INTERVAL_MS", 50)


def _watched_window(make_window, tmp_path):
    """A window watching a new empty folder, and the list its `baselined` counts go to."""
    watch = tmp_path / "watch"
    watch.mkdir()
    w = make_window()
    baselined: list[int] = []
    w.watcher.baselined.connect(lambda folder, n: baselined.append(n))
    _watch(w, watch)
    return w, baselined


def _watch(w, folder) -> None:
    w.settings.notifications = False
    choose(w, ["jpg"])
    w.settings.watch_enabled, w.settings.watch_folder = True, str(folder)
    w.watcher.apply_settings()
    assert w.watcher.timer.isActive() and w.watcher.timer.interval() == 50


def test_timer_lists_off_the_gui_thread_and_queues_what_lands(
    make_window, qtbot, tmp_path, photos, monkeypatch, fast_ticks
):
    real = watch_folder.list_photos
    threads: list[int] = []

    def recording(*args, **kwargs):
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(watch_folder, "list_photos", recording)
    watch = tmp_path / "watch"
    watch.mkdir()
    shutil.copy(sorted(photos.glob("*.png"))[0], watch / "already_there.png")
    w = make_window()
    baselined = []
    w.watcher.baselined.connect(lambda folder, n: baselined.append((folder, n)))
    _watch(w, watch)
    qtbot.waitUntil(lambda: baselined == [(str(watch), 1)], timeout=10000)
    shutil.copy(sorted(photos.glob("*.png"))[1], watch / "landed.png")
    qtbot.waitUntil(lambda: w.model.rowCount() == 1 and not w.queue._tasks, timeout=20000)
    assert w.model.data(w.model.index(0, 0)) == "landed.png"
    looks = len(threads)
    qtbot.waitUntil(lambda: len(threads) >= looks + 3, timeout=10000)  # more looks: taken once
    assert w.model.rowCount() == 1
    assert threads and threading.get_ident() not in threads  # never listed on the GUI thread


def test_a_slow_listing_leaves_the_window_responsive_and_ticks_start_no_second_one(
    make_window, qtbot, tmp_path, monkeypatch, fast_ticks
):
    real = watch_folder.list_photos
    lock = threading.Lock()
    calls = {"started": 0, "running": 0, "most": 0}

    def slow(*args, **kwargs):
        with lock:
            calls["started"] += 1
            calls["running"] += 1
            calls["most"] = max(calls["most"], calls["running"])
        time.sleep(1.0)
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                calls["running"] -= 1

    monkeypatch.setattr(watch_folder, "list_photos", slow)
    w, baselined = _watched_window(make_window, tmp_path)
    qtbot.waitUntil(lambda: calls["running"] == 1, timeout=5000)
    fired: list[float] = []
    t0 = time.monotonic()
    QTimer.singleShot(50, lambda: fired.append(time.monotonic() - t0))
    qtbot.waitUntil(lambda: bool(fired), timeout=2000)
    assert fired[0] < 0.3, f"the event loop stalled: a 50 ms timer fired after {fired[0]:.3f} s"
    qtbot.wait(300)  # several 50 ms ticks while the listing runs
    assert w.watcher.listing and calls["started"] == 1 and not baselined
    qtbot.waitUntil(lambda: baselined == [0], timeout=5000)  # the slow look still counts
    qtbot.waitUntil(lambda: calls["started"] >= 2, timeout=5000)  # and the next tick looks again
    assert calls["most"] == 1


def test_stop_cancels_a_listing_in_flight_and_drops_its_result(make_window, qtbot, tmp_path, monkeypatch, fast_ticks):
    real = watch_folder.list_photos
    entered = threading.Event()

    def stuck(folder, skip_dir, cancel=None):
        entered.set()
        assert cancel is not None and cancel.wait(10)  # a listing stuck until it is cancelled
        return real(folder, skip_dir, cancel)

    monkeypatch.setattr(watch_folder, "list_photos", stuck)
    w, baselined = _watched_window(make_window, tmp_path)
    qtbot.waitUntil(entered.is_set, timeout=5000)
    t0 = time.monotonic()
    w.watcher.stop()
    assert time.monotonic() - t0 < 5
    assert not w.watcher.listing and not w.watcher.timer.isActive()
    qtbot.wait(100)  # the dropped result's signal, if any, is delivered
    assert baselined == [] and w.watcher._seen is None
