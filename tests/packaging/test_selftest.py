"""`pixtools --self-test` from the source tree, and the cheap-start promise of `--version`.

Run as subprocesses: the self-test creates a QGuiApplication, which must not
leak into the test process (pytest-qt creates its own QApplication).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT, require_testdata

EXPECTED_CHECKS = {"qt", "torch", "store", "engine", "model"}


def _run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTOOLS_")}
    full_env.update(PIXTOOLS_HOME=str(home), QT_QPA_PLATFORM="offscreen", **env)
    return subprocess.run(
        [sys.executable, "-m", "pixtools_desktop", *args],
        cwd=REPO_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _report(proc: subprocess.CompletedProcess) -> dict:
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one JSON line, got {proc.stdout!r} (stderr: {proc.stderr[-2000:]})"
    return json.loads(lines[0])


def test_self_test_source_tree_random_init(pixtools_home: Path) -> None:
    proc = _run(["--self-test"], pixtools_home)
    report = _report(proc)
    assert proc.returncode == 0, report
    assert report["ok"] is True and report["frozen"] is False
    assert set(report["checks"]) == EXPECTED_CHECKS
    assert all(c["ok"] for c in report["checks"].values())
    assert report["checks"]["qt"]["platform"] == "offscreen"
    assert report["checks"]["engine"]["output"] == "WEBP 48x32"
    # no weights anywhere in this fresh PIXTOOLS_HOME (and none in the repo's weights/ under test)
    if not any((REPO_ROOT / "weights").glob("*.mat")) and not any((REPO_ROOT / "weights").glob("*.pth")):
        assert report["checks"]["model"]["source"] == "random-init"
    # the self-test writes nothing but logs into the user's folders
    data = pixtools_home / "data"
    assert not data.exists() or not any(data.glob("*.sqlite3*"))


def test_self_test_with_real_weights_denoises(pixtools_home: Path) -> None:
    weights = require_testdata("weights", "GD_Color_Blind.mat")
    proc = _run(["--self-test"], pixtools_home, PIXTOOLS_WEIGHTS=str(weights))
    report = _report(proc)
    assert proc.returncode == 0, report
    model = report["checks"]["model"]
    assert model["source"] == "weights:GD_Color_Blind.mat"
    assert model["noise_reduction"] > 2.0


def test_self_test_fails_with_exit_1_on_broken_weights(pixtools_home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "dncnn_color_blind.pth"
    bad.write_bytes(b"this is not a model")
    proc = _run(["--self-test"], pixtools_home, PIXTOOLS_WEIGHTS=str(bad))
    report = _report(proc)
    assert proc.returncode == 1
    assert report["ok"] is False
    assert report["checks"]["model"]["ok"] is False
    assert "model file" in report["checks"]["model"]["error"]
    assert report["checks"]["engine"]["ok"] is True  # one broken part does not hide the others


def test_version_imports_neither_torch_nor_qt(pixtools_home: Path) -> None:
    """`pixtools --version` (and every CLI start) must stay cheap: no torch, no Qt."""
    code = (
        "import sys\n"
        "from pixtools_desktop.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'PySide6')))\n"
        "print('HEAVY', heavy)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTOOLS_")}
    env["PIXTOOLS_HOME"] = str(pixtools_home)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "PixTools Desktop" in proc.stdout
    assert "HEAVY []" in proc.stdout, proc.stdout
