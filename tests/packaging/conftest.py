"""One Linux build per test session, shared by the bundle, .deb and AppImage tests.

packaging/build_linux.sh builds the PyInstaller bundle, self-tests it and
packs the tarball, the .deb and the AppImage's squashfs. It is slow from
scratch (minutes), so it runs once per session, into packaging/build/
(git-ignored, or $PIXTOOLS_BUNDLE_BUILD_DIR), and the script itself reuses
the bundle while the spec, the sources and the installed packages are
unchanged. No model weights are bundled (none may be redistributed); the
tests that need the real model point PIXTOOLS_WEIGHTS at the shared data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


def _skip_or_fail(msg: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def build() -> dict:
    if shutil.which("tar") is None:
        _skip_or_fail("tar is needed to pack the bundle")
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        _skip_or_fail("PyInstaller is not installed (pip install -e '.[packaging]')")
    build_dir = Path(os.environ.get("PIXTOOLS_BUNDLE_BUILD_DIR", REPO_ROOT / "packaging" / "build"))
    build_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTOOLS_")}
    env.pop("PYTHONPATH", None)
    no_weights = build_dir / "no-weights"
    no_weights.mkdir(exist_ok=True)
    env["PIXTOOLS_BUILD_WEIGHTS"] = str(no_weights)
    # Fast compressors: the same files, packed in seconds instead of minutes on a shared 2-core machine
    # (releases use the defaults: xz tarball and .deb, zstd-15 SquashFS).
    env.update(PIXTOOLS_TAR_FORMAT="zst", PIXTOOLS_DEB_COMPRESS="gzip", PIXTOOLS_SQUASHFS_LEVEL="3")
    env.setdefault("PYTHON", sys.executable)
    proc = subprocess.run(
        [str(REPO_ROOT / "packaging" / "build_linux.sh"), str(build_dir)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert proc.returncode == 0, f"build_linux.sh failed ({proc.returncode}):\n{proc.stderr[-6000:]}"
    tarball = Path(proc.stdout.strip().splitlines()[-1])
    times = dict(line.split(" ", 1) for line in (build_dir / "build-times.txt").read_text().splitlines())
    artifacts = dict(line.split(" ", 1) for line in (build_dir / "artifacts.txt").read_text().splitlines())
    print(f"\nbundle build times: {times}")
    return {
        "dir": build_dir,
        "bundle": build_dir / "dist" / "PixTools",
        "tarball": tarball,
        "deb": Path(artifacts["deb"]) if "deb" in artifacts else None,
        "appimage": Path(artifacts["appimage"]) if "appimage" in artifacts else None,
        "times": times,
    }
