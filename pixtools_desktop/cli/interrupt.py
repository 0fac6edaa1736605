"""Ctrl+C for the commands that run jobs: stop within seconds, re-queue, exit 130.

Why not simply let KeyboardInterrupt unwind: the model thread can be inside
one denoise tile for tens of seconds (`max` mode on a CPU), the scheduler
joins its threads for up to a minute, and an interpreter that exits while
torch's threads still run may abort ("terminate called without an active
exception"). So the first Ctrl+C:

1. asks the backend to stop (the runner's shutdown flag is what the engine
   and the denoiser poll between steps and between tiles) and gives running
   jobs GRACE_S to reach such a cancel point: they re-queue themselves;
2. kills our worker processes (they ignore SIGINT; the parent decides);
3. re-queues, in one store write, every job this process still holds;
4. prints one line and leaves with os._exit(EXIT_INTERRUPTED), skipping the
   interpreter's teardown of threads it does not own.

A second Ctrl+C leaves at once. Nothing is lost either way: outputs land
atomically (a half-written one is a temporary file, swept on resume), and a
job left PROCESSING by a dead process is re-queued by the next run.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

from pixtools_desktop.cli.exits import EXIT_INTERRUPTED

GRACE_S = 0.8  # for running jobs to reach a cancel point (all three bounds together stay well under 2 s)
REQUEUE_TIMEOUT_S = 0.5  # the store write; the next run recovers the claims anyway

MESSAGE = "Interrupted: unfinished jobs stay queued; run the same command again to resume."


def _second_interrupt(signum: int, frame: object) -> None:
    _kill_workers()
    _flush()
    os._exit(EXIT_INTERRUPTED)


def _first_interrupt(signum: int, frame: object) -> None:
    signal.signal(signal.SIGINT, _second_interrupt)  # armed before anything else can run
    raise KeyboardInterrupt


def install() -> None:
    """First Ctrl+C raises KeyboardInterrupt (once); any later one exits at once.

    A SIGINT ignored by whoever started us (`nohup … &`) stays ignored.
    """
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _first_interrupt)


def _kill_workers() -> None:
    for proc in multiprocessing.active_children():
        try:
            proc.kill()
        except (OSError, ValueError, AttributeError):
            pass
    for proc in multiprocessing.active_children():
        proc.join(0.2)


def _flush() -> None:
    for handler in logging.getLogger().handlers:
        try:
            handler.flush()
        except Exception:  # noqa: BLE001 - leaving anyway
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - e.g. a closed pipe
            pass


def requeue_held_jobs(store) -> int:
    """Put back every local job this process holds (PROCESSING under our claim)."""
    from pixtools_desktop.core.store.job_store import process_token

    ids = store.local_ids_held_by(process_token())
    for job_id in ids:
        store.requeue(job_id)
    return len(ids)


def _bounded(fn: Callable[[], object], timeout: float) -> None:
    """Run fn on a daemon thread for at most `timeout` seconds (it may block on a busy thread or lock)."""
    t = threading.Thread(target=fn, name="pixtools-interrupt", daemon=True)
    t.start()
    t.join(timeout)


def stop_and_exit(
    store=None, stop: Callable[[], object] | None = None, *, message: str = MESSAGE, code: int = EXIT_INTERRUPTED
) -> NoReturn:
    """Stop the backend (bounded), re-queue what we hold, say one line and leave with `code`."""
    install_second = threading.current_thread() is threading.main_thread()
    if install_second:
        signal.signal(signal.SIGINT, _second_interrupt)
    print(message, file=sys.stderr, flush=True)
    log = logging.getLogger("pixtools_desktop.cli")
    log.info("interrupted, stopping", extra={"exit_code": code})
    if stop is not None:
        _bounded(stop, GRACE_S)
    _kill_workers()
    if store is not None:

        def requeue() -> None:
            try:
                n = requeue_held_jobs(store)
                log.info("re-queued interrupted jobs", extra={"count": n})
            except Exception:  # noqa: BLE001 - the next run recovers the dead process's claims
                pass

        _bounded(requeue, REQUEUE_TIMEOUT_S)
    _flush()
    os._exit(code)
