"""Building a batch of jobs from files, shared by the CLI and the window.

Each job gets a dedupe key (input path, size, mtime, ops, params, options):
re-running the same command after a crash adopts the unfinished jobs of the
earlier run and skips the ones that finished with their outputs still on
disk, so every job completes exactly once. A local job that failed (a full
disk, a file fixed since) is re-queued rather than replaced by a new one: it
keeps the record of the outputs it already wrote, and the engine reuses those
instead of writing `photo_tiff (2).tiff` beside them.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.jobs import Job, JobStatus, OutputOptions
from pixtools_desktop.core.ops import OperationRequest, check_same_format
from pixtools_desktop.core.outputs import validate_template
from pixtools_desktop.core.store import JobStore, NewJob


def dedupe_key(path: Path, request: OperationRequest, options: OutputOptions) -> str:
    try:
        st = path.stat()
        stamp: tuple[int, int] | tuple[None, None] = (st.st_size, st.st_mtime_ns)
    except OSError:
        stamp = (None, None)
    blob = json.dumps([str(path.resolve()), stamp, request.to_json(), options.to_json()], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class BatchPlan:
    batch_id: str
    new_jobs: list[NewJob] = field(default_factory=list)
    adopted: list[Job] = field(default_factory=list)  # unfinished (or failed, re-queued) jobs of an earlier run
    already_done: list[Job] = field(default_factory=list)
    rejected: list[tuple[Path, str]] = field(default_factory=list)  # invalid before running


def plan_batch(
    store: JobStore,
    files: list[Path],
    request: OperationRequest,
    options: OutputOptions,
    *,
    request_id: str | None = None,
    force: bool = False,
) -> BatchPlan:
    validate_template(options.naming_template)
    plan = BatchPlan(batch_id=uuid.uuid4().hex)
    requeue: dict[str, NewJob] = {}  # failed job id -> the new job to make if it cannot be re-queued
    for seq, path in enumerate(files, start=1):
        try:
            check_same_format(path.name, list(request.operations))
        except ValidationError as exc:
            plan.rejected.append((path, exc.detail))
            continue
        key = dedupe_key(path, request, options)
        new_job = NewJob(
            input_path=str(path.resolve()),
            operations=[op.value for op in request.operations],
            params=request.params,
            options=options,
            batch_id=plan.batch_id,
            seq=seq,
            request_id=request_id,
            dedupe_key=key,
        )
        if not force:
            existing = store.find_by_dedupe_key(key)
            if existing is not None:
                if existing.status in (JobStatus.PENDING, JobStatus.PROCESSING):
                    plan.adopted.append(existing)
                    continue
                if existing.status in (JobStatus.FAILED, JobStatus.CANCELLED) and existing.backend == "local":
                    requeue[existing.id] = new_job
                    continue
                if existing.status.is_success and all(Path(o.path).exists() for o in existing.outputs):
                    plan.already_done.append(existing)
                    continue
        plan.new_jobs.append(new_job)
    if requeue:
        store.retry_failed(job_ids=list(requeue))
        for job in store.get_many(list(requeue)):
            if job.status == JobStatus.PENDING:
                plan.adopted.append(job)
            else:  # not re-queued (a later job already did this work): plan it afresh
                plan.new_jobs.append(requeue[job.id])
    if plan.adopted:
        store.reassign_batch([j.id for j in plan.adopted], plan.batch_id)
    return plan
