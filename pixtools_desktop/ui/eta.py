"""ETA from work, not from a count of files: megapixels times seconds per megapixel.

Each job's work is its input's megapixels; each kind of job (its operations,
e.g. "denoise+webp") has a rate in seconds per megapixel learned on this
machine from finished jobs and kept in the store, so a restart starts with a
basis. Until a kind has a rate, a running job of that kind gives one live,
measured from its first progress report (so loading the model does not count
as work). With no basis at all the answer is None ("estimating…"), never a
guess that climbs. Standard jobs run `workers` at a time, model jobs one at a
time; the lanes run side by side, so the ETA is the longer lane.

Pure Python (a clock can be injected) so the arithmetic is tested without Qt.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MIN_SPAN = 0.1  # of a job's progress before its live rate counts
MIN_SPAN_S = 0.5


def megapixels(path: str) -> float | None:
    """The image's size in megapixels from its header alone (None when it cannot be read)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.width * im.height / 1e6
    except Exception:  # noqa: BLE001 - unreadable here: the job itself reports why
        return None


def work_key(operations: Iterable[str]) -> str:
    return "+".join(sorted(operations))


def lane_of(operations: Iterable[str]) -> str:
    return "model" if "denoise" in operations else "std"


@dataclass
class Work:
    key: str
    lane: str
    megapixels: float | None  # None: not known (yet)


@dataclass
class InFlight:
    started: float
    first_at: float | None = None  # clock at the first progress report
    first_fraction: float = 0.0
    fraction: float = 0.0


class WorkEta:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.rates: dict[str, float] = {}  # work key or "lane:<lane>" -> seconds per megapixel
        self._active_s = 0.0
        self._since: float | None = None  # running since (None: paused or stopped)

    # ------------------------------------------------------------ the run's clock (pauses with the queue)
    def start(self) -> None:
        self._active_s = 0.0
        self._since = self.clock()

    def pause(self) -> None:
        if self._since is not None:
            self._active_s += self.clock() - self._since
            self._since = None

    def resume(self) -> None:
        if self._since is None:
            self._since = self.clock()

    @property
    def running(self) -> bool:
        return self._since is not None

    def active_seconds(self) -> float:
        extra = self.clock() - self._since if self._since is not None else 0.0
        return self._active_s + extra

    # ------------------------------------------------------------ rates
    def progress(self, job: InFlight, fraction: float) -> None:
        if job.first_at is None and fraction > 0:
            job.first_at, job.first_fraction = self.clock(), fraction
        job.fraction = fraction

    def live_rate(self, job: InFlight, mp: float) -> float | None:
        if job.first_at is None or mp <= 0:
            return None
        span, dt = job.fraction - job.first_fraction, self.clock() - job.first_at
        if span < MIN_SPAN or dt < MIN_SPAN_S:
            return None
        return dt / (span * mp)

    def finished_rate(self, job: InFlight, mp: float) -> float | None:
        """Seconds per megapixel of a job that just completed (model loading excluded when we can)."""
        if mp <= 0:
            return None
        now = self.clock()
        if job.first_at is not None and job.first_fraction < 0.5 and now - job.first_at >= MIN_SPAN_S:
            return (now - job.first_at) / ((1.0 - job.first_fraction) * mp)
        return (now - job.started) / mp

    def learn(self, key: str, lane: str, rate: float, weight: float = 0.3) -> None:
        for k in (key, f"lane:{lane}"):
            old = self.rates.get(k)
            self.rates[k] = rate if old is None else (1 - weight) * old + weight * rate

    # ------------------------------------------------------------ the estimate
    def seconds_left(
        self, waiting: list[Work], running: list[tuple[Work, InFlight]], workers: dict[str, int]
    ) -> float | None:
        """Seconds until every given job is done, or None while there is no basis."""
        known = [w.megapixels for w in waiting if w.megapixels] + [w.megapixels for w, _ in running if w.megapixels]
        mean_mp = sum(known) / len(known) if known else None
        live: dict[str, float] = {}
        for w, job in running:
            r = self.live_rate(job, w.megapixels or mean_mp or 0.0)
            if r is not None:
                live.setdefault(w.key, r)

        def rate(w: Work) -> float | None:
            return self.rates.get(w.key) or live.get(w.key) or self.rates.get(f"lane:{w.lane}")

        lanes: dict[str, float] = {}
        for w, job in running:
            mp = w.megapixels or mean_mp
            own = self.live_rate(job, mp or 0.0)
            r = own if own is not None else rate(w)
            if mp is None or r is None:
                return None
            lanes[w.lane] = lanes.get(w.lane, 0.0) + r * mp * max(0.0, 1.0 - job.fraction)
        for w in waiting:
            mp, r = w.megapixels or mean_mp, rate(w)
            if mp is None or r is None:
                return None
            lanes[w.lane] = lanes.get(w.lane, 0.0) + r * mp
        if not lanes:
            return 0.0
        return max(total / max(1, workers.get(lane, 1)) for lane, total in lanes.items())


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def format_summary(done: int, failed: int, cancelled: int = 0) -> str:
    """'1,998 done, 2 failed' (thousands separators, zero parts left out except 'done')."""
    parts = [f"{done:,} done"]
    if failed:
        parts.append(f"{failed:,} failed")
    if cancelled:
        parts.append(f"{cancelled:,} cancelled")
    return ", ".join(parts)
