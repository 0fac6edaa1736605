"""The Linux bundle: packaging/build_linux.sh builds it, self-tests it and packs it.

Slow (a PyInstaller build of a torch + Qt app takes minutes from scratch), so
marked `slow`; CI runs it. The build goes to packaging/build/ (git-ignored,
or $PIXTOOLS_BUNDLE_BUILD_DIR), which the script reuses while the spec, the
sources and the installed packages are unchanged: a second run only repeats
the self-tests and the packing.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.conftest import testdata_root as _testdata_root

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

MIME_TYPES = {"image/jpeg", "image/png", "image/webp", "image/avif", "image/tiff", "image/gif", "image/bmp"}
APP_ID = "org.pixtools.PixTools"


@pytest.fixture(scope="module")
def build() -> dict:
    if shutil.which("tar") is None:
        pytest.skip("tar is needed to pack the bundle")
    try:
        import PyInstaller  # noqa: F401 - only asks whether PyInstaller is installed
    except ImportError:
        msg = "PyInstaller is not installed (pip install -e '.[packaging]')"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    build_dir = Path(os.environ.get("PIXTOOLS_BUNDLE_BUILD_DIR", REPO_ROOT / "packaging" / "build"))
    build_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTOOLS_")}
    # Bundle the real colour model where the shared data has it, so the bundle's self-test runs the real weights.
    # A stable copy (mtime preserved) keeps the build cache key stable between runs.
    weights_src = _testdata_root() / "weights" / "GD_Color_Blind.mat"
    weights_dir = build_dir / "test-weights"
    if weights_src.is_file():
        weights_dir.mkdir(exist_ok=True)
        dst = weights_dir / weights_src.name
        if not dst.exists() or dst.stat().st_size != weights_src.stat().st_size:
            shutil.copy2(weights_src, dst)
        env["PIXTOOLS_BUILD_WEIGHTS"] = str(weights_dir)
    else:
        env["PIXTOOLS_BUILD_WEIGHTS"] = str(build_dir / "no-weights")
    proc = subprocess.run(
        [str(REPO_ROOT / "packaging" / "build_linux.sh"), str(build_dir)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=840,
    )
    assert proc.returncode == 0, f"build_linux.sh failed ({proc.returncode}):\n{proc.stderr[-6000:]}"
    tarball = Path(proc.stdout.strip().splitlines()[-1])
    times = dict(line.split(" ", 1) for line in (build_dir / "build-times.txt").read_text().splitlines())
    print(f"\nbundle build times: {times}")
    return {"dir": build_dir, "tarball": tarball, "with_weights": weights_src.is_file(), "times": times}


def test_bundle_self_test_ok(build: dict) -> None:
    report = json.loads((build["dir"] / "selftest.json").read_text().strip())
    assert report["ok"] is True, report
    assert report["frozen"] is True
    assert set(report["checks"]) == {"qt", "torch", "store", "engine", "model"}
    assert report["checks"]["torch"]["cuda"] is False
    if build["with_weights"]:
        assert report["checks"]["model"]["source"] == "weights:GD_Color_Blind.mat"
        assert report["checks"]["model"]["noise_reduction"] > 2.0
    xcb = build["dir"] / "selftest-xcb.json"
    if shutil.which("xvfb-run"):
        assert json.loads(xcb.read_text().strip())["checks"]["qt"]["platform"] == "xcb"


def test_tarball_contents(build: dict) -> None:
    tarball: Path = build["tarball"]
    assert tarball.is_file() and tarball.name.startswith("pixtools-desktop-")
    top = tarball.name.split(".tar.")[0]
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
    expected = [
        "pixtools", "install.sh", "uninstall.sh", "README.txt",
        f"share/applications/{APP_ID}.desktop", f"share/icons/hicolor/256x256/apps/{APP_ID}.png",
        "_internal/resources/pixtools.png",
        "_internal/PySide6/Qt/plugins/platforms/libqxcb.so",
        "_internal/PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "_internal/PySide6/Qt/plugins/imageformats/libqjpeg.so",
        "_internal/torch/lib/libtorch_cpu.so",
    ]
    if build["with_weights"]:
        expected.append("_internal/weights/GD_Color_Blind.mat")
    missing = [e for e in expected if f"{top}/{e}" not in names]
    assert not missing, f"missing from {tarball.name}: {missing}"
    # ... and what must stay out: headers, tests, CUDA, QML, unused platforms, tkinter
    unwanted = ("/torch/include/", "/torch/test/", "libjitbackend_test", "libtorchbind_test", "libcudart",
                "libtorch_cuda", "/Qt/qml/", "libqeglfs", "libqvnc", "libqgtk3", "/tkinter/", "libQt6Quick",
                "libQt6WebEngine", "/_pytest/")
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
    proc = subprocess.run([str(stage / "install.sh"), "--prefix", str(prefix)], env=env, capture_output=True,
                          text=True, timeout=300)
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
    again = subprocess.run([str(stage / "install.sh"), "--prefix", str(prefix)], env=env, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert not (prefix / "lib" / "pixtools-desktop.old").exists()

    proc = subprocess.run([str(appdir / "uninstall.sh")], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not appdir.exists() and not link.exists() and not link.is_symlink() and not desktop.exists()
