"""Sink outcomes shown on the job itself (warnings, COMPLETED_WEBHOOK_FAILED).

A sink note is one warning line per kind (`upload failed: …`, `webhook …`),
replaced rather than appended on each retry, so the job shows the current
story, not a log. The read-modify-write is one store transaction (`JobStore.replace_warning`).
"""

from __future__ import annotations

from pixtools_desktop.core.store import JobStore


def set_note(store: JobStore, job_id: str, prefix: str, text: str | None) -> None:
    """Replace the job's warning starting with `prefix` by `text` (None: remove it)."""
    store.replace_warning(job_id, prefix, text)
