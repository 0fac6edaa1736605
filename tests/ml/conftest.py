"""Fixtures for the ml tests: real weights and real images from the shared data folder.

Data path: PIXTOOLS_TESTDATA (default <repo>/../shared/data). Absent data
skips with a reason, except under CI=true where it fails.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DATA = Path(os.environ.get("PIXTOOLS_TESTDATA", REPO.parent / "shared" / "data"))
WEIGHTS = DATA / "weights"
CBSD68 = DATA / "testsets" / "CBSD68"


def need(path: Path) -> Path:
    if not path.exists():
        msg = f"test data {path} is absent (set PIXTOOLS_TESTDATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """No test touches the real user folders or inherits a weights setting."""
    monkeypatch.setenv("PIXTOOLS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PIXTOOLS_WEIGHTS", raising=False)
    yield tmp_path / "home"


@pytest.fixture
def weights_dir() -> Path:
    return need(WEIGHTS)


@pytest.fixture
def color_mat(weights_dir) -> Path:
    return need(weights_dir / "GD_Color_Blind.mat")


@pytest.fixture
def settings_factory(weights_dir):
    from pixtools_desktop.core.settings import Settings

    def make(**kw):
        kw.setdefault("weights_path", str(weights_dir))
        kw.setdefault("denoise_threads", 2)
        kw.setdefault("denoise_device", "cpu")
        return Settings(**kw)

    return make


def cbsd68_crop(index: int, size: int = 160) -> np.ndarray:
    from PIL import Image

    files = sorted(need(CBSD68).glob("*.png"))
    img = np.asarray(Image.open(files[index]).convert("RGB"))
    h, w = img.shape[:2]
    y0, x0 = (h - size) // 2, (w - size) // 2
    return np.ascontiguousarray(img[y0 : y0 + size, x0 : x0 + size])


def noisy(clean: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (clean / 255.0 + rng.standard_normal(clean.shape) * sigma / 255.0).astype(np.float32)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def camera_noise(clean: np.ndarray, a: float, b: float, seed: int) -> np.ndarray:
    """Camera-like noise as in benchmarks/denoise_realistic.py: Poisson-Gaussian in camera RGB, JPEG q90 4:2:0."""
    import io

    from PIL import Image

    ccm = np.array([[1.62, -0.49, -0.13], [-0.21, 1.48, -0.27], [0.02, -0.55, 1.53]])
    x = clean / 255.0
    lin = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    cam = np.clip(lin @ np.linalg.inv(ccm).T, 0, 1)
    cam = cam + np.random.default_rng(seed).standard_normal(cam.shape) * np.sqrt(a * cam + b)
    out = np.clip(cam @ ccm.T, 0, 1)
    out = np.where(out <= 0.0031308, 12.92 * out, 1.055 * np.power(out, 1 / 2.4) - 0.055)
    buf = io.BytesIO()
    Image.fromarray(np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90, subsampling=2)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
