"""Model health for `pixtools health` and the window (no torch import)."""

from __future__ import annotations

from pixtools_desktop.core.health import NOT_CONFIGURED, OK
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.ml import weights as W


def check_model(settings: Settings) -> dict[str, str]:
    """The model's line in the health report (core.health's shape)."""
    info = model_health(settings)
    status = info.get("status", "error")
    if status == "ok":
        return {"model": OK}
    if status == "missing":  # denoise is optional: no weights is "not configured", not a failure
        return {"model": f"{NOT_CONFIGURED} (run: pixtools models download)"}
    return {"model": f"{status}: {info.get('detail', '')}".strip()}


def model_health(settings=None) -> dict:
    """{"status": "ok"|"missing"|"error", "path", "sha256_ok", "detail"} - no torch import.

    Checks that the colour model file exists, its sha256 where one is
    published, and that it parses (``.mat``: the HDF5 layer table; ``.pth``:
    only existence and size, as reading it needs torch).
    """
    path = W.find_weights(settings, W.COLOR)
    gray = W.find_weights(settings, W.GRAY)
    if path is None:
        return {
            "status": "missing",
            "path": None,
            "sha256_ok": None,
            "detail": f"No denoise model installed. {W.HOW_TO_GET}",
        }
    ok = W.sha256_ok(path)
    if ok is False:
        return {
            "status": "error",
            "path": str(path),
            "sha256_ok": False,
            "detail": f"{path} does not match the published sha256 (damaged download?). {W.HOW_TO_GET}",
        }
    if ok is None:
        try:
            if path.suffix.lower() == ".mat":
                import h5py

                with h5py.File(path, "r") as f:
                    n = f["net"]["layers"].shape
                detail_extra = f"{max(n)} layers"
            else:
                if path.stat().st_size < 1024:
                    raise ValueError("file too small to be a model")
                detail_extra = "unverified .pth (architecture is checked at load)"
        except Exception as exc:  # noqa: BLE001 - any unreadable model is reported, never raised
            return {
                "status": "error",
                "path": str(path),
                "sha256_ok": None,
                "detail": f"{path} cannot be read ({exc}). {W.HOW_TO_GET}",
            }
    else:
        detail_extra = "sha256 verified"
    grey_note = f"; grey model {gray.name}" if gray else "; no grey model (grey images go through the colour model)"
    ffd = W.find_weights(settings, W.FFD_COLOR)
    ffd_note = f"; FFDNet {ffd.name}" if ffd else "; no FFDNet (`pixtools models download --model ffdnet-color`)"
    return {
        "status": "ok",
        "path": str(path),
        "sha256_ok": ok,
        "detail": f"{path.name}: {detail_extra}{grey_note}{ffd_note}",
    }
