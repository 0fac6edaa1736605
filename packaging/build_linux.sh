#!/usr/bin/env bash
# Build the Linux bundle, prove it runs, and pack it as a tarball with a desktop entry.
#
#   packaging/build_linux.sh [BUILD_DIR]        default: packaging/build
#
# Steps: PyInstaller one-folder build (packaging/pixtools.spec) -> the built
# binary's `--self-test` (must print {"ok": true, ...}) -> a staging folder
# with install.sh/uninstall.sh, the .desktop entry and the icon -> tarball.
#
# The PyInstaller step is skipped when BUILD_DIR already holds a bundle built
# from the same inputs: a hash of the spec, hooks, this script, the app's
# sources and resources, the bundled weights and the installed package
# versions (pip freeze). PIXTOOLS_BUILD_FORCE=1 rebuilds anyway. The self-test
# always runs.
#
# Environment:
#   PYTHON                  interpreter with PyInstaller and the app (default .venv/bin/python)
#   PIXTOOLS_BUILD_WEIGHTS  folder whose *.mat/*.pth are bundled (default weights/)
#   PIXTOOLS_BUILD_NICE     nice level for PyInstaller (default 10)
#   PIXTOOLS_TAR_FORMAT     xz (default: smallest, opens everywhere), gz (faster) or zst (fastest)
#   PIXTOOLS_BUILD_FORCE    1: ignore the cached bundle
#   PIXTOOLS_BUILD_DEB      1 (default where dpkg-deb exists): also the .deb (packaging/linux/build_deb.sh)
#   PIXTOOLS_DEB_COMPRESS   xz (default) or gzip (quick): the .deb's compression (build_deb.sh)
#   PIXTOOLS_SQUASHFS_LEVEL zstd level of the AppImage's SquashFS (default 15; build_appimage.sh)
#   PIXTOOLS_BUILD_APPIMAGE 1 (default where mksquashfs exists): also the AppDir + squashfs, and the
#                           AppImage when APPIMAGE_RUNTIME names the type-2 runtime (packaging/linux/build_appimage.sh)
# Output (last line on stdout): the tarball's path. Timings go to BUILD_DIR/build-times.txt; the
# paths of the .deb and the AppImage (or its squashfs) to BUILD_DIR/artifacts.txt.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
BUILD_DIR="$(mkdir -p "${1:-$HERE/build}" && cd "${1:-$HERE/build}" && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY="$(command -v python3)"
NICE="${PIXTOOLS_BUILD_NICE:-10}"
FORMAT="${PIXTOOLS_TAR_FORMAT:-xz}"
export PIXTOOLS_BUILD_WEIGHTS="${PIXTOOLS_BUILD_WEIGHTS:-$ROOT/weights}"

VERSION="$("$PY" -c 'import pixtools_desktop as p; print(p.__version__)')"
ARCH="$(uname -m)"
NAME="pixtools-desktop-$VERSION-linux-$ARCH"
DIST="$BUILD_DIR/dist"
BUNDLE="$DIST/PixTools"
TIMES="$BUILD_DIR/build-times.txt"
: >"$TIMES"
log() { echo "build_linux: $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# One build per folder at a time (two test runs may share packaging/build): wait for the other.
exec 9>"$BUILD_DIR/.lock"
if command -v flock >/dev/null 2>&1; then
  flock -n 9 || { log "another build is using $BUILD_DIR: waiting for it"; flock 9; }
fi

"$PY" -c 'import PyInstaller' 2>/dev/null || {
  log "PyInstaller is not installed for $PY: pip install -e '.[packaging]'"
  exit 2
}

# ------------------------------------------------------------ cache key
# Everything PyInstaller's output depends on (this script's own packing steps are not part of it).
build_key() {
  (
    cd "$ROOT"
    sha256sum packaging/pixtools.spec packaging/pixtools_entry.py
    find packaging/icons pixtools_desktop resources -type f \
      ! -name '*.pyc' ! -path '*/__pycache__/*' 2>/dev/null | LC_ALL=C sort | xargs -r sha256sum
    if [ -d "$PIXTOOLS_BUILD_WEIGHTS" ]; then
      (cd "$PIXTOOLS_BUILD_WEIGHTS" && find . -maxdepth 1 -type f \( -name '*.mat' -o -name '*.pth' \) |
        LC_ALL=C sort | xargs -r sha256sum)
    fi
    "$PY" -m pip freeze --all 2>/dev/null | grep -v '^-e ' || true
    "$PY" -c 'import sys; print(sys.version)'
  ) | sha256sum | cut -c1-16
}
KEY="$(build_key)"
KEY_FILE="$BUILD_DIR/.build-key"

# ------------------------------------------------------------ 1. bundle
if [ "${PIXTOOLS_BUILD_FORCE:-0}" != 1 ] && [ -x "$BUNDLE/pixtools" ] && [ "$(cat "$KEY_FILE" 2>/dev/null)" = "$KEY" ]; then
  log "bundle is up to date (key $KEY): $BUNDLE"
  echo "pyinstaller_s cached" >>"$TIMES"
else
  log "building with PyInstaller (nice $NICE) into $BUILD_DIR ..."
  rm -f "$KEY_FILE"
  t0="$(now)"
  (cd "$ROOT" && nice -n "$NICE" "$PY" -m PyInstaller --noconfirm --log-level WARN \
    --workpath "$BUILD_DIR/work" --distpath "$DIST" packaging/pixtools.spec) >&2
  echo "pyinstaller_s $(elapsed "$t0")" >>"$TIMES"
  echo "$KEY" >"$KEY_FILE"
  rm -rf "$BUILD_DIR/stage" "$BUILD_DIR"/*.tar.*  # stale packages of an older bundle
fi
[ -x "$BUNDLE/pixtools" ] || { log "no executable at $BUNDLE/pixtools"; exit 1; }
# PyInstaller adds top-level links to the libraries it relocated (libQt6X.so.6 -> PySide6/Qt/lib/...)
# after the spec's pruning ran; a link whose library was pruned as an orphan dangles: remove it.
find "$BUNDLE" -xtype l -print -delete | sed 's|^|build_linux: removed dangling link |' >&2

# Source and licence of every bundled file (THIRD-PARTY-NOTICES.txt inside the bundle); fails on a
# file it cannot attribute or on model weights without a licence that allows shipping them.
"$PY" "$HERE/licences.py" "$BUNDLE" --work "$BUILD_DIR/work" --check

# ------------------------------------------------------------ 2. self-test
# A throw-away PIXTOOLS_HOME: the self-test must not touch the builder's own settings or logs.
SELFTEST_HOME="$(mktemp -d)"
trap 'rm -rf "$SELFTEST_HOME"' EXIT
t0="$(now)"
set +e
env -u PYTHONPATH -u PYTHONHOME PIXTOOLS_HOME="$SELFTEST_HOME" QT_QPA_PLATFORM=offscreen \
  "$BUNDLE/pixtools" --self-test >"$BUILD_DIR/selftest.json" 2>"$BUILD_DIR/selftest.stderr"
rc=$?
set -e
echo "selftest_s $(elapsed "$t0")" >>"$TIMES"
cat "$BUILD_DIR/selftest.json" >&2
if [ $rc -ne 0 ]; then
  log "the bundle's self-test FAILED (exit $rc); stderr:"
  cat "$BUILD_DIR/selftest.stderr" >&2
  exit 1
fi
log "self-test passed"

# Every kept Qt plugin must find its libraries in the bundle or on the system. The Wayland client
# libraries are the compositor's own and come from the host (as for Qt's wheels): a build machine
# without a Wayland stack lacks them, every Wayland desktop has them.
HOST_LIBS='libwayland-(client|cursor|egl|server)\.so'
missing="$(for so in "$BUNDLE"/_internal/PySide6/Qt/plugins/*/*.so; do
  LD_LIBRARY_PATH="$BUNDLE/_internal" ldd "$so" 2>/dev/null | grep "not found" | grep -Ev "$HOST_LIBS" |
    sed "s|^|$(basename "$so"): |"
done || true)"
if [ -n "$missing" ]; then
  log "Qt plugins with unresolved libraries:"; echo "$missing" >&2; exit 1
fi
# The real desktop platform (xcb) under a virtual X server, where one is installed.
if command -v xvfb-run >/dev/null 2>&1 && [ "${PIXTOOLS_BUILD_XCB_CHECK:-1}" = 1 ]; then
  t0="$(now)"
  env -u PYTHONPATH -u PYTHONHOME -u WAYLAND_DISPLAY PIXTOOLS_HOME="$SELFTEST_HOME" QT_QPA_PLATFORM=xcb \
    xvfb-run -a "$BUNDLE/pixtools" --self-test >"$BUILD_DIR/selftest-xcb.json" 2>"$BUILD_DIR/selftest-xcb.stderr" || {
    log "the bundle's self-test on X11 (xcb) FAILED:"; cat "$BUILD_DIR/selftest-xcb.json" "$BUILD_DIR/selftest-xcb.stderr" >&2; exit 1
  }
  echo "selftest_xcb_s $(elapsed "$t0")" >>"$TIMES"
  log "self-test on X11 (xcb) passed"
fi

# ------------------------------------------------------------ packages up to date?
# Packing (xz, dpkg-deb, mksquashfs) takes minutes too: skip it when the bundle and every packing
# input are unchanged and the packages from the last run are still there.
PACK_KEY="$( (echo "$KEY $FORMAT ${PIXTOOLS_BUILD_DEB:-1} ${PIXTOOLS_BUILD_APPIMAGE:-1} ${APPIMAGE_RUNTIME:-}" \
    "${PIXTOOLS_DEB_COMPRESS:-} ${PIXTOOLS_SQUASHFS_LEVEL:-}"
  cd "$HERE" && find linux icons licences.py build_linux.sh -type f | LC_ALL=C sort | xargs sha256sum) |
  sha256sum | cut -c1-16)"
all_exist() { awk '{print $2}' "$@" | while read -r f; do [ -e "$f" ] || exit 1; done; }
if [ "${PIXTOOLS_BUILD_FORCE:-0}" != 1 ] && [ "$(cat "$BUILD_DIR/.pack-key" 2>/dev/null)" = "$PACK_KEY" ] &&
  [ -f "$BUILD_DIR/artifacts.txt" ] && [ -f "$BUILD_DIR/tarball.txt" ] &&
  all_exist "$BUILD_DIR/artifacts.txt" "$BUILD_DIR/tarball.txt"; then
  log "packages are up to date (key $PACK_KEY)"
  grep -E '_(s|bytes) ' "$BUILD_DIR/pack-times.txt" >>"$TIMES" 2>/dev/null || true
  awk '{print $2}' "$BUILD_DIR/tarball.txt"
  exit 0
fi
rm -f "$BUILD_DIR/.pack-key"
PACK_T0_LINES="$(wc -l <"$TIMES")"

# ------------------------------------------------------------ 3. stage
t0="$(now)"
STAGE="$BUILD_DIR/stage/$NAME"
rm -rf "$BUILD_DIR/stage"
mkdir -p "$STAGE/share/applications" "$STAGE/share/icons/hicolor/256x256/apps"
cp -al "$BUNDLE/." "$STAGE/"  # hard links: instant, no second copy on disk
install -m 0644 "$HERE/linux/org.pixtools.PixTools.desktop" "$STAGE/share/applications/"
ICON_SRC="$HERE/icons/pixtools.png"
for candidate in "$BUNDLE/_internal/resources/icon.png" "$BUNDLE/_internal/resources/pixtools.png"; do
  if [ -f "$candidate" ]; then ICON_SRC="$candidate"; break; fi
done
install -m 0644 "$ICON_SRC" "$STAGE/share/icons/hicolor/256x256/apps/org.pixtools.PixTools.png"
install -m 0755 "$HERE/linux/install.sh" "$HERE/linux/uninstall.sh" "$STAGE/"
install -m 0644 "$HERE/linux/README.txt" "$STAGE/"
if command -v desktop-file-validate >/dev/null 2>&1; then
  desktop-file-validate "$STAGE/share/applications/org.pixtools.PixTools.desktop"
else
  log "desktop-file-validate not found (apt: desktop-file-utils): .desktop entry not validated"
fi

# ------------------------------------------------------------ 4. tarball
case "$FORMAT" in
  zst) TARBALL="$BUILD_DIR/$NAME.tar.zst"; COMPRESS=(--use-compress-program "zstd -T0 -10") ;;
  gz) TARBALL="$BUILD_DIR/$NAME.tar.gz"; COMPRESS=(--use-compress-program "gzip -6") ;;
  xz) TARBALL="$BUILD_DIR/$NAME.tar.xz"; COMPRESS=(--use-compress-program "xz -T0 -6") ;;
  *) log "PIXTOOLS_TAR_FORMAT must be xz, gz or zst, not $FORMAT"; exit 2 ;;
esac
rm -f "$BUILD_DIR"/*.tar.*
nice -n "$NICE" tar -C "$BUILD_DIR/stage" --owner=0 --group=0 --numeric-owner "${COMPRESS[@]}" -cf "$TARBALL.part" "$NAME"
mv "$TARBALL.part" "$TARBALL"
echo "package_s $(elapsed "$t0")" >>"$TIMES"
echo "bundle_bytes $(du -sb "$BUNDLE" | cut -f1)" >>"$TIMES"
echo "tarball_bytes $(stat -c %s "$TARBALL")" >>"$TIMES"

# ------------------------------------------------------------ 5. .deb and AppImage
: >"$BUILD_DIR/artifacts.txt"
rm -f "$BUILD_DIR"/*.deb "$BUILD_DIR"/*.squashfs "$BUILD_DIR"/*.AppImage
if [ "${PIXTOOLS_BUILD_DEB:-1}" = 1 ] && command -v dpkg-deb >/dev/null 2>&1; then
  t0="$(now)"
  DEB="$(PYTHON="$PY" "$HERE/linux/build_deb.sh" "$BUNDLE" "$BUILD_DIR" | tail -n1)"
  echo "deb $DEB" >>"$BUILD_DIR/artifacts.txt"
  echo "deb_s $(elapsed "$t0")" >>"$TIMES"
  echo "deb_bytes $(stat -c %s "$DEB")" >>"$TIMES"
fi
if [ "${PIXTOOLS_BUILD_APPIMAGE:-1}" = 1 ] && command -v mksquashfs >/dev/null 2>&1; then
  t0="$(now)"
  APPIMAGE="$(PYTHON="$PY" "$HERE/linux/build_appimage.sh" "$BUNDLE" "$BUILD_DIR" | tail -n1)"
  echo "appimage $APPIMAGE" >>"$BUILD_DIR/artifacts.txt"
  echo "appimage_s $(elapsed "$t0")" >>"$TIMES"
  echo "appimage_bytes $(stat -c %s "$APPIMAGE")" >>"$TIMES"
fi
tail -n +"$((PACK_T0_LINES + 1))" "$TIMES" >"$BUILD_DIR/pack-times.txt"
echo "tarball $TARBALL" >"$BUILD_DIR/tarball.txt"
echo "$PACK_KEY" >"$BUILD_DIR/.pack-key"
log "$(tr '\n' ' ' <"$TIMES")"
echo "$TARBALL"
