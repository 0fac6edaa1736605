"""How noisy is a photo? A noise-level estimate in 0..255 units (numpy only, no torch).

Immerkaer's method (Immerkaer 1996, "Fast noise variance estimation"): the
3x3 mask ``M = [1 -2 1; -2 4 -2; 1 -2 1]`` is the difference of two
Laplacians, so it cancels smooth image structure and passes white noise with
a known gain: for Gaussian noise of std sigma, ``E|M * I| = 6 * sigma *
sqrt(2/pi)``, hence ``sigma = sqrt(pi/2) / 6 * mean|M * I|``. ``M`` is
separable (``[1 -2 1]`` along x, then along y), so it costs two second
differences per channel.

Edges and texture also pass ``M`` and read as noise. Following Tai & Yang
(2008, "Fast noise variance estimation by adaptive edge detection"), pixels
whose Sobel gradient is among the strongest ``EDGE_FRACTION`` are left out.
On textured but clean photos the estimate still reads a few units high; the
callers use it with that in mind (a "clean" threshold, see
:data:`CLEAN_SIGMA`), and the user can always edit the sigma.

The local map is the same estimate per block of about ``BLOCK`` pixels, for
FFDNet's spatially varying noise map. Cost: 0.06 s/MP measured (24 MP colour).

Known limit: spatially correlated noise (demosaicked, JPEG-compressed real
photos) reads low, because the mask only sees the pixel-scale part of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BLOCK = 64  # local map block size, pixels
EDGE_FRACTION = 0.10  # strongest-gradient share of pixels left out (Tai & Yang)
QUANTILE = 0.25  # of the sub-block estimates, for the global sigma
# At or below: "already clean". Measured on 256 px CBSD68/Kodak24 crops: clean 0.45..6.8
# (texture reads as noise), white sigma 2 reads >= 2.09.
CLEAN_SIGMA = 2.0
_GAIN = math.sqrt(math.pi / 2.0) / 6.0
# A low quantile / the 2nd lowest of 4 noisy sub-block estimates reads pure noise slightly low; measured
# on flat synthetic noise at sigma 5..50 (tests/ml/test_noise_level.py checks the result).
_QUANTILE_BIAS = 1.02
_MIN4_BIAS = 1.01


@dataclass(frozen=True)
class NoiseEstimate:
    """sigma: global noise std in 0..255 units; block_map: per-block sigma (rows, cols) of ``block`` px."""

    sigma: float
    block_map: np.ndarray
    block: int
    chroma: float | None = None  # fine-scale colour noise (see :func:`chroma_noise`); None for grey images

    def to_json(self) -> dict:  # what the job's result records
        return {
            "sigma": round(self.sigma, 2),
            "chroma": None if self.chroma is None else round(self.chroma, 2),
            "block": self.block,
            "map_min": round(float(self.block_map.min()), 2) if self.block_map.size else None,
            "map_max": round(float(self.block_map.max()), 2) if self.block_map.size else None,
        }


def _channels255(arr: np.ndarray) -> list[np.ndarray]:
    """Each channel as a contiguous float32 plane in 0..255 units (uint8, uint16 or float in [0, 1])."""
    a = np.asarray(arr)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3:
        raise ValueError(f"expected (H, W) or (H, W, C), got {a.shape}")
    scale = {np.dtype(np.uint8): 1.0, np.dtype(np.uint16): 255.0 / 65535.0}.get(a.dtype, 255.0)
    planes = []
    for ch in range(a.shape[2]):
        p = np.ascontiguousarray(a[:, :, ch], dtype=np.float32)
        if scale != 1.0:
            p *= np.float32(scale)
        planes.append(p)
    return planes


def _second_diff(a: np.ndarray, axis: int) -> np.ndarray:
    if axis == 0:
        return a[:-2] - 2.0 * a[1:-1] + a[2:]
    return a[:, :-2] - 2.0 * a[:, 1:-1] + a[:, 2:]


def _edge_mask(grey: np.ndarray, fraction: float) -> np.ndarray:
    """True where the Sobel gradient (interior pixels) is below the (1 - fraction) quantile."""
    gx = grey[:, 2:] - grey[:, :-2]
    gx = gx[:-2] + 2.0 * gx[1:-1] + gx[2:]
    np.abs(gx, out=gx)
    gy = grey[2:] - grey[:-2]
    gy = gy[:, :-2] + 2.0 * gy[:, 1:-1] + gy[:, 2:]
    np.abs(gy, out=gy)
    mag = gx
    mag += gy
    if fraction <= 0 or mag.size == 0:
        return np.ones(mag.shape, dtype=bool)
    # A subsample gives the quantile to well within the estimator's own spread, at a fraction of the cost.
    flat = mag.ravel()
    sample = flat[:: max(1, flat.size // 200_000)]
    thresh = np.quantile(sample, 1.0 - fraction)
    return mag <= thresh


def _block_sums(v: np.ndarray, block: int) -> np.ndarray:
    """Sum of a 2-D array over blocks of ``block`` px (the last row/column of blocks may be smaller)."""
    h, w = v.shape
    rows = np.add.reduceat(v, np.arange(0, h, block), axis=0)
    return np.add.reduceat(rows, np.arange(0, w, block), axis=1)


def _clip_free(planes: list[np.ndarray], lo: float, hi: float) -> np.ndarray:
    """True (interior pixels) where no channel of the 3x3 neighbourhood sits at the clipping limits."""
    bad = np.zeros(planes[0].shape, dtype=bool)
    for p in planes:
        bad |= p <= lo
        bad |= p >= hi
    b = bad[:-2] | bad[1:-1] | bad[2:]
    b = b[:, :-2] | b[:, 1:-1] | b[:, 2:]
    return ~b


def estimate_noise(
    arr: np.ndarray,
    *,
    block: int = BLOCK,
    edge_fraction: float = EDGE_FRACTION,
    quantile: float = QUANTILE,
    with_chroma: bool = True,
) -> NoiseEstimate:
    """Estimate the noise std of an image (H, W[, C]): uint8, uint16 or float in [0, 1].

    The masked Immerkaer response is averaged over sub-blocks of ``block / 2``
    pixels. Noise is (nearly) the same everywhere while texture is not, so the
    global sigma is a low ``quantile`` of the sub-block values, and each
    ``block`` of the local map takes the second lowest of its 2x2 sub-blocks
    (measured on the sigma 8->40 benchmark: the lowest gave 30.66 dB with
    FFDNet, the second lowest 31.22, DnCNN-B 31.49). Pixels
    next to clipped values (0 or 255: noise clipped away) are left out.
    Colour channels are estimated together (their mean); a colour image also
    gets :func:`chroma_noise` (``with_chroma``). Images smaller than
    3x3 have no interior and read as 0.
    """
    planes = _channels255(arr)
    (h, w), c = planes[0].shape, len(planes)
    sub = max(2, block // 2)
    ny, nx = max(1, -(-(h - 2) // block)), max(1, -(-(w - 2) // block))
    if h < 3 or w < 3:
        return NoiseEstimate(0.0, np.zeros((ny, nx), np.float32), block)
    grey = planes[0].copy()
    for p in planes[1:]:
        grey += p  # the sum: the gradient ranking is all the mask needs
    keep = _edge_mask(grey, edge_fraction) & _clip_free(planes, 0.0, 255.0)  # (h-2, w-2)
    resp = np.zeros((h - 2, w - 2), dtype=np.float32)
    for p in planes:
        resp += np.abs(_second_diff(_second_diff(p, 0), 1))
    resp *= np.float32(_GAIN / c)
    resp[~keep] = 0.0
    sums = _block_sums(resp, sub)
    counts = _block_sums(keep.astype(np.float32), sub)
    valid = counts >= 0.25 * sub * sub
    n = int(keep.sum())
    overall = float(resp.sum(dtype=np.float64) / n) if n else 0.0
    if valid.any():
        vals = sums[valid] / counts[valid]
        sigma = float(np.quantile(vals, quantile)) * _QUANTILE_BIAS
    else:  # too small or all clipped/edges: the plain masked mean
        sigma = overall
    with np.errstate(invalid="ignore", divide="ignore"):
        subs = np.where(valid, sums / np.maximum(counts, 1), np.inf).astype(np.float32)
    sy, sx = subs.shape
    pad = np.full((2 * ny, 2 * nx), np.inf, np.float32)
    pad[:sy, :sx] = subs[: 2 * ny, : 2 * nx]
    quads = np.sort(pad.reshape(ny, 2, nx, 2).transpose(0, 2, 1, 3).reshape(ny, nx, 4), axis=2)
    bmap = quads[:, :, 1] * _MIN4_BIAS  # a border block with one measurable sub-block: inf -> global
    bmap[~np.isfinite(bmap)] = sigma  # blocks with nothing to measure take the global value
    chroma = chroma_noise(planes) if c == 3 and with_chroma else None
    return NoiseEstimate(sigma, bmap.astype(np.float32), block, chroma)


def chroma_noise(planes: list[np.ndarray]) -> float:
    """Fine-scale colour noise: the estimate on R-G and B-G of the 2x2-averaged image (0..255 units).

    Why: the global estimate cannot tell fine texture from noise (clean, textured
    crops read 5-9), but natural texture is almost all luminance, while sensor
    noise that went through a camera's colour matrix (or any per-channel noise)
    is strongly coloured. At half resolution (so JPEG's 4:2:0 chroma and the
    demosaic's pixel-scale correlation are averaged away) the colour-difference
    planes read 0.19-1.37 on the clean 256 px centre crops of all 92 Kodak24 and
    CBSD68 images, and 2.0-5.7 on 88 of them with the benchmark's low camera
    noise (a=0.004, JPEG q90; the other 4: 0.84-1.68). White noise of std s
    per channel reads about 0.71 s. A grey image has no colour to read.
    Cost: a quarter-size estimate, about 0.02 s/MP (16 MP: 2.35 s instead of 2.09 s, shared box).
    """
    r, g, b = planes[:3]
    h, w = r.shape[0] // 2 * 2, r.shape[1] // 2 * 2
    if h < 6 or w < 6:
        return 0.0

    def half(p: np.ndarray) -> np.ndarray:
        return (p[:h:2, :w:2] + p[1:h:2, :w:2] + p[:h:2, 1:w:2] + p[1:h:2, 1:w:2]) * np.float32(0.25)

    hr, hg, hb = half(r), half(g), half(b)
    # Centred on 127.5 in 0..255 units (float input is 0..1): differences beyond +-127.5 - strongly
    # saturated colour, where texture itself is chromatic and a channel is often clipped - fall outside
    # 0..255 and are left out like clipped pixels (measured: without that, a saturated clean crop,
    # CBSD68 291000, reads 1.73 instead of 1.37).
    diff = np.stack([(hr - hg) / 255.0 + 0.5, (hb - hg) / 255.0 + 0.5], axis=-1).astype(np.float32)
    return estimate_noise(diff, with_chroma=False).sigma


def sigma_map(estimate: NoiseEstimate, height: int, width: int, scale: float = 1.0) -> np.ndarray:
    """The block map resampled bilinearly (block centres as nodes) to a height x width grid.

    Grid pixel i stands for image position ``(i + 0.5) * scale`` (``scale=2``: FFDNet's
    half-resolution map). float32, 0..255 units.
    """
    bm = estimate.block_map.astype(np.float32)
    b = float(estimate.block)

    def axis(size: int, nb: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = np.clip((np.arange(size, dtype=np.float64) + 0.5) * scale / b - 0.5, 0, nb - 1)
        i0 = np.floor(pos).astype(np.int64)
        return i0, np.minimum(i0 + 1, nb - 1), (pos - i0).astype(np.float32)

    y0, y1, fy = axis(height, bm.shape[0])
    x0, x1, fx = axis(width, bm.shape[1])
    top = bm[y0][:, x0] * (1 - fx) + bm[y0][:, x1] * fx
    bot = bm[y1][:, x0] * (1 - fx) + bm[y1][:, x1] * fx
    return (top * (1 - fy)[:, None] + bot * fy[:, None]).astype(np.float32)
