"""Adding photos to the queue, run off the GUI thread.

Walking a folder tree, planning a batch (dedupe keys need a stat per file)
and inserting 10,000 rows take long enough to freeze a window, so the window
hands an `AddRequest` to a worker and gets an `AddResult` (plain data) back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pixtools_desktop.core.batch import plan_batch
from pixtools_desktop.core.inputs import collect_inputs
from pixtools_desktop.core.jobs import Job, OutputOptions
from pixtools_desktop.core.logs import new_request_id
from pixtools_desktop.core.ops import OperationRequest
from pixtools_desktop.core.store import JobStore


@dataclass
class AddRequest:
    paths: list[str]
    request: OperationRequest
    options: OutputOptions
    replace_ids: list[str] = field(default_factory=list)  # staged jobs to re-plan with a new choice


@dataclass
class AddResult:
    jobs: list[Job] = field(default_factory=list)
    adopted: list[Job] = field(default_factory=list)
    already_done: list[Job] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # not images / missing
    rejected: list[tuple[str, str]] = field(default_factory=list)  # invalid for the chosen ops
    replaced: list[str] = field(default_factory=list)


def run_add(store: JobStore, backend, req: AddRequest) -> AddResult:
    result = AddResult()
    if req.replace_ids:
        store.delete(req.replace_ids)
        result.replaced = list(req.replace_ids)
    collected = collect_inputs(req.paths, recursive=True)
    plan = plan_batch(store, collected.files, req.request, req.options, request_id=new_request_id(),
                      force=bool(req.replace_ids))
    if plan.new_jobs:
        result.jobs = backend.submit(plan.new_jobs)
    result.adopted = plan.adopted
    result.already_done = plan.already_done
    result.skipped = [(str(p), why) for p, why in collected.skipped]
    result.rejected = [(str(p), why) for p, why in plan.rejected]
    return result
