"""`pixtools jobs`: look at and act on the job history (kept until you clear it)."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("jobs", help="list, inspect, retry or clear jobs")
    jsub = p.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    ls = jsub.add_parser("list", help="list jobs, newest first")
    ls.add_argument("--status", default=None, help="only this status (e.g. FAILED)")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    show = jsub.add_parser("show", help="show one job")
    show.add_argument("job_id")
    show.set_defaults(func=run_show)
    retry = jsub.add_parser("retry-failed", help="queue failed and cancelled jobs again and run them")
    retry.add_argument("--no-run", action="store_true", help="only re-queue, do not run now")
    retry.set_defaults(func=run_retry)
    clear = jsub.add_parser("clear", help="forget finished jobs (outputs stay on disk)")
    clear.set_defaults(func=run_clear)


def _store(args):
    from pixtools_desktop.cli.store_access import open_store

    return open_store(args.settings)


def _find(store, given: str):
    """A job by its id or an unambiguous prefix of it (as `git show` takes a short hash)."""
    job = store.get(given)
    if job is not None or not given:
        return job, []
    ids = store.ids_with_prefix(given, limit=6)
    if len(ids) == 1:
        return store.get(ids[0]), []
    return None, ids


def run_list(args: argparse.Namespace) -> int:
    with _store(args) as store:
        store.recover_interrupted()  # a job held by a process that is gone is queued, not "PROCESSING"
        jobs = store.list_jobs(status=args.status.upper() if args.status else None, limit=args.limit, newest_first=True)
    if args.json:
        from pixtools_desktop.cli.process_cmd import job_summary

        print(json.dumps([job_summary(j) for j in jobs], indent=2, default=str))
        return 0
    for j in jobs:
        err = f"  {j.error_message}" if j.error_message else ""
        print(f"{j.id}  {j.status.value:<24} {','.join(j.operations):<20} {j.input_path}{err}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from pixtools_desktop.cli.process_cmd import job_summary

    with _store(args) as store:
        job, candidates = _find(store, args.job_id)
        if job is None and candidates:
            more = ", …" if len(candidates) > 5 else ""
            print(
                f"pixtools: job id prefix {args.job_id!r} is ambiguous: it matches "
                f"{', '.join(candidates[:5])}{more}; give more characters",
                file=sys.stderr,
            )
            return 2
        if job is None:
            print(f"pixtools: Job {args.job_id} not found", file=sys.stderr)
            return 1
    d = job_summary(job)
    d.update(
        operations=job.operations,
        params=job.params,
        options=job.options.to_json(),
        attempts=job.attempts,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )
    print(json.dumps(d, indent=2, default=str))
    return 0


def run_retry(args: argparse.Namespace) -> int:
    from pixtools_desktop import wiring
    from pixtools_desktop.cli import interrupt
    from pixtools_desktop.cli.exits import (
        EXIT_USAGE,
        DatabaseDiskFull,
        raise_if_db_full,
    )
    from pixtools_desktop.core.runner import LocalRunner

    with _store(args) as store:
        store.recover_interrupted()
        superseded = store.superseded_failures()
        n = store.retry_failed()
        print(f"{n} job(s) queued again")
        if superseded:
            print(f"{len(superseded)} failed job(s) left as they are: a later run already did the same work")
        if args.no_run or n == 0:
            return 0
        runner = LocalRunner(store, args.settings, denoiser_factory=wiring.denoiser_factory)
        runner.start()
        try:
            while not runner.wait_idle(timeout=0.5):
                raise_if_db_full(store.path)
        except KeyboardInterrupt:
            interrupt.stop_and_exit(store, runner.stop)
        except DatabaseDiskFull as exc:
            interrupt.stop_and_exit(None, runner.stop, message=f"pixtools: {exc}", code=EXIT_USAGE)
        finally:
            runner.stop()  # reached only when idle (or on an error): quick
        counts = store.count_by_status()
        completed = counts["COMPLETED"] + counts["COMPLETED_WEBHOOK_FAILED"]
        print(f"{completed} completed, {counts['FAILED']} failed in history")
        return 1 if counts["FAILED"] - len(superseded) > 0 else 0


def run_clear(args: argparse.Namespace) -> int:
    with _store(args) as store:
        n = store.clear_history()
    print(f"{n} finished job(s) removed from history")
    return 0
