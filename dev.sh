#!/usr/bin/env bash
# PixTools Desktop developer entry point.
#   ./dev.sh run    set everything up (system packages, .venv) and launch the app
#   ./dev.sh test   set everything up and run the whole test suite
#   ./dev.sh setup  only set up
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")"

PY=${PYTHON:-python3}
VENV=.venv
# Qt's xcb platform and Xvfb for the real-window test; libGL/EGL/fontconfig for Qt offscreen.
APT_PACKAGES=(python3-venv libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
  xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-randr0 libxcb-shape0
  libxcb-cursor0 libxcb-xinerama0 libxcb-xkb1 fonts-dejavu-core imagemagick desktop-file-utils
  dpkg-dev lintian squashfs-tools)  # the .deb (dpkg-shlibdeps, lintian) and AppImage (mksquashfs) tests

install_system_packages() {
  command -v dpkg >/dev/null 2>&1 || { echo "dev.sh: not a Debian/Ubuntu system; install Qt's xcb libraries and Xvfb yourself" >&2; return 0; }
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "dev.sh: installing system packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
  fi
  local stamp="$VENV/.pixtools-installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # torch is pinned in pyproject (2.13.0): a newer one pulls multi-GB CUDA wheels.
    "$VENV/bin/python" -m pip install -q -e ".[test]"
    touch "$stamp"
  fi
}

setup() {
  install_system_packages
  setup_venv
}

cmd=${1:-run}
shift || true
case "$cmd" in
  setup) setup ;;
  run)
    setup
    exec "$VENV/bin/pixtools" "$@"
    ;;
  test)
    setup
    export QT_QPA_PLATFORM=offscreen
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *) echo "usage: ./dev.sh [run|test|setup] [args...]" >&2; exit 2 ;;
esac
