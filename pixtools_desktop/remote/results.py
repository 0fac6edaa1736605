"""Bring a completed remote job's results home, the way the local engine writes them.

Same naming template, same overwrite policy, same atomic writes
(`core.outputs`), and the same intent-then-file bookkeeping as the engine:
an output is recorded with size -1 before its download starts, so after a
crash the resumed job reuses that name instead of making "photo (2).jpg",
and outputs already on disk are never downloaded twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse

from pixtools_desktop.core.engine import INTENT_SIZE
from pixtools_desktop.core.imaging.decode import upright_size_of
from pixtools_desktop.core.jobs import Job, OutputRecord, OverwritePolicy
from pixtools_desktop.core.ops import OUTPUT_FORMATS
from pixtools_desktop.core.outputs import output_dir_for, render_name, resolve_target, write_atomic
from pixtools_desktop.core.store import JobStore
from pixtools_desktop.remote.api import ApiClient

BUNDLE = "bundle"


def _ext_mime(op: str, url: str) -> tuple[str, str]:
    if op == BUNDLE:
        return "zip", "application/zip"
    spec = OUTPUT_FORMATS.get(op)
    if spec is not None:
        return spec.ext, spec.mime
    suffix = Path(urlparse(url).path).suffix.lstrip(".")  # an op this app does not know: keep the server's type
    return (suffix or "bin"), "application/octet-stream"


def _header_size(path: Path) -> tuple[int, int] | None:
    """A file's upright pixel size from its header alone, or None when it is missing or cannot be read."""
    try:
        with path.open("rb") as fh:
            return upright_size_of(fh)
    except OSError:
        return None


def download_results(
    api: ApiClient,
    store: JobStore,
    job: Job,
    body: dict,
    *,
    archive: bool,
    progress: Callable[[float], None],
) -> tuple[list[OutputRecord], list[str]]:
    """Download every `result_urls` entry (and the archive when asked); returns (outputs, warnings)."""
    outputs: dict[str, OutputRecord] = {r.op: r for r in job.outputs}
    warnings: list[str] = []
    items = list((body.get("result_urls") or {}).items())
    if archive and body.get("archive_url"):
        items.append((BUNDLE, body["archive_url"]))
    input_path = Path(job.input_path)
    options = job.options
    out_dir = output_dir_for(input_path, options.output_dir)
    when = datetime.now()
    source_sizes: list[tuple[int, int] | None] = []  # the input's header, read once at the first image output
    for i, (op, url) in enumerate(items):
        prev = outputs.get(op)
        if prev is not None and (prev.skipped or (prev.size != INTENT_SIZE and Path(prev.path).exists())):
            continue
        ext, mime = _ext_mime(op, url)
        if prev is not None and prev.size == INTENT_SIZE:
            target, skip = Path(prev.path), False
        else:
            name = render_name(options.naming_template, input_path=input_path, op=op, ext=ext, n=job.seq, when=when)
            reserved = {Path(r.path) for r in outputs.values()}
            target, skip = resolve_target(out_dir / name, OverwritePolicy(options.overwrite), reserved)
        if skip:
            outputs[op] = OutputRecord(op=op, path=str(target), size=target.stat().st_size, mime=mime, skipped=True)
            store.save_outputs(job.id, list(outputs.values()))
            warnings.append(f"{target.name} already exists: skipped ({op}).")
            continue
        outputs[op] = OutputRecord(op=op, path=str(target), size=INTENT_SIZE, mime=mime)
        store.save_outputs(job.id, list(outputs.values()))

        def write(fh: BinaryIO, url: str = url) -> None:
            api.download(url, fh)

        size = write_atomic(target, write, tag=job.id[:8])
        record = OutputRecord(op=op, path=str(target), size=size, mime=mime)
        if op != BUNDLE:
            # Sizes as the local engine records them, read from the headers (nothing is decoded):
            # the card then says "W x H -> W x H px". A file that cannot be read leaves them unset.
            out_size = _header_size(target)
            if out_size is not None:
                record.width, record.height = out_size
                if not source_sizes:
                    source_sizes.append(_header_size(input_path))
                if source_sizes[0] is not None:
                    record.source_width, record.source_height = source_sizes[0]
        outputs[op] = record
        store.save_outputs(job.id, list(outputs.values()))
        progress((i + 1) / len(items))
    return list(outputs.values()), warnings
