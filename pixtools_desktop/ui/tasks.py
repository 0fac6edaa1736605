"""Run one function off the GUI thread and hand its result back as a signal.

`FunctionTask` is a QRunnable (not a QObject), so its signals live on a
separate `TaskSignals` QObject created on the GUI thread: connect `done` /
`failed` to `@Slot` methods there and the result arrives queued, on the GUI
thread. Whoever starts a task keeps `signals` alive and waits for its pool
before closing.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class RunnableKeeper:
    """Keeps QRunnables alive (autoDelete off) until their pool has returned from them.

    PySide6 deletes the C++ runnable when its Python wrapper dies, so a runnable
    nobody references can be freed while a pool thread still runs it; and with
    autoDelete on, the pool would delete it a second time. So: autoDelete off,
    a reference while live, then `retire` (from the runnable's finished signal)
    and drop retired references once the pool has no active thread.
    """

    def __init__(self, pool: QThreadPool) -> None:
        self.pool = pool
        self._live: dict[int, QRunnable] = {}
        self._retired: list[QRunnable] = []
        self._next = itertools.count(1)

    def start(self, runnable: QRunnable) -> int:
        """Start `runnable`; it must emit its `token` attribute when it ends (see `retire`)."""
        runnable.setAutoDelete(False)
        token = next(self._next)
        runnable.token = token  # type: ignore[attr-defined]
        self._live[token] = runnable
        self.pool.start(runnable)
        return token

    def retire(self, token: int) -> None:
        r = self._live.pop(token, None)
        if r is not None:
            self._retired.append(r)
        if self.pool.activeThreadCount() == 0:
            self._retired.clear()

    def wait_and_clear(self, msecs: int = -1) -> bool:
        ok = self.pool.waitForDone(msecs)
        if ok:
            self._live.clear()
            self._retired.clear()
        return ok

    def __len__(self) -> int:
        return len(self._live)


class TaskSignals(QObject):
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._task: QRunnable | None = None  # kept until this object dies (after its pool is waited for)


class FunctionTask(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: TaskSignals) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._fn = fn
        self.signals = signals
        signals._task = self

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # reported to the GUI as text
            log.exception("background task failed")
            self.signals.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.signals.done.emit(result)


def start_task(
    pool: QThreadPool,
    fn: Callable[[], Any],
    parent: QObject,
    on_done: Callable | None = None,
    on_failed: Callable | None = None,
) -> TaskSignals:
    """Start `fn` on `pool`, its result going to `on_done` (a @Slot on `parent`'s thread).

    Slots are connected *before* the task starts: a fast task could otherwise
    emit before anyone listens. The caller waits for `pool` before `parent` is
    destroyed (dialogs do in `done()`). Without `on_done` the caller connects
    afterwards and accepts that race (kept for existing callers).
    """
    signals = TaskSignals(parent)
    if on_done is not None:
        signals.done.connect(on_done)
    if on_failed is not None:
        signals.failed.connect(on_failed)
    pool.start(FunctionTask(fn, signals))
    return signals
