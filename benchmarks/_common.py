"""Shared helpers for the denoise benchmarks (run by hand, not in the test suite)."""

from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DATA = Path(os.environ.get("PIXTOOLS_TESTDATA", REPO.parent / "shared" / "data"))
WEIGHTS = DATA / "weights"
TESTSETS = DATA / "testsets"

# FFDNet paper, Table 2 (CDnCNN-B), and the data README's own fp32 measurement.
PUBLISHED = {
    "CBSD68": {15: 33.89, 25: 31.23, 50: 27.92},
    "Kodak24": {15: 34.48, 25: 32.03, 50: 28.85},
}
# FFDNet paper, colour table (FFDNet with the true sigma).
PUBLISHED_FFDNET = {
    "CBSD68": {15: 33.87, 25: 31.21, 50: 27.96},
    "Kodak24": {15: 34.63, 25: 32.13, 50: 28.98},
}


def seed_for(set_name: str, index: int, sigma: int) -> int:
    return zlib.crc32(f"{set_name}/{index}/{sigma}".encode())


def noisy(clean: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (clean / 255.0 + rng.standard_normal(clean.shape) * sigma / 255.0).astype(np.float32)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def load_set(name: str, limit: int | None = None) -> list[np.ndarray]:
    from PIL import Image

    files = sorted((TESTSETS / name).glob("*.png"))
    if not files:
        raise SystemExit(f"no images in {TESTSETS / name} (set PIXTOOLS_TESTDATA)")
    return [np.asarray(Image.open(f).convert("RGB")) for f in files[: limit or None]]


def settings(mode: str = "default", threads: int = 4, tile: int = 0):
    from pixtools_desktop.core.settings import Settings

    return Settings(
        weights_path=str(WEIGHTS),
        denoise_device=os.environ.get("PIXTOOLS_DENOISE_DEVICE", "cpu"),
        denoise_threads=threads,
        denoise_mode=mode,
        denoise_tile=tile,
    )


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [[f"{c:.3f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) for r in cells]
    lines.insert(1, "-|-".join("-" * w for w in widths))
    return "\n".join(lines)
