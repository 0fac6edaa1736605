"""The Denoiser the engine's model lane uses (torch imported only on first use).

One Denoiser per settings tuple, created and used inside the model thread:
``get_denoiser`` sets torch's CPU thread count there (OpenMP's count is a
per-thread setting), and the weights load on the first ``denoise_*`` call,
so creating a Denoiser is free and importing this module never imports torch.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pixtools_desktop.core.errors import ModelUnavailableError, UnsupportedImageError
from pixtools_desktop.ml import weights as W
from pixtools_desktop.ml.policy import DenoiseRequest, Plan, request_from_params
from pixtools_desktop.ml.policy import plan as make_plan

MODES = ("default", "fast", "max")

_model_cache: dict[tuple[str, str, str], Any] = {}  # (path, device, [family-]mode) -> Runner / FFDRunner
_model_lock = threading.Lock()


def thread_count(requested: int | None) -> int:
    cores = os.cpu_count() or 1
    n = int(requested or 4)
    return max(1, min(n, cores))


def resolve_device(name: str) -> Any:
    import torch

    name = (name or "auto").lower()
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ModelUnavailableError(
                "denoise_device is 'cuda' but no CUDA device is available; set it to auto or cpu."
            )
        return torch.device("cuda")
    if name == "auto" and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def _load_runner(path: Path, device_name: str, mode: str, family: str = "dncnn"):
    key = (str(path), device_name, mode if family == "dncnn" else f"{family}-{mode}")
    with _model_lock:
        runner = _model_cache.get(key)
        if runner is None:
            prec = "fast" if mode == "fast" else "default"
            if family == "ffdnet":
                from pixtools_desktop.ml.ffdnet import load_ffdnet
                from pixtools_desktop.ml.ffdnet_infer import FFDRunner

                runner = FFDRunner(load_ffdnet(path), resolve_device(device_name), prec)
            else:
                from pixtools_desktop.ml.infer import Runner
                from pixtools_desktop.ml.model import load_model

                runner = Runner(load_model(path), resolve_device(device_name), prec)
            _model_cache[key] = runner
        return runner


def clear_model_cache() -> None:
    """Drop loaded models (and free CUDA memory) - e.g. after new weights are imported."""
    with _model_lock:
        _model_cache.clear()
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


class Denoiser:
    """DnCNN denoising of PIL images and numpy arrays.

    Colour uses CDnCNN-B (``GD_Color_Blind.mat`` or KAIR's
    ``dncnn_color_blind.pth``). Grey uses the grey-blind DnCNN-B
    (``GD_Gray_Blind.mat``) when it is installed; otherwise a grey image is
    replicated to RGB, denoised by the colour model and averaged back to one
    channel. That fallback never fails for lack of the grey model but is
    weak: R=G=B noise is perfectly correlated across channels, unlike the
    i.i.d. colour noise CDnCNN-B was trained on, and it removes little of it
    (measured: +0.2 dB on a sigma-25 CBSD68 crop, against +9 dB with
    ``GD_Gray_Blind.mat``). ``pixtools models download --model gray`` gets it.
    Alpha passes through untouched; 16-bit grey (``I;16``) is denoised in
    float and returned as 16-bit.
    """

    def __init__(
        self,
        *,
        color_path: Path | None,
        gray_path: Path | None,
        ffd_color_path: Path | None = None,
        ffd_gray_path: Path | None = None,
        device: str = "auto",
        threads: int = 4,
        mode: str = "default",
        strength: float = 1.0,
        tile: int = 0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"denoise_mode must be one of {MODES}, not {mode!r}")
        self.color_path, self.gray_path = color_path, gray_path
        self.ffd_color_path, self.ffd_gray_path = ffd_color_path, ffd_gray_path
        self.device, self.threads, self.mode = device, thread_count(threads), mode
        self.strength = float(min(max(strength, 0.0), 1.0))
        self.tile = int(tile or 0)
        self.last_tile = 0
        self.last_precision = ""

    # --- model access -----------------------------------------------------------------
    def _runner(self, channels: int):
        path = self.gray_path if channels == 1 else self.color_path
        if path is None:
            raise ModelUnavailableError(f"The denoise model is not installed. {W.HOW_TO_GET}")
        runner = _load_runner(path, self.device, self.mode)
        in_nc = runner.net.in_nc
        if in_nc != channels:
            raise ModelUnavailableError(
                f"The model file {path} is a {'grey' if in_nc == 1 else 'colour'} model, but a "
                f"{'grey' if channels == 1 else 'colour'} one is needed. {W.HOW_TO_GET}"
            )
        return runner

    def _ffd_runner(self, channels: int):
        path = self.ffd_gray_path if channels == 1 else self.ffd_color_path
        if path is None:
            raise ModelUnavailableError(f"The FFDNet denoise model is not installed. {W.HOW_TO_GET_FFDNET}")
        runner = _load_runner(path, self.device, self.mode, "ffdnet")
        if runner.in_nc != channels:
            raise ModelUnavailableError(
                f"The model file {path} is a {'grey' if runner.in_nc == 1 else 'colour'} FFDNet, but a "
                f"{'grey' if channels == 1 else 'colour'} one is needed. {W.HOW_TO_GET_FFDNET}"
            )
        return runner

    def load(self) -> None:
        """Load the colour model now (the model thread may warm up before the first job)."""
        self._set_threads()
        self._runner(3)

    def _set_threads(self) -> None:
        import torch

        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)

    @property
    def precision(self) -> str:
        try:
            return self._runner(3).precision + (" x8 self-ensemble" if self.mode == "max" else "")
        except ModelUnavailableError:
            return "unavailable"

    # --- arrays -----------------------------------------------------------------------
    def denoise_array(
        self,
        arr: np.ndarray,
        *,
        progress: Callable[[float], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        out: np.ndarray | None = None,
        request: DenoiseRequest | None = None,
    ) -> np.ndarray:
        """Denoise (H, W), (H, W, 1) or (H, W, 3): uint8, uint16, or float32 in [0, 1].

        Returns the same shape and dtype (integers rounded and clipped).
        ``request`` None: plain CDnCNN-B at the settings' strength (the API's
        denoise); a :class:`DenoiseRequest`: the desktop's (see ``ml.policy``).
        """
        return self.process_array(arr, request, progress=progress, cancelled=cancelled, out=out)[0]

    def process_array(
        self,
        arr: np.ndarray,
        request: DenoiseRequest | None,
        *,
        progress: Callable[[float], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        out: np.ndarray | None = None,
    ) -> tuple[np.ndarray, Plan | None]:
        """``denoise_array`` that also returns the :class:`Plan` (None for a plain request)."""
        self._set_threads()
        squeeze = arr.ndim == 2
        a = arr[:, :, None] if squeeze else arr
        if a.ndim != 3 or a.shape[2] not in (1, 3):
            raise ValueError(f"expected (H, W), (H, W, 1) or (H, W, 3), got {arr.shape}")
        if a.dtype not in (np.uint8, np.uint16, np.float32):
            a = a.astype(np.float32)
        res_out = None if out is None else (out[:, :, None] if out.ndim == 2 else out)
        plan = None
        if request is not None:
            from pixtools_desktop.ml.noise_level import estimate_noise

            ffd = self.ffd_color_path if a.shape[2] == 3 else (self.ffd_gray_path or self.ffd_color_path)
            dncnn = self.color_path if a.shape[2] == 3 else (self.gray_path or self.color_path)
            plan = make_plan(
                request, estimate_noise(a), ffdnet_available=ffd is not None, dncnn_available=dncnn is not None
            )
            if plan.kept or plan.strength <= 0.0:
                if progress is not None:
                    progress(1.0)
                res = a.copy() if res_out is None else _fill(res_out, a)
                return (res[:, :, 0] if squeeze else res), plan
            if plan.model == "ffdnet":
                res = self._ffdnet(a, plan, progress, cancelled, res_out)
                return (res[:, :, 0] if squeeze else res), plan
        strength = self.strength if plan is None else plan.strength
        if a.shape[2] == 1 and self.gray_path is None:
            # No grey model: through the colour model as R=G=B, then averaged back.
            rgb = np.repeat(a, 3, axis=2)
            res = self._run(rgb, 3, progress, cancelled, None, strength)
            mean = res.astype(np.float32).mean(axis=2, keepdims=True)
            if np.issubdtype(a.dtype, np.integer):
                mean = np.clip(np.rint(mean), 0, np.iinfo(a.dtype).max).astype(a.dtype)
            if res_out is not None:
                res_out[...] = mean
                res = res_out
            else:
                res = mean
        else:
            res = self._run(a, a.shape[2], progress, cancelled, res_out, strength)
        if plan is not None:
            plan.extra["precision"] = self.last_precision
        return (res[:, :, 0] if squeeze else res), plan

    def _ffdnet(self, a, plan: Plan, progress, cancelled, out):
        """FFDNet with the plan's noise level (a constant, or the local map scaled to it)."""
        from pixtools_desktop.ml.ffdnet_infer import ffdnet_tiled
        from pixtools_desktop.ml.noise_level import sigma_map

        channels = a.shape[2]
        via_colour = channels == 1 and self.ffd_gray_path is None and self.ffd_color_path is not None
        runner = self._ffd_runner(3 if via_colour else channels)
        h, w = a.shape[:2]
        if plan.noise_map == "local" and plan.estimate is not None:
            smap: np.ndarray = sigma_map(plan.estimate, (h + 1) // 2, (w + 1) // 2, scale=2.0)
            if plan.estimate.sigma > 0:
                smap *= np.float32(plan.sigma / plan.estimate.sigma)
            np.clip(smap, 0.0, 75.0, out=smap)
            plan.extra["map_range"] = [round(float(smap.min()), 2), round(float(smap.max()), 2)]
        else:
            smap = np.array(plan.sigma, dtype=np.float32)  # 0-d: a constant sigma (ffdnet_tiled's contract)
        src = np.ascontiguousarray(np.repeat(a, 3, axis=2) if via_colour else a)
        res = ffdnet_tiled(
            runner,
            src,
            smap,
            out=None if via_colour else out,
            strength=plan.strength,
            tile=self.tile,
            progress=progress,
            cancelled=cancelled,
        )
        if via_colour:  # no grey FFDNet: R=G=B through the colour one, averaged back
            mean = res.astype(np.float32).mean(axis=2, keepdims=True)
            if np.issubdtype(a.dtype, np.integer):
                mean = np.clip(np.rint(mean), 0, np.iinfo(a.dtype).max).astype(a.dtype)
            res = mean if out is None else _fill(out, mean)
        self.last_tile = runner.last_tile
        plan.extra["precision"] = runner.precision
        return res

    def _run(self, a, channels, progress, cancelled, out, strength):
        from pixtools_desktop.ml.infer import denoise_tiled

        runner = self._runner(channels)
        res = denoise_tiled(
            runner,
            np.ascontiguousarray(a),
            out=out,
            strength=strength,
            tile=self.tile,
            ensemble=self.mode == "max",
            progress=progress,
            cancelled=cancelled,
        )
        self.last_tile = runner.last_tile
        self.last_precision = runner.precision + (" x8 self-ensemble" if self.mode == "max" else "")
        return res

    # --- PIL images -------------------------------------------------------------------
    def denoise_image(
        self,
        image,
        *,
        progress: Callable[[float], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        request: DenoiseRequest | None = None,
    ):
        """Denoise a PIL image of mode L, LA, RGB, RGBA or I;16; same mode and size back.

        Palette / bilevel / CMYK images are converted to RGB (RGBA where they
        carry transparency) and come back in that mode.
        """
        return self.run_image(image, request, progress=progress, cancelled=cancelled)[0]

    def run_params(
        self,
        image,
        params: dict,
        settings=None,
        *,
        api: bool = False,
        progress: Callable[[float], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> tuple[Any, dict | None]:
        """`run_image` for a job's denoise params (what core's engine calls; the policy stays in ml)."""
        return self.run_image(
            image, request_from_params(params, settings, api=api), progress=progress, cancelled=cancelled
        )

    def run_image(
        self,
        image,
        request: DenoiseRequest | None,
        *,
        progress: Callable[[float], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> tuple[Any, dict | None]:
        """(denoised image, report for the job's result or None for a plain request)."""

        plans: list[Plan | None] = []

        def run(arr):
            res, p = self.process_array(arr, request, progress=progress, cancelled=cancelled)
            plans.append(p)
            return res

        out = self._image_apply(image, run)
        plan = plans[0] if plans else None
        if plan is not None and plan.kept:
            return image, plan.report()  # the photo as it came: the output is a re-encode of it
        return out, (plan.report() if plan is not None else None)

    def _image_apply(self, image, run: Callable[[np.ndarray], np.ndarray]):
        from PIL import Image

        mode = image.mode
        if mode in ("P", "PA", "1", "CMYK", "YCbCr", "LAB", "HSV", "RGBX", "RGBa", "La"):
            has_alpha = mode in ("PA", "RGBa", "La") or "transparency" in image.info
            image = image.convert("RGBA" if has_alpha else "RGB")
            mode = image.mode
        if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
            arr = np.asarray(image).astype(np.uint16, copy=False)
            res = run(arr)
            out = Image.fromarray(np.ascontiguousarray(res))  # uint16 2-D -> "I;16"
            if out.mode != image.mode:
                out = out.convert(image.mode) if image.mode != "I;16" else out
            return out
        if mode not in ("L", "LA", "RGB", "RGBA"):
            raise UnsupportedImageError(
                f"Denoise does not support {mode} images (use L, LA, RGB, RGBA or 16-bit grey)."
            )
        arr = np.asarray(image)
        if mode in ("LA", "RGBA"):
            color, alpha = arr[..., :-1], arr[..., -1:]
        else:
            color, alpha = (arr[..., None] if arr.ndim == 2 else arr), None
        res = run(np.ascontiguousarray(color))
        if alpha is not None:
            res = np.concatenate([res, alpha], axis=2)  # alpha untouched, byte for byte
        elif mode == "L":
            res = res[:, :, 0]
        out = Image.fromarray(np.ascontiguousarray(res), mode=None)
        if out.mode != mode:
            out = out.convert(mode)
        out.info.update({k: v for k, v in image.info.items() if k in ("icc_profile", "exif", "dpi")})
        return out


def _fill(out: np.ndarray, src: np.ndarray) -> np.ndarray:
    out[...] = src
    return out


_denoisers: dict[tuple, Denoiser] = {}
_denoisers_lock = threading.Lock()


def _settings_key(settings) -> tuple:
    color = W.find_weights(settings, W.COLOR)
    gray = W.find_weights(settings, W.GRAY)
    ffc = W.find_weights(settings, W.FFD_COLOR)
    ffg = W.find_weights(settings, W.FFD_GRAY)
    return (
        str(color) if color else None,
        str(gray) if gray else None,
        str(ffc) if ffc else None,
        str(ffg) if ffg else None,
        getattr(settings, "denoise_device", "auto"),
        thread_count(getattr(settings, "denoise_threads", 4)),
        getattr(settings, "denoise_mode", "default"),
        float(getattr(settings, "denoise_strength", 1.0)),
        int(getattr(settings, "denoise_tile", 0) or 0),
    )


def get_denoiser(settings=None) -> Denoiser:
    """The Denoiser for these settings (cached per settings tuple).

    Call it inside the model thread: it sets torch's thread count there.
    Weights load lazily on the first ``denoise_*`` call. If the colour model is
    missing the Denoiser is still returned; using it raises
    :class:`ModelUnavailableError` saying how to get the weights.
    """
    if settings is None:
        from pixtools_desktop.core.settings import Settings

        settings = Settings()
    key = _settings_key(settings)
    with _denoisers_lock:
        d = _denoisers.get(key)
        if d is None:
            color, gray, ffc, ffg, device, threads, mode, strength, tile = key
            d = Denoiser(
                color_path=Path(color) if color else None,
                gray_path=Path(gray) if gray else None,
                ffd_color_path=Path(ffc) if ffc else None,
                ffd_gray_path=Path(ffg) if ffg else None,
                device=device,
                threads=threads,
                mode=mode,
                strength=strength,
                tile=tile,
            )
            _denoisers[key] = d
    d._set_threads()
    return d
