"""The Linux bundle: packaging/build_linux.sh builds it, self-tests it and packs it.

Slow (a PyInstaller build of a torch + Qt app takes minutes from scratch), so
marked `slow`; CI runs it. The session's one build comes from the `build`
fixture in conftest.py. The slimmed bundle must still do everything: the
self-test with the real model, and denoising that matches the source install.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO_ROOT, require_testdata

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900), pytest.mark.xdist_group("bundle")]  # one build, one worker

MIME_TYPES = {"image/jpeg", "image/png", "image/webp", "image/avif", "image/tiff", "image/gif", "image/bmp"}
APP_ID = "org.pixtools.PixTools"


def test_bundle_self_test_ok(build: dict) -> None:
    report = json.loads((build["dir"] / "selftest.json").read_text().strip())
    assert report["ok"] is True, report
    assert report["frozen"] is True
    assert set(report["checks"]) == {"qt", "torch", "store", "engine", "model"}
    assert report["checks"]["torch"]["cuda"] is False
    # no model ships (no licence allows it): the self-test runs a random-init net of the same architecture
    assert report["checks"]["model"]["source"] == "random-init"
    xcb = build["dir"] / "selftest-xcb.json"
    if shutil.which("xvfb-run"):
        assert json.loads(xcb.read_text().strip())["checks"]["qt"]["platform"] == "xcb"


def test_tarball_contents(build: dict) -> None:
    tarball: Path = build["tarball"]
    assert tarball.is_file() and tarball.name.startswith("pixtools-desktop-")
    top = tarball.name.split(".tar.")[0]
    listing = subprocess.run(["tar", "-tf", str(tarball)], capture_output=True, text=True, timeout=600, check=True)
    names = {n.rstrip("/") for n in listing.stdout.splitlines()}
    expected = [
        "pixtools",
        "install.sh",
        "uninstall.sh",
        "README.txt",
        f"share/applications/{APP_ID}.desktop",
        f"share/icons/hicolor/256x256/apps/{APP_ID}.png",
        "_internal/resources/pixtools.png",
        "_internal/PySide6/Qt/plugins/platforms/libqxcb.so",
        "_internal/PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "_internal/PySide6/Qt/plugins/imageformats/libqjpeg.so",
        "_internal/torch/lib/libtorch_cpu.so",
    ]
    expected += [
        "THIRD-PARTY-NOTICES.txt",
        "_internal/botocore/data/s3/2006-03-01/service-2.json.gz",
        "_internal/botocore/data/endpoints.json",
    ]
    missing = [e for e in expected if f"{top}/{e}" not in names]
    assert not missing, f"missing from {tarball.name}: {missing}"
    # ... and what must stay out: headers, tests, CUDA, QML, unused platforms, tkinter
    unwanted = (
        "/torch/include/",
        "/torch/test/",
        "libjitbackend_test",
        "libtorchbind_test",
        "libcudart",
        "libtorch_cuda",
        "/Qt/qml/",
        "libqeglfs",
        "libqvnc",
        "libqgtk3",
        "/tkinter/",
        "libQt6Quick",
        "libQt6WebEngine",
        "/_pytest/",
        "/weights/",
        "/hypothesis/",
        "/mypy/",
        "botocore/data/ec2/",
        "_internal/libX11.so",
        "_internal/libfontconfig.so",
        "_internal/libglib-2.0.so",
        "_internal/torch/nn/modules/conv.py",
        "libQt6EglFSDeviceIntegration",
    )
    found = sorted(n for n in names if any(u in n for u in unwanted))
    assert not found, f"should not be bundled: {found[:20]}"


def _desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def _validate(path: Path) -> None:
    if shutil.which("desktop-file-validate"):
        proc = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0 and "error" not in proc.stdout, proc.stdout + proc.stderr
    entry = _desktop_entry(path)
    assert entry["Type"] == "Application" and entry["Icon"] == APP_ID
    assert "%F" in entry["Exec"]
    assert set(filter(None, entry["MimeType"].split(";"))) == MIME_TYPES


def test_desktop_entry_valid(build: dict) -> None:
    stage = build["dir"] / "stage" / build["tarball"].name.split(".tar.")[0]
    _validate(stage / "share" / "applications" / f"{APP_ID}.desktop")


def test_install_and_uninstall_round_trip(build: dict, tmp_path: Path) -> None:
    """install.sh into a scratch prefix: command link, absolute Exec, icon; uninstall.sh removes it all."""
    stage = build["dir"] / "stage" / build["tarball"].name.split(".tar.")[0]
    prefix = tmp_path / "prefix"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXTOOLS_", "XDG_"))}
    env.update(HOME=str(tmp_path / "home"), PIXTOOLS_HOME=str(tmp_path / "pixhome"))
    proc = subprocess.run(
        [str(stage / "install.sh"), "--prefix", str(prefix)], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    appdir = prefix / "lib" / "pixtools-desktop"
    desktop = prefix / "share" / "applications" / f"{APP_ID}.desktop"
    _validate(desktop)
    exec_path = _desktop_entry(desktop)["Exec"].split('"')[1]
    assert exec_path == str(appdir / "pixtools") and os.access(exec_path, os.X_OK)
    assert (prefix / "share" / "icons" / "hicolor" / "256x256" / "apps" / f"{APP_ID}.png").is_file()
    # the command link starts the bundle (PyInstaller resolves _internal/ through the symlink)
    link = prefix / "bin" / "pixtools"
    assert link.is_symlink()
    version = subprocess.run([str(link), "--version"], env=env, capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("PixTools Desktop"), version.stderr

    # a second install upgrades in place
    again = subprocess.run(
        [str(stage / "install.sh"), "--prefix", str(prefix)], env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr
    assert not (prefix / "lib" / "pixtools-desktop.old").exists()

    proc = subprocess.run([str(appdir / "uninstall.sh")], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not appdir.exists() and not link.exists() and not link.is_symlink() and not desktop.exists()


def _bundle_env(home: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXTOOLS_", "PYTHON"))}
    env.update(PIXTOOLS_HOME=str(home), QT_QPA_PLATFORM="offscreen", **extra)
    return env


def test_bundle_self_test_with_real_model(build: dict, tmp_path: Path) -> None:
    """The slimmed bundle loads the authors' .mat (h5py) and denoises with it."""
    weights = require_testdata("weights", "GD_Color_Blind.mat")
    proc = subprocess.run(
        [str(build["bundle"] / "pixtools"), "--self-test"],
        capture_output=True,
        text=True,
        timeout=300,
        env=_bundle_env(tmp_path / "home", PIXTOOLS_WEIGHTS=str(weights)),
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert proc.returncode == 0 and report["ok"], report
    assert report["checks"]["model"]["source"] == "weights:GD_Color_Blind.mat"
    assert report["checks"]["model"]["noise_reduction"] > 2.0


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def test_frozen_denoise_matches_source_install(build: dict, tmp_path: Path) -> None:
    """A few CBSD68 images at sigma 25: the frozen app's PSNR equals the venv's (no lost operator)."""
    weights = require_testdata("weights", "GD_Color_Blind.mat")
    clean_dir = require_testdata("testsets", "CBSD68")
    noisy_dir = tmp_path / "noisy"
    noisy_dir.mkdir()
    rng = np.random.default_rng(25)
    names = ["101085.png", "102061.png", "105025.png"]
    clean = {}
    for name in names:
        img = np.asarray(Image.open(clean_dir / name).convert("RGB"))
        clean[name] = img
        noisy = np.clip(np.round(img + rng.normal(0, 25, img.shape)), 0, 255).astype(np.uint8)
        Image.fromarray(noisy).save(noisy_dir / name)
    runs = {
        "frozen": [str(build["bundle"] / "pixtools")],
        "source": [sys.executable, "-m", "pixtools_desktop"],
    }
    psnr: dict[str, list[float]] = {}
    for label, cmd in runs.items():
        out = tmp_path / f"out-{label}"
        env = _bundle_env(tmp_path / f"home-{label}", PIXTOOLS_WEIGHTS=str(weights))
        if label == "source":
            env["PYTHONPATH"] = str(REPO_ROOT)
        proc = subprocess.run(
            [
                *cmd,
                "process",
                "--ops",
                "denoise",
                "--out",
                str(out),
                "--no-progress",
                *[str(noisy_dir / n) for n in names],
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, f"{label}: {proc.stdout[-2000:]} {proc.stderr[-3000:]}"
        psnr[label] = []
        for name in names:
            [result] = list(out.glob(f"{Path(name).stem}*.png"))
            psnr[label].append(_psnr(np.asarray(Image.open(result).convert("RGB")), clean[name]))
    noisy_psnr = [_psnr(np.asarray(Image.open(noisy_dir / n)), clean[n]) for n in names]
    print(f"\nPSNR noisy {noisy_psnr} frozen {psnr['frozen']} source {psnr['source']}")
    assert psnr["frozen"] == pytest.approx(psnr["source"], abs=0.01)
    assert (
        min(p - q for p, q in zip(psnr["frozen"], noisy_psnr, strict=True)) > 5.0
    )  # it really denoised (~20.2 -> ~30 dB)


def test_notices_attribute_every_file(build: dict) -> None:
    """THIRD-PARTY-NOTICES.txt names a project and licence for every top-level item, and no weights ship."""
    text = (build["bundle"] / "THIRD-PARTY-NOTICES.txt").read_text()
    assert "NOT ATTRIBUTED" not in text
    for needle in ("torch", "PySide6", "numpy", "Pillow", "PixTools Desktop", "PSF-2.0", "LGPL"):
        assert needle in text, needle
    assert not (build["bundle"] / "_internal" / "weights").exists()
