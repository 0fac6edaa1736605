"""Tiled DnCNN inference (imports torch: load lazily, in the model thread).

Exactness: every 3x3 conv widens the receptive field by one pixel, so an
output pixel depends on inputs at most ``nb`` pixels away (20 for the blind
models). Each tile is computed on its core plus a margin of ``nb`` pixels of
*real* image on every side that has one; where a tile touches the image
border, the network's own zero padding applies exactly as it does for the
whole image. So the tiled result is the whole-image result, up to the
floating-point summation order of the conv kernels (tests: 8-bit outputs
identical).

Precision plans (``mode``):

* ``default``: fp32, channels_last.
* ``fast``: the middle convolutions in bf16 (CPU with AVX512-BF16 or AMX) or
  fp16 (CUDA); the first conv and the last two stay in fp32. The bf16
  rounding of the features feeding the last layers causes most of the loss
  (plain bf16 autocast loses ~0.09 dB at sigma 25). Measured on 8 CBSD68
  images, sigma 25, against fp32 (benchmarks/denoise_quality.py):
  first 2 + last 3 in fp32 lose 0.033 dB at 5.10 s/MP; first 1 + last 2
  (chosen) 0.048 dB at 4.68 s/MP; first 1 + last 1 0.072 dB at 4.43 s/MP.
  The first and last convs have 3 channels, so keeping them costs nothing;
  each 64-channel layer kept in fp32 costs ~4%. Without reduced-precision
  hardware ``fast`` runs the fp32 path.
* ``max``: x8 geometric self-ensemble (4 rotations x flip), fp32.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F

from pixtools_desktop.core.errors import JobCancelled
from pixtools_desktop.ml.model import DnCNN


# Conv indices (0-based, of nb convs) kept in fp32 in fast mode: the first, the last two.
def fast_fp32_layers(nb: int) -> set[int]:
    return {0, nb - 2, nb - 1}


def cpu_has_bf16() -> bool:
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # older torch
        return False


class Runner:
    """A model on a device with a precision plan; ``noise(x)`` is the network."""

    def __init__(self, net: DnCNN, device: torch.device, mode: str = "default") -> None:
        self.device = device
        self.mode = mode
        self.nb = net.nb
        self.radius = net.receptive_radius
        self.net = net.to(device=device, memory_format=torch.channels_last).eval()  # type: ignore[call-overload]  # torch's stub lacks memory_format
        convs = [m for m in self.net.model if isinstance(m, torch.nn.Conv2d)]
        self.low_dtype: torch.dtype | None = None
        self.last_tile = 0  # tile core size used by the last call (shown to users)
        if mode == "fast":
            if device.type == "cuda":
                self.low_dtype = torch.float16
            elif cpu_has_bf16():
                self.low_dtype = torch.bfloat16
        keep = fast_fp32_layers(len(convs))
        self.layers: list[tuple[torch.Tensor, torch.Tensor, bool]] = []
        for i, c in enumerate(convs):
            low = self.low_dtype is not None and i not in keep
            dt = self.low_dtype if low else torch.float32
            w = c.weight.detach().to(dtype=dt).contiguous(memory_format=torch.channels_last)
            self.layers.append((w, cast(torch.Tensor, c.bias).detach().to(dtype=dt), low))  # built with bias=True

    @property
    def precision(self) -> str:
        if self.low_dtype is None:
            return "fp32"
        return {torch.bfloat16: "bf16", torch.float16: "fp16"}[self.low_dtype] + " (first 1 / last 2 convs fp32)"

    def noise(self, x: torch.Tensor) -> torch.Tensor:
        """The predicted noise of x (1, C, H, W) float32 in [0, 1]."""
        if self.low_dtype is None:
            return self.net(x)
        h = x
        last = len(self.layers) - 1
        for i, (w, b, _low) in enumerate(self.layers):
            h = h.to(w.dtype)
            h = F.conv2d(h, w, b, padding=1)
            if i < last:
                h = torch.relu_(h)
        return h.float()

    def noise_ensemble(self, x: torch.Tensor) -> torch.Tensor:
        """x8 geometric self-ensemble: mean of the noise over the 4 rotations, each flipped or not."""
        acc = None
        for k in range(8):
            xt = torch.rot90(x, k % 4, dims=(2, 3))
            if k >= 4:
                xt = torch.flip(xt, dims=(3,))
            n = self.noise(xt.contiguous(memory_format=torch.channels_last))
            if k >= 4:
                n = torch.flip(n, dims=(3,))
            n = torch.rot90(n, -(k % 4), dims=(2, 3))
            acc = n if acc is None else acc.add_(n)
        return cast(torch.Tensor, acc).mul_(1.0 / 8.0)  # the 8 passes above always ran


BYTES_PER_PIXEL_FP32 = 64 * 4 * 4  # ~4 live 64-channel fp32 feature maps (in, out, conv scratch)
DEFAULT_CPU_BUDGET = 384 * 1024 * 1024
MIN_TILE, MAX_TILE = 64, 2048


def tile_from_budget(budget_bytes: int, radius: int, *, low_precision: bool = False, ensemble: bool = False) -> int:
    """Largest tile core (multiple of 16) whose padded tile fits the budget."""
    bpp = BYTES_PER_PIXEL_FP32 // (2 if low_precision else 1)
    if ensemble:
        bpp += 2 * 3 * 4 * 2  # the rotated copies and the accumulator: small next to the features
    side = int(math.sqrt(max(budget_bytes, 1) / bpp)) - 2 * radius
    side = (side // 16) * 16
    return max(MIN_TILE, min(MAX_TILE, side))


def auto_tile(runner: Runner, *, ensemble: bool = False) -> int:
    if runner.device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(runner.device)
        budget = int(free * 0.5)
    else:
        budget = DEFAULT_CPU_BUDGET
    return tile_from_budget(budget, runner.radius, low_precision=runner.low_dtype is not None, ensemble=ensemble)


def tile_grid(h: int, w: int, tile: int) -> list[tuple[int, int, int, int]]:
    """Tile cores (y0, y1, x0, x1) covering h x w; edge tiles are evened out."""
    ny, nx = max(1, math.ceil(h / tile)), max(1, math.ceil(w / tile))
    ys = [round(i * h / ny) for i in range(ny + 1)]
    xs = [round(j * w / nx) for j in range(nx + 1)]
    return [(ys[i], ys[i + 1], xs[j], xs[j + 1]) for i in range(ny) for j in range(nx)]


def _to_out(v: np.ndarray, out_dtype: np.dtype, scale: float) -> np.ndarray:
    if np.issubdtype(out_dtype, np.integer):
        info = np.iinfo(out_dtype)
        v *= scale
        np.rint(v, out=v)
        np.clip(v, info.min, info.max, out=v)
        return v.astype(out_dtype)
    return v


Box = tuple[int, int, int, int]  # y0, y1, x0, x1
# clean(x, (py0, px0), (cy0, cx0, th, tw)) -> the tile's cleaned core, (1, C, th, tw), in [0, 1] units:
# x is the tile plus its context margin, (py0, px0) where x starts in the image, the core at (cy0, cx0) in x.
CleanTile = Callable[[torch.Tensor, tuple[int, int], tuple[int, int, int, int]], torch.Tensor]


def run_tiles(
    src: np.ndarray,
    out: np.ndarray,
    *,
    scale: float,
    tile: int,
    radius: int,
    device: torch.device,
    grid: Callable[[int, int, int], list[Box]],
    clean: CleanTile,
    channels_last: bool = False,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """The tile loop both models share: context margins, cancel between tiles, CUDA
    out-of-memory retry with smaller tiles, per-tile rounding into ``out``, progress.
    Returns the tile size it ended with."""
    h, w = src.shape[:2]
    done_px, total_px = 0, h * w
    queue = grid(h, w, tile)
    fmt = torch.channels_last if channels_last else torch.preserve_format
    with torch.inference_mode():
        while queue:
            if cancelled is not None and cancelled():
                raise JobCancelled("denoise cancelled")
            y0, y1, x0, x1 = queue.pop(0)
            py0, py1, px0, px1 = max(0, y0 - radius), min(h, y1 + radius), max(0, x0 - radius), min(w, x1 + radius)
            with warnings.catch_warnings():  # read-only input (np.asarray of a PIL image): we never write it
                warnings.simplefilter("ignore", UserWarning)
                patch = torch.from_numpy(src[py0:py1, px0:px1])  # a view: no copy
            # HWC -> (1, C, H, W); the float conversion is the one copy.
            x = patch.to(device=device).permute(2, 0, 1).unsqueeze(0).to(torch.float32, memory_format=fmt)
            if scale != 1.0:
                x.div_(scale)  # division, not a reciprocal multiply: bit-equal to the usual u8 / 255.0
            try:
                res = clean(x, (py0, px0), (y0 - py0, x0 - px0, y1 - y0, x1 - x0))
            except torch.OutOfMemoryError:
                # CUDA: retry this region with smaller tiles (the rest of the queue keeps its size).
                if device.type != "cuda" or tile <= MIN_TILE:
                    raise
                del x
                torch.cuda.empty_cache()
                tile = max(MIN_TILE, tile // 2)
                queue = [(y0 + a, y0 + b, x0 + c, x0 + d) for a, b, c, d in grid(y1 - y0, x1 - x0, tile)] + queue
                continue
            v = res[0].permute(1, 2, 0).float().cpu().numpy()  # a fresh tensor: safe to round in place
            out[y0:y1, x0:x1] = _to_out(v, out.dtype, scale)
            done_px += (y1 - y0) * (x1 - x0)
            if progress is not None:
                progress(min(1.0, done_px / total_px))
    return tile


def denoise_tiled(
    runner: Runner,
    src: np.ndarray,
    *,
    out: np.ndarray | None = None,
    scale: float | None = None,
    strength: float = 1.0,
    tile: int = 0,
    ensemble: bool = False,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> np.ndarray:
    """Denoise an (H, W, C) array tile by tile into ``out`` (same shape and dtype by default).

    ``src`` is uint8, uint16 or float32 in [0, 1]; ``scale`` maps it to [0, 1]
    (default: 255, 65535 or 1 by dtype). Integer outputs are rounded and
    clipped per tile, so a 24 MP photo never exists as a float image.
    ``strength`` blends input and result: ``y - strength * noise``.
    """
    if src.ndim != 3:
        raise ValueError("expected an (H, W, C) array")
    if scale is None:
        scale = 255.0 if src.dtype == np.uint8 else 65535.0 if src.dtype == np.uint16 else 1.0
    if out is None:
        out = np.empty_like(src)
    strength = float(min(max(strength, 0.0), 1.0))
    tile = max(16, int(tile) if tile and tile > 0 else auto_tile(runner, ensemble=ensemble))

    def clean(x: torch.Tensor, origin: tuple[int, int], core: tuple[int, int, int, int]) -> torch.Tensor:
        cy0, cx0, th, tw = core
        n = runner.noise_ensemble(x) if ensemble else runner.noise(x)
        xc, nc = x[:, :, cy0 : cy0 + th, cx0 : cx0 + tw], n[:, :, cy0 : cy0 + th, cx0 : cx0 + tw]
        return xc - nc if strength == 1.0 else xc - strength * nc

    runner.last_tile = run_tiles(
        src,
        out,
        scale=scale,
        tile=tile,
        radius=runner.radius,
        device=runner.device,
        grid=tile_grid,
        clean=clean,
        channels_last=True,
        progress=progress,
        cancelled=cancelled,
    )
    return out
