"""The app in a real X window (Xvfb + openbox + xcb), light and dark: every window kind must be readable.

One X server per module; the app runs once per theme (tests/ui/screens_app.py)
and photographs the main window at 1600x1000 and 1024x640, the header's menu,
a combo pop-up, the file dialog, a message box, Settings, Health and Compare,
grabbed from the X server. Each sampled label, button and queue cell must
reach WCAG AA (4.5:1) between its text and its background, and no dialog may
be mostly black in the light theme (a transparent top-level is drawn black).
`PIXTOOLS_UPDATE_SCREENSHOT=1` copies the main window shots to docs/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import require_testdata

REPO = Path(__file__).resolve().parents[2]
DISPLAYS = range(50, 60)  # this area's range (helpers share the machine)
DIALOGS = (
    "file_dialog",
    "message_box",
    "settings",
    "health",
    "compare",
    "menu",
    "combo_popup",
    "input_dialog",
)
SHOTS = ("main_1600", "main_1024", *DIALOGS)
pytestmark = pytest.mark.xvfb


def _pixels(im):
    getter = getattr(im, "get_flattened_data", None) or im.getdata  # Pillow 12+ renamed it
    return getter()


def _lum(rgb: tuple[int, int, int]) -> float:
    def lin(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    hi, lo = sorted((_lum(a), _lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def region_contrast(im, rect: list[int]) -> float | None:
    """Text/background contrast in a region: the most common colour is the background,
    the text is the colour (present on enough pixels to be glyph cores) furthest from it."""
    x, y, w, h = rect
    crop = im.crop((max(0, x), max(0, y), min(im.width, x + w), min(im.height, y + h)))
    counts = Counter(_pixels(crop))
    if not counts:
        return None
    total = sum(counts.values())
    bg, _ = counts.most_common(1)[0]
    floor = max(3, total // 200)
    candidates = [c for c, n in counts.items() if c != bg and n >= floor]
    if not candidates:
        return None
    return max(contrast(c, bg) for c in candidates)


def dark_fraction(im) -> float:
    small = im.convert("L").resize((max(1, im.width // 4), max(1, im.height // 4)))
    data = list(_pixels(small))
    return sum(1 for v in data if v < 40) / len(data)


@pytest.fixture(scope="module")
def xserver(tmp_path_factory):
    yield from _x_display(tmp_path_factory, "1680x1050x24")


@pytest.fixture(scope="module")
def laptop_xserver(tmp_path_factory):
    """A 1024x640 screen, as on a small laptop."""
    yield from _x_display(tmp_path_factory, "1024x640x24")


def _x_display(tmp_path_factory, screen: str):
    exe, wm = shutil.which("Xvfb"), shutil.which("openbox")
    if exe is None or wm is None:
        msg = "Xvfb/openbox missing (apt-get install xvfb openbox libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    n = next(
        (i for i in DISPLAYS if not Path(f"/tmp/.X{i}-lock").exists() and not Path(f"/tmp/.X11-unix/X{i}").exists()),
        None,
    )
    if n is None:
        pytest.skip(f"no free X display in :{DISPLAYS.start}-{DISPLAYS.stop - 1}")
    xvfb = subprocess.Popen(
        [exe, f":{n}", "-screen", "0", screen, "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    procs = [xvfb]
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{n}").exists():
            if xvfb.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Xvfb :{n} did not start: {xvfb.stderr.read().decode(errors='replace')[-500:]}")
            time.sleep(0.05)
        home = tmp_path_factory.mktemp("openbox")
        procs.append(
            subprocess.Popen(
                [wm, "--sm-disable"],
                env={**os.environ, "DISPLAY": f":{n}", "HOME": str(home)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        time.sleep(0.5)
        yield f":{n}"
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        xvfb.stderr.close()


@pytest.fixture(scope="module")
def shots(xserver, tmp_path_factory):
    """theme -> (folder, shots.json), the app run once per theme on first use."""
    src = require_testdata("testsets", "CBSD68")
    done: dict[str, tuple[Path, dict]] = {}

    def get(theme: str) -> tuple[Path, dict]:
        if theme in done:
            return done[theme]
        root = tmp_path_factory.mktemp(f"screens-{theme}")
        photos = root / "photos"
        photos.mkdir()
        for f in sorted(src.glob("*.png"))[:8]:
            shutil.copy(f, photos / f.name)
        (photos / "holiday-notes.txt").write_text("not a photo")
        (photos / "truncated.png").write_bytes(sorted(src.glob("*.png"))[0].read_bytes()[:3000])
        out = root / "shots"
        env = {**os.environ, "DISPLAY": xserver, "QT_QPA_PLATFORM": "xcb", "PIXTOOLS_HOME": str(root / "home")}
        env.pop("PIXTOOLS_WORKERS", None)
        proc = subprocess.run(
            [sys.executable, "-m", "tests.ui.screens_app", str(photos), str(out), theme],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
        assert "platform=xcb" in proc.stdout
        done[theme] = (out, json.loads((out / "shots.json").read_text()))
        return done[theme]

    return get


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("shot", SHOTS)
def test_every_window_is_readable(shots, theme, shot):
    from PIL import Image

    folder, meta = shots(theme)
    assert shot in meta, f"{shot} was not taken"
    with Image.open(folder / meta[shot]["file"]) as raw:
        im = raw.convert("RGB")
    colours = im.resize((64, 40)).getcolors(4096)
    assert colours is not None and len(colours) > 3, "a blank frame, not a drawn window"
    if theme == "light" and shot in DIALOGS:
        chrome = im.copy()
        if "canvas" in meta[shot]:  # the compare view's photo area is the photo's, not the theme's
            x, y, w, h = meta[shot]["canvas"]
            chrome.paste((255, 255, 255), (x, y, x + w, y + h))
        assert dark_fraction(chrome) < 0.35, f"{shot} is mostly black in the light theme"
    poor = []
    for region in meta[shot]["regions"]:
        ratio = region_contrast(im, region["rect"])
        if ratio is not None and ratio < 4.5:
            poor.append(f"{region['name']} {ratio:.2f}:1 at {region['rect']}")
    sampled = [r for r in meta[shot]["regions"] if region_contrast(im, r["rect"]) is not None]
    if shot != "compare":
        assert len(sampled) >= 3, f"too few text regions sampled in {shot}: {meta[shot]['regions']}"
    assert not poor, f"{theme} {shot}: text below 4.5:1 — " + "; ".join(poor)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_laptop_size_fits(shots, theme):
    _, meta = shots(theme)
    info = meta["main_1024"]["left_panel"]
    assert info["min_width"] <= 1024 and info["window_width"] <= 1040  # 1024 plus the window frame
    assert info["panel_width"] <= info["viewport_width"], "the left panel's scroll bar covers its controls"
    assert not info["table_hscroll"], "the queue needs a horizontal scroll bar at 1024 px"
    assert info["folded"], "header actions should fold into the More menu at 1024 px"
    cut = info["result_text_cut"]
    assert not cut, "the result card cuts its text at 1024 px: " + "; ".join(cut)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_file_dialog_columns_read_in_full(shots, theme):
    """Size, Type and Date as wide as their text ("33 KiB", not "33…iB"); the name column takes the rest."""
    _, meta = shots(theme)
    assert meta["file_dialog"]["squeezed_columns"] == []


FIRST_START = """
import json, sys, time
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from pixtools_desktop.ui.main_window import MainWindow
w = MainWindow()
w.show()
end = time.monotonic() + 1.5
while time.monotonic() < end:
    app.processEvents()
    time.sleep(0.02)
f, a = w.frameGeometry(), w.screen().availableGeometry()
print(json.dumps({"frame": [f.x(), f.y(), f.width(), f.height()], "screen": [a.x(), a.y(), a.width(), a.height()],
                  "folded": w.header.folded()}))
w.shutdown()
"""


def test_first_start_on_a_laptop_screen_fits_it(laptop_xserver, tmp_path):
    """No saved geometry, a 1024x640 screen: the window opens inside it (header folded), not 1360 px wide."""
    env = {**os.environ, "DISPLAY": laptop_xserver, "QT_QPA_PLATFORM": "xcb", "PIXTOOLS_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", FIRST_START], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    x, y, w, h = info["frame"]
    sx, sy, sw, sh = info["screen"]
    assert sx <= x and sy <= y and x + w <= sx + sw and y + h <= sy + sh, info
    assert info["folded"], "at this width the header's extra actions fold into More"


RESTART = """
import json, sys, time
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from pixtools_desktop.ui.main_window import MainWindow
def settle(s):
    end = time.monotonic() + s
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
w = MainWindow()
w.show()
settle(1.0)
if sys.argv[1] == "first":
    w.resize(w.minimumWidth() + 2, 520)
    w.move(4, 50)
    settle(0.8)
    w.splitter.setSizes([300, 400, 200])
    settle(0.3)
g = w.geometry()
print(json.dumps({"geometry": [g.x(), g.y(), g.width(), g.height()], "splitter": w.splitter.sizes(),
                  "asked": [w.minimumWidth() + 2, 520]}))
w.shutdown()
"""


def test_window_geometry_comes_back_after_a_restart(laptop_xserver, tmp_path):
    """Size, place and panel widths as the user left them, in a real X window with a window manager."""
    env = {**os.environ, "DISPLAY": laptop_xserver, "QT_QPA_PLATFORM": "xcb", "PIXTOOLS_HOME": str(tmp_path)}
    seen = []
    for phase in ("first", "second"):
        proc = subprocess.run(
            [sys.executable, "-c", RESTART, phase], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        seen.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    first, second = seen
    assert first["geometry"][2:] == first["asked"], first  # the window manager honoured the resize
    assert second["geometry"] == first["geometry"], seen
    assert second["splitter"] == first["splitter"], seen


def test_refresh_docs_screenshots_on_request(shots):
    if os.environ.get("PIXTOOLS_UPDATE_SCREENSHOT") != "1":
        pytest.skip("set PIXTOOLS_UPDATE_SCREENSHOT=1 to refresh docs/ screenshots")
    docs = REPO / "docs"
    docs.mkdir(exist_ok=True)
    for theme in ("light", "dark"):
        folder, meta = shots(theme)
        shutil.copy(folder / meta["main_1600"]["file"], docs / f"screenshot-{theme}.png")
        shutil.copy(folder / meta["main_1024"]["file"], docs / f"screenshot-{theme}-1024.png")
