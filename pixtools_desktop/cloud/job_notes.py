"""Sink outcomes shown on the job itself (warnings, COMPLETED_WEBHOOK_FAILED).

A sink note is one warning line per kind (`upload failed: …`, `webhook …`),
replaced rather than appended on each retry, so the job shows the current
story, not a log. Read-modify-write happens in one store transaction.
"""

from __future__ import annotations

import json

from pixtools_desktop.core.store import JobStore
from pixtools_desktop.core.store.job_store import utcnow


def set_note(store: JobStore, job_id: str, prefix: str, text: str | None) -> None:
    """Replace the job's warning starting with `prefix` by `text` (None: remove it)."""
    with store.transaction() as conn:
        row = conn.execute("SELECT warnings FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            return
        warnings = [w for w in json.loads(row["warnings"] or "[]") if not w.startswith(prefix)]
        if text:
            warnings.append(text)
        conn.execute("UPDATE jobs SET warnings = ?, updated_at = ? WHERE id = ?",
                     (json.dumps(warnings), utcnow(), job_id))
