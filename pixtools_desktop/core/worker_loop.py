"""Plain worker threads that take one step at a time until stopped.

The local runner, the remote backend and the sink service all need the same
thing: a few named threads per "lane", each calling `step(lane)` in a loop,
sleeping on one condition when there is nothing to do (woken early by
`wake()` or when the next scheduled row falls due), surviving a step that
raises, and a `stop()` that joins every thread. Written once here so the
three cannot drift apart.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

DEFAULT_POLL_S = 0.5  # an idle worker looks again at least this often (rows another process added)
ERROR_BACKOFF_S = 0.5  # after a step raised (e.g. the database briefly locked)

# Called with every exception a step raised, on the worker thread, after it is
# logged. The loop itself keeps going (a locked database passes); a front end
# that must act on a lasting failure (the CLI on "the job database's disk is
# full") registers a hook, as it would a threading.excepthook.
_error_hooks: list[Callable[[BaseException], None]] = []


def add_error_hook(hook: Callable[[BaseException], None]) -> None:
    if hook not in _error_hooks:
        _error_hooks.append(hook)


class WorkerLoop:
    """Threads named `{name}-{lane}-{i}` calling `step(lane)`; `step` returns True when it did work."""

    def __init__(
        self,
        name: str,
        step: Callable[[str], bool],
        *,
        next_due: Callable[[str], float | None] | None = None,
        poll_s: float = DEFAULT_POLL_S,
    ) -> None:
        self.name = name
        self._step = step
        self._next_due = next_due  # epoch seconds of the lane's next scheduled row, if any
        self.poll_s = poll_s
        self._wake = threading.Condition()
        self.stopping = threading.Event()
        self._threads: list[tuple[str, threading.Thread]] = []

    def start(self, lanes: list[str]) -> None:
        """One thread per entry of `lanes` (repeat a lane for more threads). No-op while running."""
        if self._threads:
            return
        self.stopping.clear()
        for i, lane in enumerate(lanes):
            t = threading.Thread(target=self._run, args=(lane,), name=f"{self.name}-{lane}-{i}", daemon=True)
            t.start()
            self._threads.append((lane, t))

    def stop(self, timeout: float | None = 60.0) -> None:
        """Stop taking steps and join every thread (a step in progress finishes or reaches a cancel point)."""
        self.stopping.set()
        self.wake()
        deadline = None if timeout is None else time.monotonic() + timeout
        for _, t in self._threads:
            t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        alive = [t.name for _, t in self._threads if t.is_alive()]
        if alive:
            log.warning("worker threads still running after stop", extra={"threads": alive})
        self._threads.clear()

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def threads(self, lane: str | None = None) -> list[threading.Thread]:
        return [t for ln, t in self._threads if lane is None or ln == lane]

    @property
    def running(self) -> bool:
        return bool(self._threads)

    @property
    def alive(self) -> bool:
        """Started and not one thread died (health checks)."""
        return bool(self._threads) and all(t.is_alive() for _, t in self._threads)

    def idle(self, lane: str) -> None:
        """Sleep until woken, the lane's next row is due, or the poll interval passed."""
        timeout = self.poll_s
        if self._next_due is not None:
            try:
                due = self._next_due(lane)
            except Exception:  # noqa: BLE001 - e.g. the database briefly locked: poll as usual
                due = None
            if due is not None:
                timeout = max(0.01, min(timeout, due - time.time()))
        with self._wake:
            if not self.stopping.is_set():
                self._wake.wait(timeout)

    def _run(self, lane: str) -> None:
        while not self.stopping.is_set():
            try:
                did = self._step(lane)
            except Exception:  # never lose a worker (e.g. database briefly locked)
                log.exception("worker step failed", extra={"worker": self.name, "lane": lane})
                exc = sys.exc_info()[1]
                for hook in list(_error_hooks):
                    try:
                        hook(exc)  # type: ignore[arg-type]
                    except Exception:  # a broken hook must not kill the worker
                        log.exception("worker error hook failed")
                self.stopping.wait(ERROR_BACKOFF_S)
                continue
            if not did:
                self.idle(lane)
