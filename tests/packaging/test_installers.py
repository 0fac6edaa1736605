"""The .deb and the AppImage, built from the session's one bundle (conftest.py), as a user gets them.

.deb: its metadata and file list, lintian (no errors), then a real
`dpkg -i` on this machine: `pixtools --self-test`, the first start under
Xvfb (the window paints; no write into /opt/pixtools; data in the user's
platformdirs folders), a second start handing its file to the first window
(single instance), denoise without a model explaining what it needs, and
`dpkg -r` leaving nothing behind. Needs root (dpkg), as in CI.

AppImage: the squashfs (or the AppImage, where the type-2 runtime was at
hand) extracted and run, which is what the runtime does.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import require_testdata

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200), pytest.mark.xdist_group("bundle")]  # one build, one worker

APP_ID = "org.pixtools.PixTools"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)
# The system libraries Qt's xcb platform plugin and Qt itself load from the host (not bundled).
XCB_DEPENDS = ("libx11-6", "libxcb1", "libfontconfig1", "libglib2.0-0", "libxkbcommon0")
DISPLAYS = range(60, 70)  # this area's Xvfb display numbers


def _skip_or_fail(msg: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def _deb(build: dict) -> Path:
    if build["deb"] is None:
        _skip_or_fail("no .deb was built (dpkg-deb missing)")
    return build["deb"]


def _control(deb: Path) -> dict[str, str]:
    out = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, timeout=60, check=True).stdout
    fields, key = {}, None
    for line in out.splitlines():
        if line.startswith(" ") and key:
            fields[key] += "\n" + line
        else:
            key, _, value = line.partition(": ")
            fields[key] = value
    return fields


def _dep_names(field: str) -> set[str]:
    return {alt.strip().split(" ")[0].split(":")[0] for dep in field.split(",") for alt in dep.split("|")}


def test_deb_metadata_and_files(build: dict) -> None:
    deb = _deb(build)
    control = _control(deb)
    assert control["Package"] == "pixtools" and control["Architecture"] == "amd64"
    assert control["Section"] == "graphics"
    depends = _dep_names(control["Depends"])
    missing = [d for d in XCB_DEPENDS if d not in depends]
    assert not missing, f"Depends lacks {missing}: {control['Depends']}"
    assert "libc6" in depends and int(control["Installed-Size"]) > 100_000
    listing = subprocess.run(
        ["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    paths = {line.split()[5].lstrip(".") for line in listing.splitlines()}
    expected = [
        "/opt/pixtools/pixtools",
        "/opt/pixtools/_internal/torch/lib/libtorch_cpu.so",
        "/usr/bin/pixtools",
        f"/usr/share/applications/{APP_ID}.desktop",
        "/usr/share/man/man1/pixtools.1.gz",
        "/usr/share/doc/pixtools/copyright",
        "/usr/share/doc/pixtools/THIRD-PARTY-NOTICES.txt.gz",
        f"/usr/share/metainfo/{APP_ID}.metainfo.xml",
    ]
    expected += [f"/usr/share/icons/hicolor/{s}x{s}/apps/{APP_ID}.png" for s in ICON_SIZES]
    assert not [p for p in expected if p not in paths], [p for p in expected if p not in paths]
    assert not [p for p in paths if "/weights/" in p]  # no model without a licence that allows it
    link = next(line for line in listing.splitlines() if line.split()[5] == "./usr/bin/pixtools")
    assert link.startswith("l") and link.endswith("-> /opt/pixtools/pixtools")


def test_deb_lintian_has_no_errors(build: dict) -> None:
    deb = _deb(build)
    if shutil.which("lintian") is None:
        _skip_or_fail("lintian is not installed (apt-get install lintian)")
    proc = subprocess.run(
        ["lintian", "--fail-on", "error", "--tag-display-limit", "0", str(deb)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    errors = [line for line in proc.stdout.splitlines() if line.startswith("E:")]
    assert proc.returncode == 0 and not errors, proc.stdout[-4000:] + proc.stderr[-2000:]


# ------------------------------------------------------------ installed
def _snapshot(*roots: Path) -> dict[str, tuple]:
    """Path -> (type, size, mtime) for everything under the roots (what an install could leave behind)."""
    out = {}
    for root in roots:
        if not root.exists():
            continue
        for p in [root, *root.rglob("*")]:
            st = p.lstat()
            out[str(p)] = (p.is_symlink(), p.is_dir(), st.st_size if p.is_file() else 0, st.st_mtime_ns)
    return out


def _dpkg(*args: str) -> subprocess.CompletedProcess:
    """dpkg, waiting for the lock another apt/dpkg run may hold (other work shares this machine)."""
    deadline = time.monotonic() + 300
    while True:
        proc = subprocess.run(
            ["dpkg", *args],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        if proc.returncode == 0 or "lock" not in proc.stderr or time.monotonic() > deadline:
            return proc
        time.sleep(3)


@pytest.fixture(scope="module")
def xvfb():
    if shutil.which("Xvfb") is None:
        _skip_or_fail("Xvfb is not installed")
    for n in DISPLAYS:
        if Path(f"/tmp/.X11-unix/X{n}").exists() or Path(f"/tmp/.X{n}-lock").exists():
            continue
        proc = subprocess.Popen(
            ["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{n}").exists():
                break
            time.sleep(0.05)
        if proc.poll() is None and Path(f"/tmp/.X11-unix/X{n}").exists():
            yield f":{n}"
            proc.terminate()
            proc.wait(10)
            return
        proc.kill()
        proc.wait(10)
    pytest.fail(f"no free X display in {DISPLAYS.start}-{DISPLAYS.stop - 1}")


@pytest.fixture(scope="module")
def installed(build: dict):
    """The .deb installed with dpkg for the tests below; removed after, and checked to leave nothing."""
    deb = _deb(build)
    if os.geteuid() != 0:
        _skip_or_fail("installing the .deb needs root")
    watched = [
        Path("/opt/pixtools"),
        Path("/usr/bin/pixtools"),
        Path("/usr/share/doc/pixtools"),
        Path("/usr/share/man/man1/pixtools.1.gz"),
        Path(f"/usr/share/applications/{APP_ID}.desktop"),
        Path(f"/usr/share/metainfo/{APP_ID}.metainfo.xml"),
        Path("/usr/share/lintian/overrides/pixtools"),
        *[Path(f"/usr/share/icons/hicolor/{s}x{s}/apps/{APP_ID}.png") for s in ICON_SIZES],
    ]
    leftovers = [str(p) for p in watched if p.exists() or p.is_symlink()]
    if leftovers:
        pytest.fail(f"pixtools files present before the install (an earlier run?): {leftovers}")
    proc = _dpkg("-i", str(deb))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    try:
        yield watched
    finally:
        removed = _dpkg("-r", "pixtools")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    left = [str(p) for p in watched if p.exists() or p.is_symlink()]
    assert not left, f"dpkg -r left files behind: {left}"
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "pixtools"], capture_output=True, text=True)
    assert "installed" not in status.stdout.replace("not-installed", ""), status.stdout


def _user_env(home: Path, display: str | None = None) -> dict[str, str]:
    """A fresh user: own HOME, no PIXTOOLS_HOME (platformdirs decides), no XDG overrides, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXTOOLS_", "XDG_", "PYTHON", "QT_", "WAYLAND"))}
    tmp = home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), TMPDIR=str(tmp), PATH="/usr/bin:/bin")
    if display:
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def test_installed_self_test_and_man_page(installed, tmp_path: Path) -> None:
    proc = subprocess.run(
        ["/usr/bin/pixtools", "--self-test"],
        env=_user_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert '"ok": true' in proc.stdout and '"frozen": true' in proc.stdout
    if shutil.which("man"):
        page = subprocess.run(
            ["man", "-P", "cat", "pixtools"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "MANWIDTH": "80"},
        )
        assert page.returncode == 0 and "pixtools process" in page.stdout, page.stderr


def test_first_start_window_single_instance_and_user_folders(installed, xvfb: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = _user_env(home, xvfb)
    before = _snapshot(Path("/opt/pixtools"))

    # 1. first start: the window paints (PIXTOOLS_BENCH_FIRST_PAINT makes it print when, then quit)
    t0 = time.time()
    paint = subprocess.run(
        ["/usr/bin/pixtools"],
        env={**env, "PIXTOOLS_BENCH_FIRST_PAINT": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert paint.returncode == 0, paint.stderr[-3000:]
    line = next(ln for ln in paint.stdout.splitlines() if ln.startswith("first-paint "))
    first_paint_s = float(line.split()[1]) - t0
    print(f"\nfirst start of the installed app: window painted after {first_paint_s:.2f} s ({line})")
    assert "torch=False" in line  # the window does not wait for torch
    assert first_paint_s < 30  # the 3 s target is measured by benchmarks/bundle.py, not asserted on a shared machine

    # 2. the window stays up; a second start hands its file over and exits
    photo = tmp_path / "photo.png"
    shutil.copy(require_testdata("testsets", "CBSD68") / "101085.png", photo)
    window = subprocess.Popen(
        ["/usr/bin/pixtools"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        sockets: list[Path] = []
        while time.monotonic() < deadline and not sockets:
            assert window.poll() is None, window.communicate()[1][-3000:]
            sockets = [p for p in (home / "tmp").glob("pixtools-*") if p.is_socket()]
            time.sleep(0.2)
        assert sockets, "the first window never listened for a second start"
        t1 = time.monotonic()
        second = subprocess.run(["/usr/bin/pixtools", str(photo)], env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr[-3000:]
        handed_over_s = time.monotonic() - t1
        db = home / ".local" / "share" / "PixTools" / "jobs.sqlite3"
        found = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not found:
            if db.exists():
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                    found = conn.execute("SELECT id FROM jobs WHERE input_path = ?", (str(photo),)).fetchall()
            time.sleep(0.3)
        assert found, f"the first window did not queue the file the second start handed over ({db})"
        print(f"second start handed its file over and exited in {handed_over_s:.2f} s")
        assert window.poll() is None, "the first window quit"
    finally:
        os.killpg(window.pid, signal.SIGTERM)
        try:
            window.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(window.pid, signal.SIGKILL)
            window.wait(10)

    # 3. the user's data is in the user's platformdirs folders, nothing was written into the install
    assert (home / ".local" / "share" / "PixTools" / "jobs.sqlite3").is_file()
    assert (home / ".local" / "state" / "PixTools").is_dir() or (home / ".cache" / "PixTools").is_dir()
    after = _snapshot(Path("/opt/pixtools"))
    changed = sorted(set(before.items()) ^ set(after.items()))
    assert not changed, f"the app wrote into its install folder: {changed[:10]}"


def test_denoise_without_model_says_what_it_needs(installed, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    shutil.copy(require_testdata("testsets", "CBSD68") / "101085.png", photo)
    proc = subprocess.run(
        [
            "/usr/bin/pixtools",
            "process",
            "--ops",
            "denoise",
            "--no-progress",
            "--out",
            str(tmp_path / "out"),
            str(photo),
        ],
        env=_user_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, text
    assert "pixtools models download" in text, text[-3000:]


# ------------------------------------------------------------ AppImage
def test_appimage_extracts_and_runs(build: dict, tmp_path: Path) -> None:
    image = build["appimage"]
    if image is None:
        _skip_or_fail("no AppImage/squashfs was built (mksquashfs missing: apt-get install squashfs-tools)")
    root = tmp_path / "squashfs-root"
    if image.suffix == ".AppImage":  # the runtime was at hand: let it extract itself
        subprocess.run([str(image), "--appimage-extract"], cwd=tmp_path, check=True, capture_output=True, timeout=600)
    else:
        if shutil.which("unsquashfs") is None:
            _skip_or_fail("unsquashfs is not installed (squashfs-tools)")
        subprocess.run(
            ["unsquashfs", "-no-progress", "-d", str(root), str(image)], check=True, capture_output=True, timeout=600
        )
    for name in (
        "AppRun",
        f"{APP_ID}.desktop",
        f"{APP_ID}.png",
        ".DirIcon",
        f"usr/share/metainfo/{APP_ID}.appdata.xml",
        "usr/lib/pixtools/pixtools",
    ):
        assert (root / name).exists() or (root / name).is_symlink(), name
    assert os.access(root / "AppRun", os.X_OK)
    if shutil.which("desktop-file-validate"):
        subprocess.run(["desktop-file-validate", str(root / f"{APP_ID}.desktop")], check=True, timeout=60)
    env = _user_env(tmp_path / "home")
    env["APPDIR"] = str(root)
    proc = subprocess.run([str(root / "AppRun"), "--self-test"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert '"ok": true' in proc.stdout and '"frozen": true' in proc.stdout
