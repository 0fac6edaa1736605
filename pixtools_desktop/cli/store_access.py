"""Opening the job database for a command, with a plain sentence when its disk is full."""

from __future__ import annotations

from pathlib import Path


def db_path(settings) -> Path:
    from pixtools_desktop.core.paths import default_db_path

    return Path(settings.db_path).expanduser() if settings.db_path else default_db_path()


def open_store(settings):
    """The JobStore at the configured path; DatabaseDiskFull (exit 2 in main) when it cannot be written."""
    from pixtools_desktop.cli.exits import DatabaseDiskFull, is_disk_full, register_db
    from pixtools_desktop.core.store import JobStore

    path = db_path(settings)
    register_db(path)
    try:
        return JobStore(path)
    except Exception as exc:
        if is_disk_full(exc):
            raise DatabaseDiskFull(path) from exc
        raise
