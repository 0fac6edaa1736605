"""The window paints before the heavy layers load: torch (model thread), boto3 and httpx (cloud sinks),
numpy and Pillow (the engine, loaded when the runner starts after the first paint)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pixtools_desktop.core.settings import Settings

REPO = Path(__file__).resolve().parents[2]
APP = "from pixtools_desktop.ui.app import run_app; run_app([])"


def _first_paint_line(home: Path) -> str:
    env = {
        **os.environ,
        "PIXTOOLS_HOME": str(home),
        "QT_QPA_PLATFORM": "offscreen",
        "PIXTOOLS_BENCH_FIRST_PAINT": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run([sys.executable, "-c", APP], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("first-paint")), None)
    assert line is not None, f"the window never painted: {out.stdout}{out.stderr[-2000:]}"
    return line


def test_first_paint_happens_before_torch_boto3_httpx_and_numpy_load(tmp_path):
    """Fresh interpreter, default settings (no cloud configured): none of the four is imported at first paint."""
    line = _first_paint_line(tmp_path)
    fields = dict(f.split("=", 1) for f in line.split()[2:])
    assert fields == {"boto3": "False", "httpx": "False", "numpy": "False", "torch": "False"}, line


def test_the_app_starts_its_runner_after_the_first_paint(qtbot, tmp_path):
    """`run_app`'s window (start_after_paint): no worker thread before the window paints, running right after."""
    from pixtools_desktop.ui.main_window import MainWindow

    win = MainWindow(Settings(output_dir=str(tmp_path / "out")), start_after_paint=True)
    qtbot.addWidget(win)
    try:
        assert not win.backend._loop.running, "the runner waits for the first paint"
        win.show()
        qtbot.waitUntil(lambda: win.backend._loop.running, timeout=5000)
    finally:
        win.shutdown()


@pytest.mark.parametrize("cloud", [{"webhook_url": "http://127.0.0.1:9/hook"}, {"s3_enabled": True}])
def test_configured_cloud_still_waits_for_the_first_paint(tmp_path, cloud):
    """With a webhook or S3 configured the sinks start, but only from the event loop, after the window shows."""
    from pixtools_desktop.core.settings import save_settings

    home = Path(os.environ["PIXTOOLS_HOME"])  # the test's own home (tests/conftest.py)
    save_settings(Settings(**cloud))
    line = _first_paint_line(home)
    assert "boto3=False" in line and "httpx=False" in line, line
