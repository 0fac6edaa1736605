"""The job model shared by every front end and backend.

A job is one input file plus validated operations (the PixTools API's model)
and the desktop's output options. Status names are the API's, plus
`CANCELLED`; `COMPLETED_WEBHOOK_FAILED` counts as success everywhere.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class JobStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    COMPLETED_WEBHOOK_FAILED = "COMPLETED_WEBHOOK_FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    @property
    def is_success(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.COMPLETED_WEBHOOK_FAILED)


FINAL_STATUSES = frozenset(
    {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.COMPLETED_WEBHOOK_FAILED, JobStatus.CANCELLED}
)


class OverwritePolicy(StrEnum):
    UNIQUE = "unique"  # add " (2)", " (3)", ... to the name
    OVERWRITE = "overwrite"
    SKIP = "skip"  # keep the existing file, record the op as skipped


DEFAULT_NAMING_TEMPLATE = "{stem}_{op}.{ext}"


@dataclass(frozen=True)
class OutputOptions:
    """Desktop extras, chosen once per batch before it runs."""

    output_dir: str | None = None  # None: next to the input file
    naming_template: str = DEFAULT_NAMING_TEMPLATE
    overwrite: OverwritePolicy = OverwritePolicy.UNIQUE
    keep_metadata: bool = True  # EXIF, XMP, ICC kept; orientation normalised
    bundle_zip: bool = False  # also write a ZIP of the job's outputs
    profile: str = "desktop"  # core.profile: "desktop", or "api" for jobs that came through the API

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["overwrite"] = self.overwrite.value
        return d

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> OutputOptions:
        data = dict(data or {})
        known = {f.name for f in dataclasses.fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        if "overwrite" in data:
            data["overwrite"] = OverwritePolicy(data["overwrite"])
        return cls(**data)


@dataclass
class OutputRecord:
    """One file a job produced (or skipped because it existed)."""

    op: str
    path: str
    size: int
    mime: str
    skipped: bool = False
    # Pixel sizes, upright: the source's and this output's, so the result card
    # and the CLI can say "4000 x 3000 -> 1920 x 1440" (None: not an image output).
    width: int | None = None
    height: int | None = None
    source_width: int | None = None
    source_height: int | None = None
    # What the op decided, for the result card and `--json` (denoise: the noise estimate, the sigma
    # and model used, "already clean - kept"); absent for ops with nothing to say.
    info: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        if d["info"] is None:
            del d["info"]
        return d


@dataclass
class Job:
    """A row of the job store, as the rest of the app sees it."""

    id: str
    input_path: str
    operations: list[str]
    params: dict[str, dict[str, Any]]
    options: OutputOptions
    status: JobStatus = JobStatus.PENDING
    progress: float = 0.0
    error_message: str | None = None
    error_code: str | None = None  # core.errors.ErrorCode: decide by this, never by the message text
    warnings: list[str] = field(default_factory=list)
    outputs: list[OutputRecord] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    attempts: int = 0
    batch_id: str | None = None
    seq: int = 0  # position in the batch, for the {n} placeholder
    request_id: str | None = None
    backend: str = "local"  # "local" or a remote base URL
    remote_job_id: str | None = None
    created_at: str = ""
    updated_at: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    not_before: float = 0.0  # epoch seconds: retry backoff

    @property
    def name(self) -> str:
        return Path(self.input_path).name

    @property
    def needs_model(self) -> bool:
        return "denoise" in self.operations
