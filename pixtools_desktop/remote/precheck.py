"""Refuse locally what a PixTools server would refuse, before any upload.

A user with a 40 MB TIFF and "denoise, mode max" should read why at once,
not after a round trip per file. The rules are the API's (10 MB, four
content types, API operations only, the same validation texts via
`core.ops` under the API profile, same-format refused) plus the desktop
options a server cannot honour. A desktop resize is translated so the server
gives the size the desktop would, and left out when it would only enlarge.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pixtools_desktop.core.errors import ErrorCode, JobError, ValidationError
from pixtools_desktop.core.jobs import Job
from pixtools_desktop.core.ops import DENOISE_DESKTOP_OPTIONS, api_params_for_desktop_job, validate_request
from pixtools_desktop.core.profile import API, API_MAX_UPLOAD_MB
from pixtools_desktop.core.sniff import describe, sniff_file

API_MAX_UPLOAD_BYTES = API_MAX_UPLOAD_MB * 1024 * 1024
_DESKTOP_DENOISE_OPTIONS = DENOISE_DESKTOP_OPTIONS
# Desktop denoise extras at the values a PixTools server applies anyway (plain
# CDnCNN-B, written as PNG): the window's Denoise preset names them, and a job
# that asks for nothing the server would not do is sent without them.
_SERVER_EQUIVALENT = {
    "format": "png",
    "mode": "default",
    "strength": 1.0,
    "model": "dncnn",
    "sigma": "auto",
    "noise_map": "global",
    "force": False,
}
# model "auto" (the desktop default) lets the backend choose: a PixTools server's choice is CDnCNN-B.
_SERVER_CHOICES = {"model": "auto"}


def _without_server_defaults(params: dict) -> dict:
    denoise = params.get("denoise")
    if not isinstance(denoise, dict):
        return params
    kept = {
        k: v
        for k, v in denoise.items()
        if not (k in _SERVER_EQUIVALENT and v == _SERVER_EQUIVALENT[k] and type(v) is type(_SERVER_EQUIVALENT[k]))
        and not (isinstance(v, str) and _SERVER_CHOICES.get(k) == v)
    }
    if isinstance(denoise.get("strength"), int | float) and float(denoise["strength"]) == 1.0:
        kept.pop("strength", None)
    return {**params, "denoise": kept}


_TYPE_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/avif": "AVIF"}


@dataclass(frozen=True)
class Upload:
    path: Path
    filename: str
    mime: str
    operations: list[str]
    params: dict


def prepare_upload(job: Job, *, max_bytes: int = API_MAX_UPLOAD_BYTES) -> Upload:
    """What to send for this job, or a JobError saying why a server would refuse it."""
    path = Path(job.input_path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise JobError(f"The file {path} no longer exists (moved or deleted?).", code=ErrorCode.MISSING_INPUT) from None
    except OSError as exc:
        raise JobError(f"Cannot read {path}: {exc.strerror or exc}.", code=ErrorCode.MISSING_INPUT) from exc
    if size > max_bytes:
        raise JobError(
            f"This file is {size / (1024 * 1024):.1f} MB; PixTools servers accept at most "
            f"{max_bytes // (1024 * 1024)} MB per file. Use the local engine for it, or shrink it first.",
            code=ErrorCode.TOO_LARGE,
        )
    try:
        mime, head = sniff_file(path)
    except OSError as exc:
        raise JobError(f"Cannot read {path}: {exc.strerror or exc}.", code=ErrorCode.MISSING_INPUT) from exc
    if mime is None:
        raise JobError(
            f"PixTools servers accept only JPEG, PNG, WebP and AVIF files; this file is {describe(head)}. "
            "Use the local engine for it.",
            code=ErrorCode.UNSUPPORTED,
        )
    if "tiff" in job.operations:
        raise JobError(
            "TIFF output is a desktop-only operation that PixTools servers do not offer. "
            "Use the local engine, or choose jpg, png, webp or avif.",
            code=ErrorCode.REJECTED,
        )
    params = _without_server_defaults(job.params)
    extras = [k for k in _DESKTOP_DENOISE_OPTIONS if k in params.get("denoise", {})]
    if extras:
        raise JobError(
            f"Denoise {', '.join(extras)} "
            f"{'is a desktop-only option' if len(extras) == 1 else 'are desktop-only options'}"
            " that PixTools servers do not offer (they always write a PNG with the default model). "
            "Remove it or use the local engine.",
            code=ErrorCode.REJECTED,
        )
    # The desktop's resize (fit within the box, never enlarge unless asked) in
    # terms the API gives the same size for; an unwanted enlargement is left out.
    if any(p.get("resize") for p in params.values()):
        from pixtools_desktop.core.imaging.decode import upright_size_of

        with open(path, "rb") as fh:
            params = api_params_for_desktop_job(params, upright_size_of(fh))
    try:
        request = validate_request(job.operations, params, path.name, profile=API)
    except ValidationError as exc:
        raise JobError(f"The server would reject this job: {exc.detail}", code=ErrorCode.REJECTED) from exc
    return Upload(
        path=path,
        filename=path.name,
        mime=mime,
        operations=[op.value for op in request.operations],
        params=request.params,
    )


def type_name(mime: str) -> str:
    return _TYPE_NAMES.get(mime, mime)
