"""What the watch folder has already looked at, kept in the store.

A watched folder queues photos that *arrive*. Without a memory of its own the
watcher leaned on job history after a restart, so "Clear finished" (or another
preset) made every photo in the folder new again. Here each watched folder
has a baseline (the photos already there when watching began are left alone)
and, per photo, the size and modification time it was taken with: a photo
that changes (edited in place, copied over) counts as arriving again.
"""

from __future__ import annotations

import time

from pixtools_desktop.core.store.job_store import JobStore

Signature = tuple[int, int]  # size in bytes, mtime in ns


def load(store: JobStore, folder: str) -> dict[str, Signature] | None:
    """path -> signature of what was taken from `folder`, or None if it has no baseline yet."""
    if not store.query("SELECT 1 FROM watch_folders WHERE folder = ?", (folder,)):
        return None
    rows = store.query("SELECT path, size, mtime_ns FROM watch_seen WHERE folder = ?", (folder,))
    return {r["path"]: (int(r["size"]), int(r["mtime_ns"])) for r in rows}


def remember(store: JobStore, folder: str, seen: dict[str, Signature], *, baseline: bool = False) -> None:
    """Record photos as taken (or, with `baseline`, as already there when watching began)."""
    with store.transaction() as conn:
        if baseline:
            conn.execute("INSERT OR IGNORE INTO watch_folders (folder, since) VALUES (?, ?)", (folder, time.time()))
        conn.executemany(
            "INSERT INTO watch_seen (folder, path, size, mtime_ns) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(folder, path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns",
            [(folder, path, size, mtime) for path, (size, mtime) in seen.items()],
        )
