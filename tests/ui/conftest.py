"""UI test fixtures: offscreen Qt, napari-style leak checks, a window factory, real photos.

The leak checks fail a test that leaves a QThread running, a QThreadPool with
active work, a QTimer active (napari's `_dangling_qthreads`,
`_dangling_qthread_pool`, `_dangling_qtimers`, done by wrapping `start`), or
a plain Python thread alive (the window's jobs run on the core runner's
threads, its uploads on the sink service's).
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QThread, QThreadPool, QTimer  # noqa: E402

from tests.conftest import require_testdata


@pytest.fixture(autouse=True)
def _dangling_qthreads(monkeypatch: pytest.MonkeyPatch, qapp):
    started: list[QThread] = []
    original = QThread.start

    def start(self, *args, **kwargs):
        started.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", start)
    yield
    running = []
    for t in started:
        try:
            if t.isRunning():
                running.append(t.objectName() or repr(t))
        except RuntimeError:  # the C++ object is gone: it cannot be running
            pass
    assert not running, f"test left QThreads running: {running}"


@pytest.fixture(autouse=True)
def _dangling_threads(monkeypatch: pytest.MonkeyPatch):
    started: list[threading.Thread] = []
    original = threading.Thread.start

    def start(self, *args, **kwargs):
        started.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(threading.Thread, "start", start)
    yield
    alive = [t.name for t in started if t.is_alive() and not t.name.startswith(("ThreadPoolExecutor", "asyncio"))]
    assert not alive, f"test left threads running: {alive}"


@pytest.fixture(autouse=True)
def _dangling_qthread_pool(monkeypatch: pytest.MonkeyPatch, qapp):
    pools: list[QThreadPool] = []
    original = QThreadPool.start

    def start(self, *args, **kwargs):
        if self not in pools:
            pools.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QThreadPool, "start", start)
    yield
    busy = []
    for p in pools:
        try:
            if p.activeThreadCount():
                busy.append(p)
        except RuntimeError:
            pass
    assert not busy, f"test left QThreadPool work running in {len(busy)} pool(s)"


@pytest.fixture(autouse=True)
def _dangling_qtimers(monkeypatch: pytest.MonkeyPatch, qapp):
    timers: list[QTimer] = []
    original = QTimer.start

    def start(self, *args, **kwargs):
        timers.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QTimer, "start", start)
    yield
    active = []
    for t in timers:
        try:
            if t.isActive():
                active.append(t.objectName() or f"{t.interval()} ms timer")
        except RuntimeError:
            pass
    assert not active, f"test left QTimers active: {active}"


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """A folder with 8 real CBSD68 photos (copies, so outputs land in tmp)."""
    src = require_testdata("testsets", "CBSD68")
    folder = tmp_path / "photos"
    folder.mkdir()
    for f in sorted(src.glob("*.png"))[:8]:
        shutil.copy(f, folder / f.name)
    return folder


@pytest.fixture
def make_window(qtbot):
    """Build MainWindows on the test's PIXTOOLS_HOME; all are shut down at teardown."""
    from pixtools_desktop.ui.main_window import MainWindow

    windows = []

    def make(**kwargs) -> MainWindow:
        w = MainWindow(**kwargs)
        qtbot.addWidget(w)
        w.show()
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.shutdown()
        w.close()


def wait_idle(qtbot, window, timeout: int = 30000) -> None:
    """Until the run ended (summary shown) and no job waits or works."""
    qtbot.waitUntil(lambda: not window.run.active and window.model.unfinished() == 0, timeout=timeout)


def choose(window, ops: list[str], **extra) -> None:
    """Pick operations on the panel directly (as a user ticking boxes)."""
    panel = window.ops_panel
    for op, cb in panel.op_checks.items():
        cb.setChecked(op in ops)
    panel.resize_check.setChecked(False)
    for k, v in extra.items():
        getattr(panel, k).setValue(v)
