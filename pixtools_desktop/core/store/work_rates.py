"""Learned work rates (seconds per megapixel) in the store, so an ETA survives a restart."""

from __future__ import annotations

from pixtools_desktop.core.store.job_store import JobStore, utcnow


def load(store: JobStore) -> dict[str, float]:
    return {r["key"]: float(r["seconds_per_mp"]) for r in store.query("SELECT key, seconds_per_mp FROM work_rates")}


def record(store: JobStore, key: str, seconds_per_mp: float, *, weight: float = 0.3) -> float:
    """Blend a new measurement into the stored rate (the first one is taken as is); return the new rate."""
    with store.transaction() as conn:
        row = conn.execute("SELECT seconds_per_mp, samples FROM work_rates WHERE key = ?", (key,)).fetchone()
        if row is None:
            rate, samples = seconds_per_mp, 1
        else:
            rate = (1 - weight) * float(row["seconds_per_mp"]) + weight * seconds_per_mp
            samples = int(row["samples"]) + 1
        conn.execute(
            "INSERT INTO work_rates (key, seconds_per_mp, samples, updated_at) VALUES (?,?,?,?) "
            "ON CONFLICT(key) DO UPDATE SET seconds_per_mp = excluded.seconds_per_mp, "
            "samples = excluded.samples, updated_at = excluded.updated_at",
            (key, rate, samples, utcnow()),
        )
    return rate
