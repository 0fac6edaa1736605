"""Adding photos to the queue, run off the GUI thread.

Walking a folder tree, planning a batch (dedupe keys need a stat per file)
and inserting 10,000 rows take long enough to freeze a window, so the window
hands an `AddRequest` to a worker and gets an `AddResult` (plain data) back.

Two rules keep a folder add from feeding the app its own results:
- with no output folder chosen, outputs go to a subfolder (`PixTools/`)
  beside each photo, and that subfolder is not walked;
- files the app wrote (the store knows them: job outputs) are skipped when
  they come from a folder. A file named explicitly is always tried.
A file whose header cannot be read fails at once, with its reason, instead of
waiting in the queue looking like the others.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from pixtools_desktop.core.batch import plan_batch
from pixtools_desktop.core.errors import ImageDecodeError
from pixtools_desktop.core.inputs import collect_inputs
from pixtools_desktop.core.jobs import Job, JobStatus, OutputOptions
from pixtools_desktop.core.logs import new_request_id
from pixtools_desktop.core.ops import OperationRequest
from pixtools_desktop.core.store import JobStore

OWN_OUTPUT = "written by PixTools (an output of an earlier job)"


@dataclass
class AddRequest:
    paths: list[str]
    request: OperationRequest
    options: OutputOptions
    replace_ids: list[str] = field(default_factory=list)  # staged jobs to re-plan with a new choice
    subfolder: str | None = "PixTools"  # where outputs go when options.output_dir is None


@dataclass
class AddResult:
    jobs: list[Job] = field(default_factory=list)
    adopted: list[Job] = field(default_factory=list)
    already_done: list[Job] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # not images / missing / our outputs
    rejected: list[tuple[str, str]] = field(default_factory=list)  # invalid for the chosen ops
    replaced: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # ids failed at once (header unreadable)
    run_now: bool = False  # QueueController.add(run_now=True): start these at once, as they were asked for


def resolved_options(options: OutputOptions, photo: Path, subfolder: str | None) -> OutputOptions:
    """The options a job for `photo` gets: the chosen folder, or the subfolder beside the photo."""
    if options.output_dir or not subfolder:
        return options
    return dataclasses.replace(options, output_dir=str(photo.parent / subfolder))


def same_options(job: Job, options: OutputOptions, subfolder: str | None) -> bool:
    return job.options.to_json() == resolved_options(options, Path(job.input_path), subfolder).to_json()


def _inside_subfolder(path: Path, roots: list[Path], subfolder: str | None) -> bool:
    if not subfolder:
        return False
    for root in roots:
        try:
            rel = path.relative_to(root)
        except ValueError:
            continue
        if subfolder in rel.parts[:-1]:
            return True
    return False


def header_problem(path: Path) -> str | None:
    """A readable reason when the file's header cannot be read as an image (no pixels decoded)."""
    from pixtools_desktop.core.imaging.decode import open_image

    try:
        with open(path, "rb") as fp:
            im = open_image(fp, str(path), max_pixels=0)
            im.close()
    except ImageDecodeError as exc:
        return str(exc)
    except OSError as exc:
        return f"The file cannot be read: {exc.strerror or exc}."
    return None


def run_add(store: JobStore, backend, req: AddRequest) -> AddResult:
    result = AddResult()
    if req.replace_ids:
        store.delete(req.replace_ids)
        result.replaced = list(req.replace_ids)
    collected = collect_inputs(req.paths, recursive=True)
    explicit = {os.path.abspath(p) for p in req.paths if os.path.isfile(p)}
    folders = [Path(p) for p in req.paths if os.path.isdir(p)]
    from_folders = [f for f in collected.files if os.path.abspath(f) not in explicit]
    ours = store.known_output_paths(str(f) for f in from_folders)
    files: list[Path] = []
    for f in collected.files:
        if os.path.abspath(f) not in explicit and (str(f) in ours or _inside_subfolder(f, folders, req.subfolder)):
            result.skipped.append((str(f), OWN_OUTPUT))
        else:
            files.append(f)
    groups: dict[str, list[Path]] = {}
    for f in files:  # one plan per output folder (the subfolder beside each photo)
        opts = resolved_options(req.options, f, req.subfolder)
        groups.setdefault(opts.output_dir or "", []).append(f)
    request_id = new_request_id()
    for group in groups.values():
        opts = resolved_options(req.options, group[0], req.subfolder)
        plan = plan_batch(store, group, req.request, opts, request_id=request_id, force=bool(req.replace_ids))
        if plan.new_jobs:
            result.jobs.extend(backend.submit(plan.new_jobs))
        result.adopted.extend(plan.adopted)
        result.already_done.extend(plan.already_done)
        result.rejected.extend((str(p), why) for p, why in plan.rejected)
    result.skipped.extend((str(p), why) for p, why in collected.skipped)
    _fail_unreadable(store, result)
    return result


def _fail_unreadable(store: JobStore, result: AddResult) -> None:
    bad: dict[str, str] = {}
    for job in result.jobs:
        why = header_problem(Path(job.input_path))
        if why is not None:
            bad[job.id] = why
    for job in store.get_many(list(bad)):
        if job.status == JobStatus.PENDING and job.attempts == 0:  # a worker may have taken it meanwhile
            store.fail(job.id, bad[job.id])
    if bad:
        fresh = {j.id: j for j in store.get_many(list(bad))}
        result.jobs = [fresh.get(j.id, j) for j in result.jobs]
        result.unreadable = list(bad)
