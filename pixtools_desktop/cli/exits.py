"""Exit codes and the few failures every command turns into one plain line.

Exit codes (the same for every sub-command, so scripts can rely on them):

- 0   everything asked for is done (or was already done);
- 1   the request ran but some files failed (the summary names each);
- 2   the request as a whole cannot run: bad --ops/--params, a path that does
      not exist, no images to process, the denoise model missing, the disk
      holding the job database full. Nothing was processed;
- 130 interrupted by Ctrl+C (unfinished jobs stay queued);
- 141 the reader of our output went away (`pixtools jobs list | head`), as
      for any Unix tool killed by SIGPIPE.

Why here and not at each print: a closed pipe or a full database disk can
surface anywhere (a summary line, a worker thread's progress write), and a
person or a script should get one sentence, never a Python traceback.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import sys
import threading
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class DatabaseDiskFull(Exception):
    """The job database cannot be written because its disk is full."""

    def __init__(self, db_path: Path | str | None = None) -> None:
        self.db_path = Path(db_path) if db_path else None
        super().__init__(self.message())

    def message(self) -> str:
        where = f" ({self.db_path.parent})" if self.db_path else ""
        return (
            f"the disk holding the job database is full{where}. Free some space there (or move the database "
            "with PIXTOOLS_DB or PIXTOOLS_HOME) and run the same command again: unfinished jobs resume."
        )


LOW_SPACE_BYTES = 1024 * 1024
_db_path: list[Path] = []  # the database this command opened (cli/store_access.py)


def register_db(path: Path) -> None:
    _db_path[:] = [Path(path)]


def _db_disk_nearly_full() -> bool:
    if not _db_path:
        return False
    try:
        return shutil.disk_usage(_db_path[0].parent).free < LOW_SPACE_BYTES
    except OSError:
        return False


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's SQLITE_FULL, or an OS 'no space left' / quota error.

    SQLite reports a full disk as SQLITE_FULL when the database or its WAL
    cannot grow, but as an I/O error (SQLITE_IOERR_SHMSIZE, …) when the WAL
    index cannot be created: an I/O error counts as "full" when the disk
    holding the database has (almost) no space left.
    """
    if isinstance(exc, DatabaseDiskFull):
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None) or 0
        if code == sqlite3.SQLITE_FULL or "database or disk is full" in str(exc):
            return True
        return (code & 0xFF == sqlite3.SQLITE_IOERR or "disk I/O error" in str(exc)) and _db_disk_nearly_full()
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return False


# A store write that fails on a worker thread cannot raise in the main thread:
# the thread dies. We note why, quietly, and the waiting loop picks it up.
_db_full = threading.Event()
_default_thread_hook = threading.excepthook


def _thread_hook(args: threading.ExceptHookArgs) -> None:
    if isinstance(args.exc_value, sqlite3.Error) and is_disk_full(args.exc_value):
        _db_full.set()
        return
    _default_thread_hook(args)


def _step_error(exc: BaseException) -> None:
    if isinstance(exc, sqlite3.Error) and is_disk_full(exc):
        _db_full.set()


def watch_worker_threads() -> None:
    """Route a worker thread's 'database full' into `raise_if_db_full` instead of a traceback.

    Worker threads of the runner catch their steps' errors (core.worker_loop) and
    report them to error hooks; other threads die and reach threading.excepthook.
    """
    from pixtools_desktop.core.worker_loop import add_error_hook

    threading.excepthook = _thread_hook
    add_error_hook(_step_error)


def raise_if_db_full(db_path: Path | str | None) -> None:
    if _db_full.is_set():
        raise DatabaseDiskFull(db_path)


def say(message: str) -> None:
    """One line for a person, on stderr, prefixed like every other pixtools message."""
    print(f"pixtools: {message}", file=sys.stderr, flush=True)


def silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
