"""What "this run" is: which jobs it holds, how far it is, its ETA and its summary.

A run starts when the user presses Start (or an interrupted run resumes at
launch) and ends when none of its jobs is waiting or working any more.
Every job of the run that reaches a final state — done, failed *or
cancelled* — counts as finished, for "N of M", for the ETA and for the
summary. Kept free of widgets so the arithmetic is easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pixtools_desktop.ui.eta import InFlight, Work, WorkEta, format_duration, format_summary

DONE = ("COMPLETED", "COMPLETED_WEBHOOK_FAILED")


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
    eta: WorkEta = field(default_factory=WorkEta)
    ids: set[str] = field(default_factory=set)
    finished: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # id -> (status, name, error)
    in_flight: dict[str, InFlight] = field(default_factory=dict)
    work: dict[str, Work] = field(default_factory=dict)  # id -> its kind and megapixels (kept across runs)
    workers: dict[str, int] = field(default_factory=lambda: {"std": 1, "model": 1})
    active: bool = False

    def begin(self, ids: list[str]) -> None:
        if not self.active:
            self.ids, self.finished, self.in_flight = set(ids), {}, {}
            self.active = True
            self.eta.start()
        else:
            self.ids.update(ids)
            self.eta.resume()

    def add(self, ids: list[str]) -> None:
        if self.active:
            self.ids.update(ids)

    def set_work(self, work: dict[str, Work]) -> None:
        self.work.update(work)

    def started(self, job_id: str) -> None:
        if self.active:
            self.ids.add(job_id)
            self.in_flight[job_id] = InFlight(started=self.eta.clock())

    def progress(self, job_id: str, fraction: float) -> None:
        job = self.in_flight.get(job_id)
        if job is not None:
            self.eta.progress(job, fraction)

    def job_finished(self, job_id: str, status: str, name: str, error: str | None) -> float | None:
        """Record a final state; return the seconds per megapixel it measured (a completed job), if any."""
        job = self.in_flight.pop(job_id, None)
        rate = None
        w = self.work.get(job_id)
        if job is not None and status in DONE and w is not None and w.megapixels:
            rate = self.eta.finished_rate(job, w.megapixels)
            if rate is not None:
                self.eta.learn(w.key, w.lane, rate)
        if self.active and job_id in self.ids:
            self.finished[job_id] = (status, name, error or "")
        return rate

    def forget(self, ids: list[str]) -> None:
        for i in ids:
            self.ids.discard(i)
            self.in_flight.pop(i, None)
            self.finished.pop(i, None)
            self.work.pop(i, None)

    def done_units(self) -> float:
        return len(self.finished) + sum(j.fraction for i, j in self.in_flight.items() if i in self.ids)

    def fraction(self) -> float:
        return self.done_units() / len(self.ids) if self.ids else 0.0

    def eta_seconds(self) -> float | None:
        left = [i for i in self.ids if i not in self.finished]
        if any(i not in self.work for i in left):
            return None
        running = [(self.work[i], self.in_flight[i]) for i in left if i in self.in_flight]
        waiting = [self.work[i] for i in left if i not in self.in_flight]
        return self.eta.seconds_left(waiting, running, self.workers)

    def status_line(self, paused: bool) -> str:
        if not self.active or not self.ids:
            return "Nothing running"
        n_done, total = len(self.finished), len(self.ids)
        failed = sum(1 for s, _, _ in self.finished.values() if s == "FAILED")
        cancelled = sum(1 for s, _, _ in self.finished.values() if s == "CANCELLED")
        line = f"{n_done:,} of {total:,}"
        if failed:
            line += f" · {failed:,} failed"
        if cancelled:
            line += f" · {cancelled:,} cancelled"
        if paused:
            return f"Paused · {line} · ETA paused"
        return f"{line} · ETA {format_duration(self.eta_seconds())}"

    def end(self) -> RunSummary:
        done = sum(1 for s, _, _ in self.finished.values() if s in DONE)
        failed = [(n, e) for s, n, e in self.finished.values() if s == "FAILED"]
        cancelled = sum(1 for s, _, _ in self.finished.values() if s == "CANCELLED")
        self.active = False
        self.eta.pause()
        return RunSummary(done, failed, cancelled)
