"""Operations and their parameters, validated exactly as the PixTools API does.

The verdicts and `detail` texts below mirror the PixTools server's
`POST /api/process` so that a job valid here is valid remotely, and a user
sees the same message whichever backend runs it. Which rules apply is a
`core.profile.Profile`: the API profile (remote backend, `pixtools serve`;
`api_compatible=True` is its old spelling) refuses `tiff`, the desktop extras
and same-format conversions as upstream does; the desktop profile (the
default) accepts them: a same-format op is a re-encode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.json_limits import loads_limited  # size/depth caps before parsing (serve, CLI)
from pixtools_desktop.core.profile import API, DESKTOP, Profile


class OperationType(StrEnum):
    JPG = "jpg"
    PNG = "png"
    WEBP = "webp"
    AVIF = "avif"
    DENOISE = "denoise"
    METADATA = "metadata"
    TIFF = "tiff"  # desktop extra


API_OPERATIONS: tuple[OperationType, ...] = (
    OperationType.JPG,
    OperationType.PNG,
    OperationType.WEBP,
    OperationType.AVIF,
    OperationType.DENOISE,
    OperationType.METADATA,
)

QUALITY_SUPPORTED_OPS = {"jpg", "webp"}
RESIZE_SUPPORTED_OPS = {"jpg", "png", "webp", "avif", "denoise", "tiff"}
API_RESIZE_SUPPORTED_OPS = {"jpg", "png", "webp", "avif", "denoise"}

# The API takes the source format from the file name's extension.
EXT_TO_FORMAT = {"jpg": "jpg", "jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}
DESKTOP_EXT_TO_FORMAT = {**EXT_TO_FORMAT, "tif": "tiff", "tiff": "tiff"}


@dataclass(frozen=True)
class OutputFormat:
    """How a file-producing op is written."""

    pil_format: str
    ext: str
    mime: str
    default_quality: int | None = None
    has_alpha: bool = True


OUTPUT_FORMATS: dict[str, OutputFormat] = {
    "jpg": OutputFormat("JPEG", "jpg", "image/jpeg", 85, has_alpha=False),
    "png": OutputFormat("PNG", "png", "image/png"),
    "webp": OutputFormat("WEBP", "webp", "image/webp", 80),
    "avif": OutputFormat("AVIF", "avif", "image/avif"),
    "tiff": OutputFormat("TIFF", "tiff", "image/tiff"),
    "denoise": OutputFormat("PNG", "png", "image/png"),
}


def produces_file(op: str) -> bool:
    return op != OperationType.METADATA


def _profile(profile: Profile | None, api_compatible: bool) -> Profile:
    if profile is not None:
        return profile
    return API if api_compatible else DESKTOP


def parse_operations(
    raw: str | list[str], *, api_compatible: bool = False, profile: Profile | None = None
) -> list[OperationType]:
    """Parse the `operations` field (a JSON array string or a list)."""
    prof = _profile(profile, api_compatible)
    valid = API_OPERATIONS if prof.api_operations_only else tuple(OperationType)
    try:
        items = loads_limited(raw, "operations") if isinstance(raw, str) else list(raw)
        if not isinstance(items, list):
            raise ValueError(f"{items!r} is not a valid OperationType")
        ops: list[OperationType] = []
        for item in items:
            op = OperationType(item)
            if op not in valid:
                raise ValueError(f"{item!r} is not a valid OperationType")
            ops.append(op)
    except (json.JSONDecodeError, ValueError, TypeError) as exc:
        raise ValidationError(f"Invalid operations: {exc}") from exc
    if not ops:
        raise ValidationError("At least one operation is required")
    # Duplicates would only produce the same file twice.
    return list(dict.fromkeys(ops))


def _int_field(op: str, field: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValidationError(f"operation_params['{op}'].{field} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"operation_params['{op}'].{field} must be an integer") from exc


def parse_operation_params(
    raw: str | dict[str, Any] | None,
    ops: list[OperationType],
    *,
    api_compatible: bool = False,
    profile: Profile | None = None,
) -> dict[str, dict[str, Any]]:
    """Validate `operation_params`, returning only the params of requested ops.

    Desktop extra: `resize.enlarge` (bool, default false: never make an image
    bigger). The API profile ignores it, as upstream ignores unknown keys.
    """
    prof = _profile(profile, api_compatible)
    api_compatible = prof.api_operations_only
    if raw is None or raw == "" or raw == {}:
        return {}
    if isinstance(raw, str):
        try:
            parsed = loads_limited(raw, "operation_params")
        except json.JSONDecodeError as exc:
            raise ValidationError(f"Invalid operation_params JSON: {exc}") from exc
    else:
        parsed = raw
    if not isinstance(parsed, dict):
        raise ValidationError("operation_params must be a JSON object")

    resize_ops = API_RESIZE_SUPPORTED_OPS if api_compatible else RESIZE_SUPPORTED_OPS
    allowed = {op.value for op in ops}
    normalized: dict[str, dict[str, Any]] = {}
    for op_name, op_params in parsed.items():
        if op_name not in allowed:
            continue
        if not isinstance(op_params, dict):
            raise ValidationError(f"operation_params['{op_name}'] must be an object")
        out: dict[str, Any] = {}
        quality = op_params.get("quality")
        if quality is not None:
            if op_name not in QUALITY_SUPPORTED_OPS:
                raise ValidationError(f"operation_params['{op_name}'].quality is only supported for jpg/webp")
            q = _int_field(op_name, "quality", quality)
            if q < 1 or q > 100:
                raise ValidationError(f"operation_params['{op_name}'].quality must be 1..100")
            out["quality"] = q
        resize = op_params.get("resize")
        if resize is not None:
            if op_name not in resize_ops:
                supported = "/".join(sorted(resize_ops, key=["jpg", "png", "webp", "avif", "denoise", "tiff"].index))
                raise ValidationError(f"operation_params['{op_name}'].resize is only supported for {supported}")
            if not isinstance(resize, dict):
                raise ValidationError(f"operation_params['{op_name}'].resize must be an object")
            width, height = resize.get("width"), resize.get("height")
            if width is None and height is None:
                raise ValidationError(f"operation_params['{op_name}'].resize requires width or height")
            resize_out: dict[str, Any] = {}
            for field, value in (("width", width), ("height", height)):
                if value is None:
                    continue
                n = _int_field(op_name, f"resize.{field}", value)
                if n <= 0:
                    raise ValidationError(f"operation_params['{op_name}'].resize.{field} must be > 0")
                resize_out[field] = n
            enlarge = resize.get("enlarge")
            if enlarge is not None and not api_compatible:
                if not isinstance(enlarge, bool):
                    raise ValidationError(f"operation_params['{op_name}'].resize.enlarge must be true or false")
                if enlarge:
                    resize_out["enlarge"] = True  # false is the desktop default: not stored
            out["resize"] = resize_out
        if op_name == "denoise" and not api_compatible:
            out.update(_denoise_extras(op_params))
        if out:
            normalized[op_name] = out
    return normalized


DENOISE_FORMATS = ("png", "tiff", "jpg", "webp", "avif")
DENOISE_MODES = ("default", "fast", "max")
DENOISE_MODELS = ("auto", "dncnn", "ffdnet")
DENOISE_NOISE_MAPS = ("global", "local")
DENOISE_MAX_SIGMA = 75
# Every desktop-only denoise option: the API profile drops them in validation (as upstream ignores
# unknown params) and the remote precheck refuses a job that carries any.
DENOISE_DESKTOP_OPTIONS = ("format", "mode", "strength", "model", "sigma", "noise_map", "force")


def _denoise_extras(op_params: dict[str, Any]) -> dict[str, Any]:
    """Desktop-only denoise options: output format, model mode, strength, model, sigma, noise map, force."""
    out: dict[str, Any] = {}
    fmt = op_params.get("format")
    if fmt is not None:
        if fmt not in DENOISE_FORMATS:
            raise ValidationError(f"operation_params['denoise'].format must be one of {'/'.join(DENOISE_FORMATS)}")
        out["format"] = fmt
    mode = op_params.get("mode")
    if mode is not None:
        if mode not in DENOISE_MODES:
            raise ValidationError(f"operation_params['denoise'].mode must be one of {'/'.join(DENOISE_MODES)}")
        out["mode"] = mode
    strength = op_params.get("strength")
    if strength is not None:
        try:
            value = float(strength)
        except (TypeError, ValueError) as exc:
            raise ValidationError("operation_params['denoise'].strength must be a number") from exc
        if not 0.0 <= value <= 1.0:
            raise ValidationError("operation_params['denoise'].strength must be 0..1")
        out["strength"] = value
    model = op_params.get("model")
    if model is not None:
        if model not in DENOISE_MODELS:
            raise ValidationError(f"operation_params['denoise'].model must be one of {'/'.join(DENOISE_MODELS)}")
        out["model"] = model
    sigma = op_params.get("sigma")
    if sigma is not None and sigma != "auto":
        if isinstance(sigma, bool):
            raise ValidationError("operation_params['denoise'].sigma must be \"auto\" or a number 0..75")
        try:
            value = float(sigma)
        except (TypeError, ValueError) as exc:
            raise ValidationError("operation_params['denoise'].sigma must be \"auto\" or a number 0..75") from exc
        if not 0.0 <= value <= DENOISE_MAX_SIGMA:  # NaN fails too
            raise ValidationError("operation_params['denoise'].sigma must be \"auto\" or a number 0..75")
        out["sigma"] = value
    elif sigma == "auto":
        out["sigma"] = "auto"
    noise_map = op_params.get("noise_map")
    if noise_map is not None:
        if noise_map not in DENOISE_NOISE_MAPS:
            raise ValidationError(
                f"operation_params['denoise'].noise_map must be one of {'/'.join(DENOISE_NOISE_MAPS)}"
            )
        out["noise_map"] = noise_map
    force = op_params.get("force")
    if force is not None:
        if not isinstance(force, bool):
            raise ValidationError("operation_params['denoise'].force must be true or false")
        out["force"] = force
    return out


def source_format_from_name(
    filename: str | None, *, api_compatible: bool = False, profile: Profile | None = None
) -> tuple[str | None, str | None]:
    """(extension, format) as the API derives them from the file name."""
    if not filename or "." not in filename:
        return None, None
    ext = filename.rsplit(".", 1)[-1].lower()
    table = EXT_TO_FORMAT if _profile(profile, api_compatible).api_operations_only else DESKTOP_EXT_TO_FORMAT
    return ext, table.get(ext)


def check_same_format(
    filename: str | None, ops: list[OperationType], *, api_compatible: bool = False, profile: Profile | None = None
) -> None:
    """The API refuses a conversion to the source's own format (named by the file's extension).

    Only the API profile does: on the desktop a same-format op is a re-encode
    (resize, quality, orientation, metadata), the most common batch job there is.
    """
    prof = _profile(profile, api_compatible)
    if not prof.refuse_same_format:
        return
    ext, fmt = source_format_from_name(filename, profile=prof)
    for op in ops:
        if op in (OperationType.DENOISE, OperationType.METADATA):
            continue
        if fmt is not None and op.value == fmt:
            raise ValidationError(f"Cannot convert {ext} to {op.value} - source and target formats are the same")


def validate_webhook_url(url: str | None) -> str:
    """Accept only absolute http(s) URLs (the API's rule); empty means none."""
    from urllib.parse import urlparse

    if not url:
        return ""
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ValidationError("webhook_url must be a valid http(s) URL")
    return url


@dataclass(frozen=True)
class OperationRequest:
    """A validated request: the ops in order and their normalized params."""

    operations: tuple[OperationType, ...]
    params: dict[str, dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"operations": [op.value for op in self.operations], "params": self.params}


def validate_request(
    operations: str | list[str],
    operation_params: str | dict[str, Any] | None,
    filename: str | None,
    *,
    api_compatible: bool = False,
    profile: Profile | None = None,
    source_size: tuple[int, int] | None = None,
    max_pixels: int = 0,
) -> OperationRequest:
    """Validate in the API's order: operations, params, then same-format.

    With `source_size` (upright width, height) and `max_pixels`, the size each
    op would produce is checked too (`check_output_size`).
    """
    prof = _profile(profile, api_compatible)
    ops = parse_operations(operations, profile=prof)
    params = parse_operation_params(operation_params, ops, profile=prof)
    check_same_format(filename, ops, profile=prof)
    if source_size is not None:
        check_output_size(params, source_size, max_pixels=max_pixels, profile=prof)
    return OperationRequest(tuple(ops), params)


def check_output_size(
    params: dict[str, dict[str, Any]], source_size: tuple[int, int], *, max_pixels: int, profile: Profile | None = None
) -> None:
    """Refuse (422) a resize whose output would exceed `max_pixels`, before any work is done.

    The decompression-bomb guard checks what comes in; this checks what a
    resize would make (a 64 x 48 PNG asked for 20000 x 20000 is 400 MP).
    `max_pixels <= 0` disables it.
    """
    from pixtools_desktop.core.imaging.decode import too_large_output_message
    from pixtools_desktop.core.imaging.transform import planned_size

    if max_pixels <= 0:
        return
    prof = profile or DESKTOP
    for op_name, op_params in params.items():
        resize = op_params.get("resize")
        if not resize:
            continue
        w, h = planned_size(source_size[0], source_size[1], resize, prof)
        if w * h > max_pixels:
            raise ValidationError(f"operation_params['{op_name}'].resize: {too_large_output_message(w, h, max_pixels)}")


def check_upload_output_size(
    params: dict[str, dict[str, Any]], upload: Any, *, max_pixels: int, profile: Profile | None = None
) -> None:
    """`check_output_size` for an uploaded file (a binary stream), from its header alone.

    What `pixtools serve` calls at submit, so a resize bomb is a 422 before any
    work. A header that cannot be read is left to the engine (the job then
    fails as damaged, as upstream's would).
    """
    from pixtools_desktop.core.imaging.decode import upright_size_of

    if max_pixels <= 0 or not any(p.get("resize") for p in params.values()):
        return
    size = upright_size_of(upload)
    if size is not None:
        check_output_size(params, size, max_pixels=max_pixels, profile=profile)


def api_params_for_desktop_job(
    params: dict[str, dict[str, Any]], source_size: tuple[int, int] | None
) -> dict[str, dict[str, Any]]:
    """A desktop job's params, rewritten so a PixTools server gives the size the desktop would.

    The API resizes to exactly the box (enlarging, distorting when both sides
    are given); the desktop fits within the box and never enlarges unless
    `resize.enlarge` is true. So: a resize that would enlarge against the
    user's wish is left out; a box (both sides) becomes its limiting side, which
    upstream scales with the same arithmetic; `enlarge` itself is not sent.
    Without the source size (unreadable header) only `enlarge` is removed.
    """
    from pixtools_desktop.core.imaging.transform import planned_size

    out: dict[str, dict[str, Any]] = {}
    for op_name, op_params in params.items():
        op_params = dict(op_params)
        resize = op_params.pop("resize", None)
        if resize:
            api_resize = {k: v for k, v in resize.items() if k in ("width", "height")}
            if source_size is not None:
                src_w, src_h = source_size
                w, h = planned_size(src_w, src_h, resize, DESKTOP)
                if (w, h) == (src_w, src_h):
                    api_resize = {}  # the desktop would not change the size: nothing to ask
                elif "width" in api_resize and "height" in api_resize:
                    api_resize = {"width": w} if w == api_resize["width"] else {"height": h}
            if api_resize:
                op_params["resize"] = api_resize
        if op_params or op_name in params:
            out[op_name] = op_params
    return {k: v for k, v in out.items() if v}
