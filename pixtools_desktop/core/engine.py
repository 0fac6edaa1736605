"""The one path a job takes, whoever schedules it (window, CLI, `pixtools serve`).

decode once → for each op (fan-out from the original): transform, encode,
write atomically, record the output → optional ZIP bundle. Progress is
reported per step (and per tile inside denoise); cancellation is honoured
between steps. Outputs already recorded by an interrupted earlier attempt are
reused, so a job resumed after a crash completes exactly once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from pixtools_desktop.core import imaging
from pixtools_desktop.core.errors import ErrorCode, JobCancelled, JobError, ModelUnavailableError
from pixtools_desktop.core.imaging.decode import too_large_output_message
from pixtools_desktop.core.imaging.metadata import api_metadata
from pixtools_desktop.core.imaging.transform import planned_size
from pixtools_desktop.core.jobs import Job, OutputRecord, OverwritePolicy
from pixtools_desktop.core.ops import OUTPUT_FORMATS, OperationType
from pixtools_desktop.core.outputs import (
    bundle_member_name,
    output_dir_for,
    render_name,
    resolve_target,
    sweep_temp_files,
    write_bundle,
    write_output,
)
from pixtools_desktop.core.profile import Profile, profile_for
from pixtools_desktop.core.settings import Settings

log = logging.getLogger(__name__)

INTENT_SIZE = -1  # an output chosen but not yet confirmed on disk


class Denoiser(Protocol):
    def denoise_image(
        self,
        image: Any,
        *,
        progress: Callable[[float], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Any: ...


DenoiserFactory = Callable[[Settings], Denoiser]
"""Given by the caller (`pixtools_desktop.wiring.denoiser_factory`): core does not import ml."""


@dataclass
class EngineContext:
    settings: Settings
    progress: Callable[[float], None] = lambda f: None
    cancelled: Callable[[], bool] = lambda: False
    save_outputs: Callable[[list[OutputRecord]], None] = lambda outs: None
    denoiser_factory: DenoiserFactory | None = None  # only the model lane has one


@dataclass
class JobResult:
    outputs: list[OutputRecord]
    metadata: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)


def _check_cancel(ctx: EngineContext) -> None:
    if ctx.cancelled():
        raise JobCancelled()


def _output_format(op: str, params: dict[str, Any]) -> str:
    if op == OperationType.DENOISE:
        return str(params.get("format", "png"))
    return op


def _reduce_to(job: Job, profile: Profile) -> Callable[[int, int], tuple[int, int] | None] | None:
    """When every file output is a downscale (and nothing is denoised), say how small a decode may be."""
    file_ops = [op for op in job.operations if op != OperationType.METADATA]
    if not file_ops or OperationType.DENOISE in file_ops:
        return None
    resizes = [job.params.get(op, {}).get("resize") for op in file_ops]
    if any(not r for r in resizes):
        return None

    def needed(full_w: int, full_h: int) -> tuple[int, int] | None:
        sizes = [planned_size(full_w, full_h, r, profile) for r in resizes]
        return max(w for w, _ in sizes), max(h for _, h in sizes)

    return needed


def _output_size_check(job: Job, profile: Profile, max_pixels: int) -> Callable[[int, int], None] | None:
    """Refuse, from the header alone, a resize whose output would exceed `max_pixels` (a resize bomb)."""
    if max_pixels <= 0:
        return None
    resizes = [(op, job.params.get(op, {}).get("resize")) for op in job.operations]
    resizes = [(op, r) for op, r in resizes if r]
    if not resizes:
        return None

    def check(full_w: int, full_h: int) -> None:
        for op, resize in resizes:
            w, h = planned_size(full_w, full_h, resize, profile)
            if w * h > max_pixels:
                raise JobError(
                    f"The {op} resize cannot be done: {too_large_output_message(w, h, max_pixels)}",
                    code=ErrorCode.TOO_LARGE,
                )

    return check


def _denoise(
    denoiser: Denoiser,
    image: Any,
    job: Job,
    params: dict[str, Any],
    settings: Settings,
    ctx: EngineContext,
    step_progress: Callable[[float], None],
) -> tuple[Any, dict[str, Any] | None]:
    """Denoise one image; (image, what was done for the result's ``info``).

    The API profile runs plain CDnCNN-B as upstream; the desktop estimates the
    noise and follows ``ml.policy`` (model, sigma, clean photos kept), inside
    the ml Denoiser's ``run_params``.
    """

    def progress(f: float) -> None:
        step_progress(0.9 * f)

    run_params = getattr(denoiser, "run_params", None)
    if run_params is None:  # a stand-in denoiser (tests): the plain protocol
        return denoiser.denoise_image(image, progress=progress, cancelled=ctx.cancelled), None
    api = getattr(job.options, "profile", "desktop") == "api"
    result: tuple[Any, dict[str, Any] | None] = run_params(
        image, params, settings, api=api, progress=progress, cancelled=ctx.cancelled
    )
    return result


def run_job(job: Job, ctx: EngineContext) -> JobResult:
    """Run every op of a job; raises JobError (user-facing) or JobCancelled."""
    input_path = Path(job.input_path)
    options = job.options
    settings = ctx.settings
    file_ops = [op for op in job.operations if op != OperationType.METADATA]
    steps = 1 + len(job.operations) + (1 if options.bundle_zip and file_ops else 0)
    done_steps = 0

    def step_progress(fraction: float = 0.0) -> None:
        ctx.progress(min(1.0, (done_steps + fraction) / steps))

    # Earlier attempts' outputs: keep those that really landed.
    outputs: dict[str, OutputRecord] = {}
    for rec in job.outputs:
        p = Path(rec.path)
        if rec.skipped or p.exists():
            if rec.size == INTENT_SIZE and p.exists():
                rec = dataclasses.replace(rec, size=p.stat().st_size)
            outputs[rec.op] = rec
        elif rec.size == INTENT_SIZE:
            outputs[rec.op] = rec  # chosen name, never landed: reuse the name
    if job.attempts > 1:
        sweep_temp_files(output_dir_for(input_path, options.output_dir), tag=job.id[:8])

    _check_cancel(ctx)
    if not input_path.exists():
        raise JobError(f"The file {input_path} no longer exists (moved or deleted?).", code=ErrorCode.MISSING_INPUT)
    profile = profile_for(options.profile, settings)
    src = imaging.load_image(
        input_path,
        max_pixels=settings.max_pixels,
        reduce_to=_reduce_to(job, profile),
        check_size=_output_size_check(job, profile, settings.max_pixels),
    )
    warnings = list(src.warnings)
    done_steps += 1
    step_progress()
    full_w, full_h = src.original_size or src.image.size

    keep = options.keep_metadata and profile.keep_exif
    exif = src.exif if keep else None
    xmp = src.xmp if keep else None
    icc = src.icc_profile  # colour, not personal data: kept even when stripping metadata

    metadata: dict[str, Any] | None = None
    out_dir = output_dir_for(input_path, options.output_dir)
    when = datetime.now()
    for op in job.operations:
        _check_cancel(ctx)
        params = job.params.get(op, {})
        if op == OperationType.METADATA:
            metadata = imaging.extract_metadata(src)
            if profile.api_metadata_shape:
                metadata = api_metadata(metadata)
            done_steps += 1
            step_progress()
            continue
        prev = outputs.get(op)
        if prev is not None and (prev.skipped or prev.size != INTENT_SIZE):
            done_steps += 1
            continue
        fmt = _output_format(op, params)
        spec = OUTPUT_FORMATS[fmt]
        if prev is not None:
            target, skip = Path(prev.path), False
        else:
            name = render_name(
                options.naming_template, input_path=input_path, op=op, ext=spec.ext, n=job.seq, when=when
            )
            reserved = {Path(r.path) for r in outputs.values()}
            target, skip = resolve_target(out_dir / name, OverwritePolicy(options.overwrite), reserved)
        if skip:
            outputs[op] = OutputRecord(
                op=op, path=str(target), size=target.stat().st_size, mime=spec.mime, skipped=True
            )
            ctx.save_outputs(list(outputs.values()))
            warnings.append(f"{target.name} already exists: skipped ({op}).")
            done_steps += 1
            continue

        image = src.image
        denoise_info = None
        if op == OperationType.DENOISE:
            if ctx.denoiser_factory is None:
                raise ModelUnavailableError("Denoise jobs must run on the model worker.")
            job_settings = settings
            if "mode" in params or "strength" in params:
                job_settings = dataclasses.replace(
                    settings,
                    denoise_mode=params.get("mode", settings.denoise_mode),
                    denoise_strength=params.get("strength", settings.denoise_strength),
                )
            denoiser = ctx.denoiser_factory(job_settings)
            image, denoise_info = _denoise(denoiser, image, job, params, settings, ctx, step_progress)
            if denoise_info and denoise_info.get("kept"):
                warnings.append(f"{input_path.name}: {denoise_info['note']}.")
        resize = params.get("resize")
        # Sizes from the full-resolution dimensions, so a reduced-scale decode gives the same pixel count.
        tw, th = planned_size(full_w, full_h, resize, profile)
        image = imaging.resize(image, tw, th)  # the image itself when the size already matches
        _check_cancel(ctx)

        # Intent first, then the file: a crash between the two is resolved on resume.
        outputs[op] = OutputRecord(op=op, path=str(target), size=INTENT_SIZE, mime=spec.mime)
        ctx.save_outputs(list(outputs.values()))
        quality = params.get("quality", spec.default_quality)
        # A name reused from an interrupted attempt is ours: overwrite it.
        policy = OverwritePolicy.OVERWRITE if prev is not None else OverwritePolicy(options.overwrite)

        def write(fh: BinaryIO, image: Any = image, fmt: str = fmt, quality: Any = quality) -> None:
            imaging.save_image(image, fh, fmt, quality=quality, exif=exif, icc_profile=icc, xmp=xmp)

        target, size = write_output(
            target,
            write,
            policy=policy,
            tag=job.id[:8],
        )
        if size is None:  # SKIP, and another job took the name meanwhile
            outputs[op] = OutputRecord(
                op=op, path=str(target), size=target.stat().st_size, mime=spec.mime, skipped=True
            )
            ctx.save_outputs(list(outputs.values()))
            warnings.append(f"{target.name} already exists: skipped ({op}).")
            done_steps += 1
            continue
        outputs[op] = OutputRecord(
            op=op,
            path=str(target),
            size=size,
            mime=spec.mime,
            width=image.width,
            height=image.height,
            source_width=full_w,
            source_height=full_h,
            info=denoise_info if op == OperationType.DENOISE else None,
        )
        ctx.save_outputs(list(outputs.values()))
        log.info(
            "output written",
            extra={
                "op": op,
                "path": str(target),
                "bytes": size,
                "from": f"{full_w}x{full_h}",
                "to": f"{image.width}x{image.height}",
            },
        )
        done_steps += 1
        step_progress()

    if options.bundle_zip and file_ops and "bundle" not in outputs:
        _check_cancel(ctx)
        members = [
            (bundle_member_name(r.op, input_path, Path(r.path).suffix.lstrip(".")), Path(r.path))
            for r in outputs.values()
            if not r.skipped and Path(r.path).exists()
        ]
        name = render_name(options.naming_template, input_path=input_path, op="bundle", ext="zip", n=job.seq, when=when)
        target, skip = resolve_target(out_dir / name, OverwritePolicy(options.overwrite))
        if not skip:
            size = write_bundle(target, members, tag=job.id[:8])
            outputs["bundle"] = OutputRecord(op="bundle", path=str(target), size=size, mime="application/zip")
            ctx.save_outputs(list(outputs.values()))
        done_steps += 1
        step_progress()

    return JobResult(outputs=list(outputs.values()), metadata=metadata, warnings=warnings)
