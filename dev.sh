#!/usr/bin/env bash
# PixTools Desktop developer entry point.
#   ./dev.sh run    set up what the app needs (system libraries, .venv) and launch it
#   ./dev.sh test   also set up the test tools, then run the whole test suite
#   ./dev.sh lint   also set up the test tools, then ruff (lint, format check), mypy and lint-imports
#   ./dev.sh setup  only set up the app
# Idempotent: a second run installs nothing new. `run` never installs the test
# tools (pytest, PyInstaller, SeaweedFS); `test` adds them ([test] extra).
set -euo pipefail
cd "$(dirname "$0")"

PY=${PYTHON:-python3}
VENV=.venv
# The app: Qt's xcb platform plugin, GL/EGL, fontconfig and a font, to open the window.
APP_APT=(python3-venv libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
  libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-randr0 libxcb-shape0
  libxcb-cursor0 libxcb-xinerama0 libxcb-xkb1 fonts-dejavu-core)
APP_APT_WHY="Qt's X11 (xcb), OpenGL and font libraries, to open the window"
# The tests: Xvfb for the real-window test, desktop-file-validate for the Linux bundle test,
# ImageMagick as the baseline of benchmarks/ops.py.
# The bundle's Wayland plugins link libwayland-cursor/-egl: dpkg-shlibdeps reads the .deb's
# dependencies from the libraries installed here, and fails on a machine without them.
TEST_APT=(xvfb xauth openbox desktop-file-utils imagemagick dpkg-dev lintian squashfs-tools
  libwayland-client0 libwayland-cursor0 libwayland-egl1)
TEST_APT_WHY="Xvfb and openbox (real-window tests), desktop-file-utils (bundle test), ImageMagick (benchmark baseline), dpkg-dev/lintian/squashfs-tools and the Wayland client libraries (.deb and AppImage tests)"

say() { echo "dev.sh: $*" >&2; }

install_system_packages() {  # why, packages...
  local why=$1
  shift
  command -v dpkg >/dev/null 2>&1 || { say "not a Debian/Ubuntu system; install these yourself: $why"; return 0; }
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  say "installing system packages for $why: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_venv() {  # extra ("" for the app, "test" for the suite)
  local extra=$1
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment $VENV (nothing is installed outside this folder)"
    "$PY" -m venv "$VENV"
  fi
  local stamp="$VENV/.pixtools-installed${extra:+-$extra}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    if [ -z "$extra" ]; then
      say "installing the app's Python dependencies (pyproject.toml [project.dependencies]): PySide6 (window)," \
        "torch CPU 2.13.0 (denoising), Pillow and numpy (images), FastAPI and uvicorn (pixtools serve)," \
        "boto3 and httpx (S3, webhooks, remote backend), h5py (model files) and small helpers"
    else
      say "installing the test tools (pyproject.toml [test] extra): pytest with pytest-qt and pytest-timeout," \
        "SeaweedFS (a real S3 server for the cloud tests), PyInstaller (the bundle test)"
    fi
    # pip's own output (build-backend notes included) goes to a log, shown only if the install fails.
    local log="$VENV/pip-install${extra:+-$extra}.log"
    # torch is pinned in pyproject (2.13.0): a newer one pulls multi-GB CUDA wheels.
    if ! { "$VENV/bin/python" -m pip install --upgrade pip &&
      "$VENV/bin/python" -m pip install -e ".${extra:+[$extra]}"; } >"$log" 2>&1; then
      tail -n 40 "$log" >&2
      say "the install failed; the whole pip output is in $log"
      exit 1
    fi
    say "done (pip's output: $log)"
    touch "$stamp"
  fi
}

setup_app() {
  install_system_packages "$APP_APT_WHY" "${APP_APT[@]}"
  setup_venv ""
}

setup_test() {
  setup_app
  install_system_packages "$TEST_APT_WHY" "${TEST_APT[@]}"
  setup_venv test
}

cmd=${1:-run}
shift || true
case "$cmd" in
  setup) setup_app ;;
  run)
    setup_app
    exec "$VENV/bin/pixtools" "$@"
    ;;
  test)
    setup_test
    export QT_QPA_PLATFORM=offscreen
    # Tests read the shared data (weights, photos) from PIXTOOLS_TESTDATA, default ../shared/data;
    # the session starts by saying what is missing and what that skips (tests/conftest.py).
    # One worker per core (PIXTOOLS_TEST_WORKERS to choose; 0 runs in this process); the packaging
    # tests are one group (one PyInstaller build) that starts first (tests/conftest.py).
    exec "$VENV/bin/python" -m pytest -n "${PIXTOOLS_TEST_WORKERS:-auto}" --dist loadgroup "$@"
    ;;
  lint)
    setup_test
    # All four run, so one report shows every problem; the exit status is 1 if any failed.
    status=0
    "$VENV/bin/ruff" check pixtools_desktop tests benchmarks || status=1
    "$VENV/bin/ruff" format --check pixtools_desktop tests benchmarks || status=1
    "$VENV/bin/mypy" pixtools_desktop || status=1
    "$VENV/bin/lint-imports" || status=1
    exit $status
    ;;
  *) echo "usage: ./dev.sh [run|test|lint|setup] [args...]" >&2; exit 2 ;;
esac
