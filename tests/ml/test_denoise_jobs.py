"""Desktop denoise through the real engine and CLI: the plan lands in the job's result and `--json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from .conftest import DATA, REPO, camera_noise, need, noisy, psnr, to_u8

CLEAN_CASES = [  # (set, file, crop): clean photos whose estimates span the kept / ramp / full range
    ("CBSD68", "101087.png", 160),
    ("CBSD68", "105025.png", 160),
    ("Kodak24", "kodim01.png", 160),
    ("Kodak24", "kodim08.png", 160),
    # textured crops the global estimate reads as noisy (6.5 / 9.4 / 9.3 / 7.4): FFDNet trusting it took
    # the first to 41 dB; 291000's colour noise (1.37) is the closest to CHROMA_NOISE measured
    ("CBSD68", "101085.png", 256),
    ("CBSD68", "175032.png", 256),
    ("CBSD68", "291000.png", 256),
    ("Kodak24", "kodim13.png", 256),
]


def crop(set_name: str, name: str, size: int) -> np.ndarray:
    img = np.asarray(Image.open(need(DATA / "testsets" / set_name / name)).convert("RGB"))
    h, w = img.shape[:2]
    y0, x0 = (h - size) // 2, (w - size) // 2
    return np.ascontiguousarray(img[y0 : y0 + size, x0 : x0 + size])


@pytest.mark.parametrize("set_name,name,size", CLEAN_CASES)
def test_default_denoise_keeps_clean_photos_above_45_db(settings_factory, set_name, name, size):
    """The issue's rule for the default (Settings.denoise_model, sigma auto): >= 45 dB against itself."""
    from pixtools_desktop.core.settings import Settings
    from pixtools_desktop.ml import get_denoiser
    from pixtools_desktop.ml.policy import request_from_params

    clean = crop(set_name, name, size)
    s = settings_factory()
    req = request_from_params({}, s)
    assert req.model == Settings().denoise_model and req.auto
    out, plan = get_denoiser(s).process_array(clean, req)
    p = psnr(out, clean) if not np.array_equal(out, clean) else float("inf")
    print(name, plan.report(), p)
    assert p >= 45.0, (name, plan.report(), p)


@pytest.mark.parametrize("set_name,name", [("CBSD68", "106024.png"), ("Kodak24", "kodim09.png")])
def test_default_denoise_gains_on_camera_noise(settings_factory, set_name, name):
    """The default (model auto) on camera-like noise (JPEG'd): >= 2.5 dB over the input, through FFDNet.

    106024's estimate (5.5) is below what clean, textured crops read, so only the colour-noise
    rule sends it to FFDNet; DnCNN gains about 1 dB here.
    """
    from pixtools_desktop.ml import get_denoiser
    from pixtools_desktop.ml.policy import request_from_params

    clean = crop(set_name, name, 256)
    y = camera_noise(clean, 0.004, 4e-5, seed=7)
    s = settings_factory()
    out, plan = get_denoiser(s).process_array(y, request_from_params({}, s))
    gain = psnr(out, clean) - psnr(y, clean)
    print(name, plan.report(), gain)
    assert plan.model == "ffdnet" and plan.noise_map == "local" and "colour noise" in plan.choice
    assert gain >= 2.5, (name, plan.report(), gain)


def test_cli_json_shows_estimate_and_kept(tmp_path, weights_dir):
    folder = tmp_path / "in"
    folder.mkdir()
    clean = crop("Kodak24", "kodim03.png", 96)  # reads 1.2: clean
    Image.fromarray(clean).save(folder / "clean.png")
    noisy_u8 = to_u8(noisy(crop("CBSD68", "106024.png", 96), 20, 4))
    Image.fromarray(noisy_u8).save(folder / "noisy.png")
    env = {
        **os.environ,
        "PIXTOOLS_HOME": str(tmp_path / "home"),
        "PIXTOOLS_WEIGHTS": str(weights_dir),
        "PIXTOOLS_DENOISE_DEVICE": "cpu",
        "PIXTOOLS_DENOISE_THREADS": "2",
        "PYTHONPATH": str(REPO),
    }

    def run(params: dict, out: str) -> dict:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pixtools_desktop",
                "process",
                str(folder),
                "--ops",
                "denoise",
                "--params",
                json.dumps({"denoise": params}),
                "--out",
                str(tmp_path / out),
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            cwd=REPO,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        return {os.path.basename(j["input"]): j for j in json.loads(proc.stdout)["jobs"]}

    jobs = run({"model": "ffdnet"}, "o1")
    c, n = jobs["clean.png"], jobs["noisy.png"]
    ci, ni = c["outputs"][0]["info"], n["outputs"][0]["info"]
    assert ci["kept"] is True and ci["estimate"]["sigma"] <= 2.0 and ci["model"] == "ffdnet"
    assert any("already clean - kept" in w for w in c["warnings"])
    # kept = the photo's own pixels, re-encoded in the output format (PNG here)
    assert np.array_equal(np.asarray(Image.open(c["outputs"][0]["path"]).convert("RGB")), clean)
    assert ni["kept"] is False and ni["sigma_source"] == "auto"
    assert ni["estimate"]["sigma"] == pytest.approx(20, abs=3) and ni["sigma_used"] == ni["estimate"]["sigma"]
    out = np.asarray(Image.open(n["outputs"][0]["path"]).convert("RGB"))
    assert psnr(out, crop("CBSD68", "106024.png", 96)) > psnr(noisy_u8, crop("CBSD68", "106024.png", 96)) + 5
    # forced and user sigma: the clean photo is denoised, the result says with what
    jobs = run({"model": "ffdnet", "sigma": 10, "force": True}, "o2")
    fi = jobs["clean.png"]["outputs"][0]["info"]
    assert fi["kept"] is False and fi["sigma_used"] == 10.0 and fi["sigma_source"] == "user"
