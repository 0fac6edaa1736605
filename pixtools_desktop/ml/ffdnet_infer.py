"""Tiled FFDNet inference (imports torch: load lazily, in the model thread).

Exactness: FFDNet's convolutions run on the 2x2 sub-images, so an output
pixel depends on inputs at most ``2 * nb`` pixels away (24 for colour, 30 for
grey), and the 2x2 phase grid must be the whole image's. Tile cores therefore
start on even rows/columns, each tile gets a margin of ``2 * nb`` real pixels
(even), and the noise map is computed once for the whole image and sliced.
Where a tile reaches the image border the whole image's own treatment applies
(zero padding of the convs; an odd last row/column replicated). So tiled =
whole up to the summation order of the convs (tests: 8-bit outputs equal).

Precision (``mode``): ``default``/``max`` fp32; ``fast`` runs the middle
convs in bf16 (CPU with AVX512-BF16/AMX) or fp16 (CUDA), the first and the
last two in fp32 like DnCNN's plan. ``max`` adds nothing for FFDNet (it is
the default path: a self-ensemble of a non-blind model gains little and costs
8x). Measured loss of the fast plan (bf16 emulated on a CPU without bf16
units, so only the quality, not the speed, is measured here): 4 CBSD68 crops
x sigma 25/50, first 1 + last 2 convs fp32 (chosen) -0.021 dB mean, -0.064
worst; first + last only -0.024 / -0.081; all bf16 -0.030 / -0.088. All
within the 0.10 dB the issue allows; the chosen plan matches DnCNN's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F

from pixtools_desktop.ml.ffdnet import FFDNet
from pixtools_desktop.ml.infer import MAX_TILE, MIN_TILE, cpu_has_bf16, fast_fp32_layers, run_tiles

# Bytes per full-resolution pixel: ~4 live feature maps of nc channels at a quarter of the pixels.
DEFAULT_CPU_BUDGET = 384 * 1024 * 1024


class FFDRunner:
    """An FFDNet on a device with a precision plan; ``clean(x, smap)`` is the network."""

    def __init__(
        self, net: FFDNet, device: torch.device, mode: str = "default", low_dtype: torch.dtype | None | str = "auto"
    ) -> None:
        self.device, self.mode = device, mode
        self.nb, self.radius, self.in_nc = net.nb, net.receptive_radius, net.in_nc
        self.net = net.to(device=device).eval()
        self.nc = [m for m in self.net.model if isinstance(m, torch.nn.Conv2d)][0].out_channels
        self.last_tile = 0
        if low_dtype == "auto":  # fast mode picks the hardware's reduced precision, if any
            low_dtype = None
            if mode == "fast":
                low_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16 if cpu_has_bf16() else None
        if isinstance(low_dtype, str):
            raise ValueError(f"low_dtype must be 'auto', a torch dtype or None, not {low_dtype!r}")
        self.low_dtype = low_dtype
        convs = [m for m in self.net.model if isinstance(m, torch.nn.Conv2d)]
        keep = fast_fp32_layers(len(convs))
        self.layers: list[tuple[torch.Tensor, torch.Tensor]] = []
        for i, c in enumerate(convs):
            dt = self.low_dtype if (self.low_dtype is not None and i not in keep) else torch.float32
            self.layers.append(
                (
                    c.weight.detach().to(dtype=dt).contiguous(memory_format=torch.channels_last),
                    cast(torch.Tensor, c.bias).detach().to(dtype=dt),
                )
            )  # built with bias=True

    @property
    def precision(self) -> str:
        if self.low_dtype is None:
            return "fp32"
        return {torch.bfloat16: "bf16", torch.float16: "fp16"}[self.low_dtype] + " (first 1 / last 2 convs fp32)"

    def clean(self, x: torch.Tensor, smap: torch.Tensor) -> torch.Tensor:
        """Clean image of x (1, C, H, W) in [0, 1], H and W even; smap (1, 1, H/2, W/2) in [0, 1] units."""
        h = torch.cat([self.net.unshuffle(x), smap.to(x.dtype)], dim=1).contiguous(memory_format=torch.channels_last)
        last = len(self.layers) - 1
        for i, (w, b) in enumerate(self.layers):
            h = F.conv2d(h.to(w.dtype), w, b, padding=1)
            if i < last:
                h = torch.relu_(h)
        return self.net.shuffle(h.float())


def tile_from_budget(budget_bytes: int, radius: int, nc: int, *, low_precision: bool = False) -> int:
    """Largest even tile core (multiple of 16) whose padded tile fits the budget."""
    bpp = nc * 4 * 4 // 4 // (2 if low_precision else 1)
    side = int(math.sqrt(max(budget_bytes, 1) / max(bpp, 1))) - 2 * radius
    return max(MIN_TILE, min(MAX_TILE, (side // 16) * 16))


def auto_tile(runner: FFDRunner) -> int:
    if runner.device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(runner.device)
        budget = int(free * 0.5)
    else:
        budget = DEFAULT_CPU_BUDGET
    return tile_from_budget(budget, runner.radius, runner.nc, low_precision=runner.low_dtype is not None)


def even_grid(h: int, w: int, tile: int) -> list[tuple[int, int, int, int]]:
    """Tile cores (y0, y1, x0, x1) covering h x w; every boundary but the image's end is even."""

    def cuts(n: int) -> list[int]:
        k = max(1, math.ceil(n / tile))
        inner = [2 * round(i * n / (2 * k)) for i in range(1, k)]
        return [0] + [c for c in inner if 0 < c < n] + [n]

    ys, xs = cuts(h), cuts(w)
    return [(ys[i], ys[i + 1], xs[j], xs[j + 1]) for i in range(len(ys) - 1) for j in range(len(xs) - 1)]


def ffdnet_tiled(
    runner: FFDRunner,
    src: np.ndarray,
    sigma_sub: np.ndarray,
    *,
    out: np.ndarray | None = None,
    scale: float | None = None,
    strength: float = 1.0,
    tile: int = 0,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> np.ndarray:
    """FFDNet-denoise an (H, W, C) array tile by tile into ``out`` (same shape and dtype by default).

    ``sigma_sub``: the noise map in 0..255 units at the sub-image grid, shape
    (ceil(H/2), ceil(W/2)), or a 0-d/1-element array for a constant sigma.
    ``strength`` blends input and result: ``y + strength * (clean - y)``.
    """
    if src.ndim != 3:
        raise ValueError("expected an (H, W, C) array")
    h, w, c = src.shape
    hs, ws = (h + 1) // 2, (w + 1) // 2
    sig = np.asarray(sigma_sub, dtype=np.float32)
    constant = sig.size == 1
    if not constant and sig.shape != (hs, ws):
        raise ValueError(f"noise map of shape {sig.shape}, expected {(hs, ws)}")
    smap_full = torch.from_numpy(np.ascontiguousarray(sig / 255.0)) if not constant else None
    if scale is None:
        scale = 255.0 if src.dtype == np.uint8 else 65535.0 if src.dtype == np.uint16 else 1.0
    if out is None:
        out = np.empty_like(src)
    strength = float(min(max(strength, 0.0), 1.0))
    tile = max(16, int(tile) if tile and tile > 0 else auto_tile(runner))
    dev = runner.device

    def clean(x: torch.Tensor, origin: tuple[int, int], core: tuple[int, int, int, int]) -> torch.Tensor:
        (py0, px0), (cy0, cx0, th, tw) = origin, core
        ph, pw = x.shape[2] % 2, x.shape[3] % 2  # only where the tile reaches an odd image end
        xp = F.pad(x, (0, pw, 0, ph), mode="replicate") if (ph or pw) else x
        sh, sw = xp.shape[2] // 2, xp.shape[3] // 2
        if smap_full is None:  # constant sigma
            smap = torch.full((1, 1, sh, sw), float(sig.reshape(-1)[0]) / 255.0, device=dev)
        else:  # the context margin is even, so the tile's sub-image grid starts at (py0/2, px0/2)
            smap = smap_full[py0 // 2 : py0 // 2 + sh, px0 // 2 : px0 // 2 + sw][None, None].to(dev)
        res = runner.clean(xp, smap)[:, :, cy0 : cy0 + th, cx0 : cx0 + tw]
        if strength == 1.0:
            return res
        xin = x[:, :, cy0 : cy0 + th, cx0 : cx0 + tw]
        return xin + strength * (res - xin)

    runner.last_tile = run_tiles(
        src,
        out,
        scale=scale,
        tile=tile,
        radius=runner.radius,  # even
        device=dev,
        grid=even_grid,
        clean=clean,
        progress=progress,
        cancelled=cancelled,
    )
    return out
