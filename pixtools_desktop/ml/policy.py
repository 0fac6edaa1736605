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
* ``model="auto"`` (the desktop default): FFDNet with the local noise map
  where the estimate shows the photo is noisy, CDnCNN-B with the strength
  ramp where it may be texture. The global estimate alone cannot tell: clean,
  textured photos read up to 14 and FFDNet trusting that takes them to 41 dB,
  while low camera noise after JPEG reads 5.5-13. Colour noise at half
  resolution (:func:`~pixtools_desktop.ml.noise_level.chroma_noise`) tells
  them apart on 92 crops (clean <= 1.37, that camera noise >= 2.0 on 88),
  so FFDNet is chosen when it reads at least :data:`CHROMA_NOISE`, or when
  the estimate is above anything texture was measured to read
  (:data:`TEXTURE_MAX`; grey photos have only this rule), or when the user
  gives a numeric sigma (they say the photo is noisy). Otherwise CDnCNN-B
  with its strength ramp, halved for a colour photo (:data:`TEXTURE_STRENGTH`:
  no colour noise, so the estimate is most likely texture).

The API profile does none of this: plain CDnCNN-B at full strength, as
upstream (see :func:`request_from_params`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pixtools_desktop.ml.noise_level import CLEAN_SIGMA, NoiseEstimate

MODELS = ("auto", "dncnn", "ffdnet")
DEFAULT_MODEL = "auto"  # measured: benchmarks/denoise_realistic.py (README "Denoising real photos")
# model "auto": FFDNet when the half-resolution colour noise reads at least this. Measured on the centre
# 256 px crops of all 92 Kodak24 + CBSD68 images: clean 0.19-1.37; camera noise a=0.004 (JPEG q90) reads
# >= 2.0 on 88 of 92 (the others 0.84-1.68), a=0.02 5.8-11.8 ...
CHROMA_NOISE = 1.7
# ... or the global estimate reads above the highest clean, textured crop measured (13.8 on those 92).
TEXTURE_MAX = 20.0
# A colour photo auto sends to DnCNN (no colour noise) gets this share of its strength: full-strength
# CDnCNN-B takes a saturated, textured clean crop (CBSD68 291000, estimate 9.3) to 43.8 dB; half keeps >= 45.
TEXTURE_STRENGTH = 0.5
NOISE_MAPS = ("global", "local")
MAX_SIGMA = 75.0
# DnCNN strength ramp (sigma in 0..255 units): nothing at the clean threshold, full from RAMP_FULL.
# Measured: at true sigma 3 (reads 3.1..7.5) full strength gains most; clean crops reading 2.7
# keep >= 58 dB at 0.25.
RAMP_FULL = 3.5


@dataclass(frozen=True)
class DenoiseRequest:
    """The desktop's denoise parameters (validated in core.ops)."""

    model: str = DEFAULT_MODEL
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

    model: str  # the model used ("auto" resolved)
    kept: bool
    sigma: float  # the noise level used (FFDNet's input; DnCNN's strength follows it)
    sigma_source: str  # "auto" (the estimate) or "user"
    strength: float  # blend of input and result actually applied
    noise_map: str
    estimate: NoiseEstimate | None
    extra: dict[str, Any] = field(default_factory=dict)
    choice: str = ""  # model "auto": why this model

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
        if self.choice:
            d["model_choice"] = self.choice
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


def choose_model(
    request: DenoiseRequest,
    estimate: NoiseEstimate | None,
    ffdnet_available: bool = True,
    dncnn_available: bool = True,
) -> tuple[str, str]:
    """(model, why) for ``model="auto"``: FFDNet where the photo is shown to be noisy, else CDnCNN-B;
    the one installed when only one is."""
    if not ffdnet_available:
        return "dncnn", "auto: FFDNet is not installed - DnCNN"
    if not dncnn_available:
        return "ffdnet", "auto: DnCNN is not installed - FFDNet"
    if not request.auto:
        return "ffdnet", "auto: a sigma was given - FFDNet"
    if estimate is None:
        return "dncnn", "auto: no estimate - DnCNN"
    if estimate.chroma is not None and estimate.chroma >= CHROMA_NOISE:
        return "ffdnet", f"auto: colour noise {estimate.chroma:.1f} >= {CHROMA_NOISE} - FFDNet, local map"
    if estimate.sigma > TEXTURE_MAX:
        return "ffdnet", f"auto: estimate {estimate.sigma:.1f} > {TEXTURE_MAX} - FFDNet, local map"
    why = "no colour noise" if estimate.chroma is None else f"colour noise {estimate.chroma:.1f} < {CHROMA_NOISE}"
    share = "" if estimate.chroma is None else f" x {TEXTURE_STRENGTH}"
    return "dncnn", f"auto: {why}, the estimate may be texture - DnCNN, strength by estimate{share}"


def plan(
    request: DenoiseRequest,
    estimate: NoiseEstimate | None,
    ffdnet_available: bool = True,
    dncnn_available: bool = True,
) -> Plan:
    """Decide model, noise level, strength and the clean rule for one photo."""
    if request.model == "auto":
        model, why = choose_model(request, estimate, ffdnet_available, dncnn_available)
        p = plan(replace(request, model=model), estimate)
        p.choice = why
        texture = (
            estimate is not None
            and estimate.chroma is not None
            and estimate.chroma < CHROMA_NOISE
            and estimate.sigma <= TEXTURE_MAX
        )
        if model == "dncnn" and request.auto and texture:
            # Colour says clean: what the estimate read is likely texture. Not when DnCNN stands in for a
            # missing FFDNet on a photo whose colour noise says it is noisy: that one gets full strength.
            p.strength *= TEXTURE_STRENGTH
        return p
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
    default_model = getattr(settings, "denoise_model", DEFAULT_MODEL) if settings is not None else DEFAULT_MODEL
    default_sigma = getattr(settings, "denoise_sigma", "auto") if settings is not None else "auto"
    strength = params.get("strength", getattr(settings, "denoise_strength", 1.0) if settings is not None else 1.0)
    model = params.get("model", default_model)
    return DenoiseRequest(
        model=model,
        sigma=params.get("sigma", default_sigma),
        noise_map=params.get("noise_map", "local" if model == "auto" else "global"),
        force=bool(params.get("force", False)),
        strength=float(strength),
    )
