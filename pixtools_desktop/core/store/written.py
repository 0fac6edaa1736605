"""Every file the app has written, kept apart from the job rows that wrote it.

Adding a folder or watching one must never feed the app its own results. The
jobs' outputs column knew them only while the jobs existed: "Clear finished"
deleted the rows and the next folder add queued `*_jpg.jpg` again. This table
outlives the jobs (history is cleared, what was written stays known); paths
are absolute, so a CLI run with `--out o` is recognised from any folder.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pixtools_desktop.core.jobs import OutputRecord

if TYPE_CHECKING:
    from pixtools_desktop.core.store.job_store import JobStore

_CHUNK = 500


def remember(conn: sqlite3.Connection, outputs: Iterable[OutputRecord]) -> None:
    """Inside the transaction that records the outputs on their job."""
    rows = [(os.path.abspath(o.path), time.time()) for o in outputs if o.path]
    if rows:
        conn.executemany("INSERT OR IGNORE INTO written_outputs (path, written_at) VALUES (?, ?)", rows)


def known(store: JobStore, paths: Iterable[str | os.PathLike[str]]) -> set[str]:
    """Those of `paths` (as given) that the app wrote at some time."""
    wanted = {os.path.abspath(os.fspath(p)): os.fspath(p) for p in paths}
    keys = list(wanted)
    found: set[str] = set()
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        rows = store.query(f"SELECT path FROM written_outputs WHERE path IN ({','.join('?' * len(chunk))})", chunk)
        found.update(wanted[r["path"]] for r in rows)
    return found
