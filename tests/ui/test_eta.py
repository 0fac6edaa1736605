"""The ETA and the run's arithmetic, with a fake clock: megapixels x learned seconds per megapixel."""

from __future__ import annotations

from pixtools_desktop.ui.eta import InFlight, Work, WorkEta, format_duration, lane_of, work_key
from pixtools_desktop.ui.run_tracker import RunTracker


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _tracker(n: int, ops: list[str], mp: float = 0.5, workers: int = 1) -> tuple[RunTracker, Clock, list[str]]:
    clock = Clock()
    run = RunTracker(eta=WorkEta(clock), workers={"std": workers, "model": 1})
    ids = [f"j{i}" for i in range(n)]
    run.begin(ids)
    run.set_work({i: Work(work_key(ops), lane_of(ops), mp) for i in ids})
    return run, clock, ids


def test_estimating_until_there_is_a_basis_then_from_megapixels():
    run, clock, ids = _tracker(12, ["denoise", "webp"])
    assert run.eta_seconds() is None and "ETA estimating…" in run.status_line(paused=False)
    # The first denoise: 5 s loading the model (no progress), then 35 s of tiles for 0.5 MP.
    run.started(ids[0])
    clock.t += 5
    run.progress(ids[0], 0.02)
    assert run.eta_seconds() is None  # one early tile is no basis yet
    etas = []
    for step in range(1, 10):
        clock.t += 3.5
        run.progress(ids[0], 0.02 + step * 0.098)
        etas.append(run.eta_seconds())
    truth = [35 * (1 - (0.02 + s * 0.098)) + 11 * 35 for s in range(1, 10)]
    known = [(e, t) for e, t in zip(etas, truth, strict=False) if e is not None]
    assert len(known) >= 7  # a basis within the first job
    for e, t in known:
        assert abs(e - t) / t < 0.15, (e, t)  # within 15 % of the truth, never 15 min for 7 min of work
    assert all(
        b <= a for a, b in zip([e for e, _ in known], [e for e, _ in known][1:], strict=False)
    )  # it never climbs
    clock.t += 3.5
    rate = run.job_finished(ids[0], "COMPLETED", "a.png", None)
    assert rate is not None and abs(rate - 70.0) / 70 < 0.1  # 35 s per 0.5 MP, model loading excluded
    assert run.status_line(paused=False).startswith("1 of 12")
    assert abs(run.eta_seconds() - 11 * 35) / (11 * 35) < 0.1


def test_learned_rate_gives_an_eta_from_the_start_and_lanes_run_side_by_side():
    run, clock, ids = _tracker(8, ["webp"], mp=2.0, workers=4)
    run.eta.rates = {"webp": 0.5}  # learned earlier on this machine (loaded from the store)
    assert run.eta_seconds() == 8 * 2.0 * 0.5 / 4
    run.set_work({"d": Work("denoise", "model", 1.0)})
    run.add(["d"])
    run.eta.rates["lane:model"] = 30.0  # a kind never seen falls back to its lane's rate
    assert run.eta_seconds() == 30.0  # the model lane is the longer one
    assert format_duration(None) == "estimating…" and format_duration(75) == "1 min 15 s"


def test_cancelled_jobs_count_as_finished_in_progress_eta_and_summary():
    run, clock, ids = _tracker(8, ["jpg"])
    run.eta.rates = {"jpg": 1.0}
    run.started(ids[0])
    clock.t += 0.5
    run.job_finished(ids[0], "COMPLETED", "0.png", None)
    for i in ids[1:7]:
        run.job_finished(i, "CANCELLED", f"{i}.png", None)
    assert run.status_line(paused=False).startswith("7 of 8 · 6 cancelled")
    assert run.fraction() == 7 / 8
    assert run.eta_seconds() == 0.5  # only the last job's work is left
    run.job_finished(ids[7], "FAILED", "7.png", "Cannot read it.")
    summary = run.end()
    assert (summary.done, summary.cancelled, summary.text) == (1, 6, "1 done, 1 failed, 6 cancelled")


def test_paused_run_stops_its_clock():
    run, clock, _ = _tracker(2, ["jpg"])
    clock.t += 2
    run.eta.pause()
    clock.t += 100
    assert run.eta.active_seconds() == 2 and "ETA paused" in run.status_line(paused=True)
    run.begin([])
    clock.t += 1
    assert run.eta.active_seconds() == 3


def test_in_flight_progress_without_a_start_event_is_ignored():
    eta = WorkEta(Clock())
    job = InFlight(started=eta.clock())
    assert eta.live_rate(job, 1.0) is None and eta.finished_rate(job, 0.0) is None
