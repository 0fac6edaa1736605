"""What a denoise request means for one photo, given its noise estimate (no torch here).

A photographer's photos are mostly not the benchmark's: many are already
clean, and a blind model run at full strength on a clean, colourful photo
changes it visibly. So the desktop denoise works from a noise-level
estimate (:mod:`pixtools_desktop.ml.noise_level`):

* ``sigma="auto"`` (the default): a photo whose estimate is at or below
  :data:`CLEAN_SIGMA` is "already clean - kept" (its pixels go to the output
  unchanged, re-encoded in the chosen format so every job of a batch has its
  output) unless ``force`` is set. Otherwise FFDNet gets the estimate as its
  noise level, and DnCNN's strength follows :func:`dncnn_strength`.
* ``sigma=<number>`` (0..75): the user's noise level, no clean rule: FFDNet
  uses it (a local map is scaled so its overall level is that number) and
  DnCNN's strength follows it the same way.
* ``strength`` (0..1) multiplies whatever the above decided (1 by default).

The API profile does none of this: plain CDnCNN-B at full strength, as
upstream (see :func:`request_from_params`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pixtools_desktop.ml.noise_level import CLEAN_SIGMA, NoiseEstimate

MODELS = ("dncnn", "ffdnet")
NOISE_MAPS = ("global", "local")
MAX_SIGMA = 75.0
# DnCNN strength ramp (sigma in 0..255 units): nothing at the clean threshold, full from RAMP_FULL.
RAMP_FULL = 3.5  # measured: at true sigma 3 (reads 3.1..7.5) full strength gains most; clean crops reading 2.7 keep >= 58 dB at 0.25


@dataclass(frozen=True)
class DenoiseRequest:
    """The desktop's denoise parameters (validated in core.ops)."""

    model: str = "dncnn"
    sigma: float | str = "auto"
    noise_map: str = "global"
    force: bool = False
    strength: float = 1.0

    @property
    def auto(self) -> bool:
        return self.sigma == "auto"


@dataclass
class Plan:
    """What will be done to one photo, and what the result card shows."""

    model: str
    kept: bool
    sigma: float  # the noise level used (FFDNet's input; DnCNN's strength follows it)
    sigma_source: str  # "auto" (the estimate) or "user"
    strength: float  # blend of input and result actually applied
    noise_map: str
    estimate: NoiseEstimate | None
    extra: dict[str, Any] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        """The job result's ``info`` for the denoise output (JSON-safe)."""
        d: dict[str, Any] = {
            "model": self.model,
            "kept": self.kept,
            "sigma_used": round(self.sigma, 2),
            "sigma_source": self.sigma_source,
            "strength": round(self.strength, 3),
            "noise_map": self.noise_map,
        }
        if self.estimate is not None:
            d["estimate"] = self.estimate.to_json()
        if self.kept:
            d["note"] = (
                f"already clean - kept (estimated noise {self.estimate.sigma if self.estimate else 0:.1f} "
                f"is at or below {CLEAN_SIGMA}); set a sigma or force to denoise anyway"
            )
        d.update(self.extra)
        return d


def dncnn_strength(sigma: float) -> float:
    """CDnCNN-B's blend weight for a photo of noise level ``sigma``: 0 at CLEAN_SIGMA, 1 from RAMP_FULL."""
    if sigma <= CLEAN_SIGMA:
        return 0.0
    return float(min(1.0, (sigma - CLEAN_SIGMA) / (RAMP_FULL - CLEAN_SIGMA)))


def plan(request: DenoiseRequest, estimate: NoiseEstimate | None) -> Plan:
    """Decide model, noise level, strength and the clean rule for one photo."""
    if request.auto:
        if estimate is None:
            raise ValueError("sigma 'auto' needs a noise estimate")
        sigma, source = float(estimate.sigma), "auto"
    else:
        sigma, source = float(min(max(float(request.sigma), 0.0), MAX_SIGMA)), "user"
    kept = request.auto and not request.force and sigma <= CLEAN_SIGMA
    user = float(min(max(request.strength, 0.0), 1.0))
    if kept:
        strength = 0.0
    elif request.model == "dncnn":
        strength = user * (1.0 if request.force and request.auto and sigma <= CLEAN_SIGMA else dncnn_strength(sigma))
    else:
        strength = user
    return Plan(request.model, kept, sigma, source, strength, request.noise_map, estimate)


def request_from_params(params: dict, settings: Any = None, *, api: bool = False) -> DenoiseRequest | None:
    """The request for a job's denoise params; None means plain CDnCNN-B (the API profile, as upstream)."""
    if api:
        return None
    default_model = getattr(settings, "denoise_model", "dncnn") if settings is not None else "dncnn"
    default_sigma = getattr(settings, "denoise_sigma", "auto") if settings is not None else "auto"
    strength = params.get("strength", getattr(settings, "denoise_strength", 1.0) if settings is not None else 1.0)
    return DenoiseRequest(
        model=params.get("model", default_model),
        sigma=params.get("sigma", default_sigma),
        noise_map=params.get("noise_map", "global"),
        force=bool(params.get("force", False)),
        strength=float(strength),
    )
