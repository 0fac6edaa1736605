"""What "this run" is: which jobs it holds, how far it is, and its summary.

A run starts when the user presses Start (or the queue resumes at launch) and
ends when nothing is waiting or working any more. Kept free of widgets so
the arithmetic is easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pixtools_desktop.ui.eta import EtaTracker, format_duration, format_summary


@dataclass
class RunSummary:
    done: int
    failed: list[tuple[str, str]]  # (file name, reason)
    cancelled: int

    @property
    def text(self) -> str:
        return format_summary(self.done, len(self.failed), self.cancelled)


@dataclass
class RunTracker:
    eta: EtaTracker = field(default_factory=EtaTracker)
    ids: set[str] = field(default_factory=set)
    finished: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # id -> (status, name, error)
    in_flight: dict[str, float] = field(default_factory=dict)
    active: bool = False

    def begin(self, ids: list[str]) -> None:
        if not self.active:
            self.ids, self.finished, self.in_flight = set(ids), {}, {}
            self.active = True
            self.eta.start(0.0)
        else:
            self.ids.update(ids)
            self.eta.resume()

    def add(self, ids: list[str]) -> None:
        if self.active:
            self.ids.update(ids)

    def started(self, job_id: str) -> None:
        if self.active:
            self.ids.add(job_id)
            self.in_flight[job_id] = 0.0

    def progress(self, job_id: str, fraction: float) -> None:
        if job_id in self.in_flight:
            self.in_flight[job_id] = fraction

    def job_finished(self, job_id: str, status: str, name: str, error: str | None) -> None:
        self.in_flight.pop(job_id, None)
        if self.active and job_id in self.ids:
            self.finished[job_id] = (status, name, error or "")

    def forget(self, ids: list[str]) -> None:
        for i in ids:
            self.ids.discard(i)
            self.in_flight.pop(i, None)
            self.finished.pop(i, None)

    def done_units(self) -> float:
        return len(self.finished) + sum(self.in_flight.values())

    def fraction(self) -> float:
        return self.done_units() / len(self.ids) if self.ids else 0.0

    def status_line(self, paused: bool) -> str:
        if not self.active or not self.ids:
            return "Nothing running"
        n_done, total = len(self.finished), len(self.ids)
        failed = sum(1 for s, _, _ in self.finished.values() if s == "FAILED")
        line = f"{n_done:,} of {total:,}"
        if failed:
            line += f" · {failed:,} failed"
        if paused:
            return f"Paused · {line} · ETA paused"
        return f"{line} · ETA {format_duration(self.eta.eta_seconds(self.done_units(), total))}"

    def end(self) -> RunSummary:
        done = sum(1 for s, _, _ in self.finished.values() if s in ("COMPLETED", "COMPLETED_WEBHOOK_FAILED"))
        failed = [(n, e) for s, n, e in self.finished.values() if s == "FAILED"]
        cancelled = sum(1 for s, _, _ in self.finished.values() if s == "CANCELLED")
        self.active = False
        self.eta.pause()
        return RunSummary(done, failed, cancelled)
