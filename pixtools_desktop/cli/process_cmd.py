"""`pixtools process`: run a batch headless with a progress bar and a summary.

Exit code 0 when every file succeeded (or was already done), 1 when any
failed, 2 for a request that cannot run as a whole (bad --ops or --params, a
missing path, no images found, the denoise model missing, the job database's
disk full), 130 after Ctrl+C. See cli/exits.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.jobs import Job, JobStatus, OutputOptions, OverwritePolicy


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "process",
        help="process files and folders headless",
        description="Process images: convert, resize, extract metadata, denoise.",
        epilog="exit codes: 0 all done, 1 some files failed, 2 nothing could run (bad options, a "
        "missing path, no images, no denoise model, the job database's disk full), 130 Ctrl+C. "
        "Running the same command again resumes an interrupted or failed batch.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    p.add_argument("--ops", required=True, help="comma-separated operations: jpg,png,webp,avif,tiff,denoise,metadata")
    p.add_argument("--params", default=None, help='JSON object keyed by op, e.g. \'{"webp":{"quality":80}}\'')
    p.add_argument("--out", default=None, help="output folder (default: the settings, else next to each input)")
    p.add_argument("--recursive", "-r", action="store_true", help="descend into sub-folders")
    p.add_argument("--naming", default=None, help="file name template, default {stem}_{op}.{ext}")
    p.add_argument(
        "--overwrite",
        choices=[p.value for p in OverwritePolicy],
        default=None,
        help="what to do when an output exists (default: unique)",
    )
    p.add_argument("--strip-metadata", action="store_true", help="drop EXIF and XMP from outputs")
    p.add_argument("--zip", action="store_true", help="also write a ZIP of each job's outputs")
    p.add_argument("--workers", type=int, default=None, help="parallel workers for standard ops")
    p.add_argument("--force", action="store_true", help="redo files an earlier identical run already finished")
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    from pixtools_desktop.cli import process_extras  # the cloud and remote layers add their flags

    process_extras.add_arguments(p)


def _options(args: argparse.Namespace) -> OutputOptions:
    s = args.settings
    out = args.out or s.output_dir
    return OutputOptions(
        # absolute: jobs outlive this shell's folder (`jobs list`, a rerun from elsewhere, own-output checks)
        output_dir=os.path.abspath(os.path.expanduser(out)) if out else out,
        naming_template=args.naming or s.naming_template,
        overwrite=OverwritePolicy(args.overwrite or s.overwrite),
        keep_metadata=not args.strip_metadata and s.keep_metadata,
        bundle_zip=args.zip or s.bundle_zip,
    )


def job_summary(job: Job) -> dict:
    d = {
        "job_id": job.id,
        "input": job.input_path,
        "status": job.status.value,
        "outputs": [o.to_json() for o in job.outputs],
        "metadata": job.metadata,
        "warnings": job.warnings,
        "error_message": job.error_message,
        "error_code": job.error_code,  # core.errors.ErrorCode: scripts decide by this, not by the text
    }
    from pixtools_desktop.cli import process_extras

    d.update(process_extras.job_extras(job))
    return d


def run(args: argparse.Namespace) -> int:
    from pixtools_desktop.cli import preflight
    from pixtools_desktop.cli.exits import EXIT_USAGE, say
    from pixtools_desktop.core.inputs import collect_inputs
    from pixtools_desktop.core.ops import validate_request
    from pixtools_desktop.core.outputs import validate_template

    settings = args.settings
    if args.workers:
        settings.workers = args.workers
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    try:
        preflight.check_op_names(ops)
        request = validate_request(ops, args.params, None)
        options = _options(args)
        validate_template(options.naming_template)
        preflight.check_paths(args.paths)
        collected = collect_inputs(args.paths, recursive=args.recursive)
        preflight.check_not_empty(args.paths, collected, recursive=args.recursive)
    except ValidationError as exc:
        say(exc.detail)
        return EXIT_USAGE
    except preflight.PreflightError as exc:
        say(str(exc))
        return EXIT_USAGE
    for note in preflight.empty_folder_notes(args.paths, collected, recursive=args.recursive):
        say(note)
    return _run_planned(args, settings, request, options, collected)


def _run_planned(args, settings, request, options, collected) -> int:
    from pixtools_desktop.cli import interrupt, preflight
    from pixtools_desktop.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE, say
    from pixtools_desktop.cli.store_access import open_store
    from pixtools_desktop.core.batch import plan_batch
    from pixtools_desktop.core.logs import log_context, new_request_id

    request_id = new_request_id()
    store = open_store(settings)
    try:
        backend = _make_backend(args, store, settings)
        if isinstance(backend, LocalBatchBackend) and "denoise" in request.operations:
            try:
                preflight.check_denoise_model(settings, request.params.get("denoise", {}))
            except preflight.PreflightError as exc:
                say(str(exc))
                return EXIT_USAGE
        with log_context(request_id=request_id):
            store.recover_interrupted()
            plan = plan_batch(store, collected.files, request, options, request_id=request_id, force=args.force)
            _sweep_adopted(plan)
            # The bar redraws with carriage returns: only for a person at a terminal, not a log file or pipe.
            show = not (args.no_progress or args.json) and sys.stderr.isatty()
            jobs = backend.run_batch(plan, show_progress=show)
            from pixtools_desktop.cli import process_extras

            process_extras.finalize(args, store, settings, jobs)
            jobs = store.get_many([j.id for j in jobs])
    except KeyboardInterrupt:
        interrupt.stop_and_exit(store)
    finally:
        store.close()

    failed = [j for j in jobs if not j.status.is_success]
    summary = {
        "request_id": request_id,
        "batch_id": plan.batch_id,
        "done": sum(1 for j in jobs if j.status.is_success),
        "failed": len(failed) + len(plan.rejected),
        "already_done": len(plan.already_done),
        "skipped": [{"path": str(p), "reason": r} for p, r in collected.skipped],
        "rejected": [{"path": str(p), "reason": r} for p, r in plan.rejected],
        "jobs": [job_summary(j) for j in jobs],
    }
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        _print_summary(summary, jobs, plan)
    return EXIT_FAILED if summary["failed"] else EXIT_OK


def _sweep_adopted(plan) -> None:
    """Temporary files an interrupted attempt of an adopted job left beside its outputs."""
    from pixtools_desktop.core.outputs import output_dir_for, sweep_temp_files

    for job in plan.adopted:
        if job.status == JobStatus.PENDING:
            sweep_temp_files(output_dir_for(Path(job.input_path), job.options.output_dir), tag=job.id[:8])


def _make_backend(args, store, settings):
    from pixtools_desktop.cli import process_extras

    return process_extras.make_backend(args, store, settings)


class LocalBatchBackend:
    """Runs a planned batch on this machine's engine and waits for it."""

    def __init__(self, store, settings) -> None:
        self.store = store
        self.settings = settings
        self.finish_hooks: list = []

    def add_finish_hook(self, hook) -> None:
        self.finish_hooks.append(hook)

    def run_batch(self, plan, *, show_progress: bool) -> list[Job]:
        from pixtools_desktop import wiring
        from pixtools_desktop.core.runner import LocalRunner

        runner = LocalRunner(
            self.store, self.settings, batch_ids={plan.batch_id}, denoiser_factory=wiring.denoiser_factory
        )
        return run_batch_on(runner, self.store, plan, self.finish_hooks, show_progress=show_progress)


def run_batch_on(backend, store, plan, finish_hooks: list, *, show_progress: bool) -> list[Job]:
    """Start a Backend, submit the plan's new jobs, wait with a progress bar, stop; the batch's final rows.

    Shared by the local engine and the remote backend so both behave alike on Ctrl+C.
    """
    from pixtools_desktop.cli import interrupt
    from pixtools_desktop.cli.exits import EXIT_USAGE, DatabaseDiskFull, is_disk_full

    for hook in finish_hooks:
        backend.add_finish_hook(hook)
    backend.start()
    try:
        backend.submit(plan.new_jobs)
        _wait_with_progress(store, plan.batch_id, show_progress)
    except KeyboardInterrupt:  # never unwind through a 60 s stop(): see cli/interrupt.py
        interrupt.stop_and_exit(store, backend.stop)
    except Exception as exc:
        if is_disk_full(exc):  # the job database's disk: the store cannot record anything more
            interrupt.stop_and_exit(
                None, backend.stop, message=f"pixtools: {DatabaseDiskFull(store.path)}", code=EXIT_USAGE
            )
        backend.stop()
        raise
    backend.stop()
    return store.list_jobs(batch_id=plan.batch_id)


def _wait_with_progress(store, batch_id: str, show: bool) -> None:
    from tqdm import tqdm

    from pixtools_desktop.cli.exits import raise_if_db_full

    total = sum(store.count_by_status(batch_id=batch_id).values())
    bar = tqdm(total=total, unit="img", disable=not show or total == 0, file=sys.stderr, dynamic_ncols=True)
    try:
        while True:
            raise_if_db_full(store.path)
            counts = store.count_by_status(batch_id=batch_id)
            finished = sum(counts[s.value] for s in JobStatus if s.is_final)
            bar.set_postfix(failed=counts["FAILED"], refresh=False)
            bar.update(finished - bar.n)
            if counts["PENDING"] == 0 and counts["PROCESSING"] == 0:
                break
            time.sleep(0.1)
    finally:
        bar.close()


def _print_summary(summary: dict, jobs: list[Job], plan) -> None:
    out = sys.stdout
    parts = [f"{summary['done']:,} done", f"{summary['failed']:,} failed"]
    if summary["already_done"]:
        parts.append(f"{summary['already_done']:,} already done")
    if summary["skipped"]:
        parts.append(f"{len(summary['skipped']):,} skipped")
    print(", ".join(parts), file=out)
    for j in jobs:
        if j.status.is_success:
            for o in j.outputs:
                state = "exists, skipped" if o.skipped else f"{o.size:,} bytes"
                print(f"  ok    {Path(j.input_path).name} -> {o.path} ({state})", file=out)
            for w in j.warnings:
                print(f"  note  {Path(j.input_path).name}: {w}", file=out)
            if j.metadata is not None:
                print(f"  meta  {Path(j.input_path).name}: {json.dumps(j.metadata, default=str)}", file=out)
    for j in jobs:
        if not j.status.is_success:
            print(f"  FAIL  {j.input_path}: {j.error_message or j.status.value}", file=out)
    for r in summary["rejected"]:
        print(f"  FAIL  {r['path']}: {r['reason']}", file=out)
    for s in summary["skipped"]:
        print(f"  skip  {s['path']}: {s['reason']}", file=out)
