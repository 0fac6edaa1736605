"""The SQLite job store: the one truth about jobs."""

from pixtools_desktop.core.store.job_store import JobStore, NewJob

__all__ = ["JobStore", "NewJob"]
