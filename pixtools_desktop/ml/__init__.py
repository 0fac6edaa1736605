"""DnCNN and FFDNet denoising. Importing this package does not import torch.

Public API (all torch-free until a model is used):

* :func:`get_denoiser` (settings) -> :class:`Denoiser`: call it in the model thread;
  ``Denoiser.denoise_image(img, progress=, cancelled=)`` and
  ``Denoiser.denoise_array(arr, ...)``.
* :func:`model_health` (settings) -> dict for ``pixtools health``.
* :func:`denoise_array` (arr, settings=None, ...): one-shot convenience.
* :func:`find_weights` (settings, kind) -> Path | None.
* :class:`DenoiseRequest` (model, sigma, noise_map, force, strength): the desktop's
  denoise; ``Denoiser.run_image(img, request)`` -> (image, report for the job result).
* :func:`estimate_noise` (numpy only): global sigma and a 64 px block map, 0..255.
"""

from __future__ import annotations

from typing import Any

from pixtools_desktop.ml.denoiser import MODES, Denoiser, clear_model_cache, get_denoiser
from pixtools_desktop.ml.health import model_health
from pixtools_desktop.ml.noise_level import NoiseEstimate, estimate_noise
from pixtools_desktop.ml.policy import DenoiseRequest
from pixtools_desktop.ml.weights import COLOR, FFD_COLOR, FFD_GRAY, GRAY, HOW_TO_GET, find_weights, installed_weights


def denoise_array(arr: Any, settings: Any = None, **kwargs: Any) -> Any:
    """Denoise a numpy array with the Denoiser for ``settings`` (see ``Denoiser.denoise_array``)."""
    return get_denoiser(settings).denoise_array(arr, **kwargs)


__all__ = [
    "COLOR",
    "FFD_COLOR",
    "FFD_GRAY",
    "GRAY",
    "DenoiseRequest",
    "NoiseEstimate",
    "estimate_noise",
    "HOW_TO_GET",
    "MODES",
    "Denoiser",
    "clear_model_cache",
    "denoise_array",
    "find_weights",
    "get_denoiser",
    "installed_weights",
    "model_health",
]
