"""Overall progress and an ETA that pauses with the queue.

Pure Python (a clock can be injected) so the arithmetic is tested without Qt.
The rate is work done per second of *running* time: time spent paused is not
counted, so pausing for lunch does not make the ETA jump afterwards.
"""

from __future__ import annotations

import time
from typing import Callable


class EtaTracker:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._active_s = 0.0
        self._since: float | None = None  # running since (None: paused or stopped)
        self._done_at_start = 0.0

    def start(self, done: float = 0.0) -> None:
        self._active_s = 0.0
        self._done_at_start = done
        self._since = self._clock()

    def pause(self) -> None:
        if self._since is not None:
            self._active_s += self._clock() - self._since
            self._since = None

    def resume(self) -> None:
        if self._since is None:
            self._since = self._clock()

    @property
    def running(self) -> bool:
        return self._since is not None

    def active_seconds(self) -> float:
        extra = self._clock() - self._since if self._since is not None else 0.0
        return self._active_s + extra

    def eta_seconds(self, done: float, total: float) -> float | None:
        """Seconds left, or None until there is enough to go on."""
        worked = done - self._done_at_start
        elapsed = self.active_seconds()
        if total <= 0 or worked <= 0.05 or elapsed < 0.5:
            return None
        rate = worked / elapsed
        return max(0.0, (total - done) / rate)


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
