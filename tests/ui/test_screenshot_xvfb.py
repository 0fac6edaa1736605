"""The app in a real X window (Xvfb + xcb), with a screenshot saved to docs/screenshot.png."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import require_testdata

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.xvfb


@pytest.fixture
def xvfb_display():
    exe = shutil.which("Xvfb")
    if exe is None:
        msg = "Xvfb is not installed (apt-get install xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    n = next(i for i in range(99, 400) if not Path(f"/tmp/.X{i}-lock").exists()
             and not Path(f"/tmp/.X11-unix/X{i}").exists())
    proc = subprocess.Popen([exe, f":{n}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{n}").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Xvfb :{n} did not start: {proc.stderr.read().decode(errors='replace')[-500:]}")
            time.sleep(0.05)
        yield f":{n}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        proc.stderr.close()


def test_real_window_screenshot(xvfb_display, tmp_path, pixtools_home):
    src = require_testdata("testsets", "CBSD68")
    photos = tmp_path / "photos"
    photos.mkdir()
    for f in sorted(src.glob("*.png"))[:8]:
        shutil.copy(f, photos / f.name)
    (photos / "holiday-notes.txt").write_text("not a photo")
    (photos / "truncated.png").write_bytes((sorted(src.glob("*.png"))[0]).read_bytes()[:3000])
    shot = tmp_path / "screenshot.png"
    env = {**os.environ, "DISPLAY": xvfb_display, "QT_QPA_PLATFORM": "xcb", "PIXTOOLS_HOME": str(pixtools_home)}
    out = subprocess.run([sys.executable, "-m", "tests.ui.screenshot_app", str(photos), str(shot)], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]
    assert "platform=xcb" in out.stdout
    from PIL import Image

    with Image.open(shot) as im:
        assert im.width >= 1200 and im.height >= 700
        colours = im.convert("RGB").resize((64, 40)).getcolors(4096)
        assert colours is not None and len(colours) > 20  # a real, drawn window, not a blank frame
    if os.environ.get("PIXTOOLS_UPDATE_SCREENSHOT") == "1":  # refresh the README's picture on purpose only
        docs = REPO / "docs"
        docs.mkdir(exist_ok=True)
        shutil.copy(shot, docs / "screenshot.png")
