#!/usr/bin/env bash
# Build the AppImage (type 2) of PixTools from the PyInstaller one-folder bundle, offline.
#
#   packaging/linux/build_appimage.sh BUNDLE_DIR OUT_DIR          (prints the result's path last)
#
# An AppImage is: the type-2 runtime (a small static ELF that mounts or extracts what follows it)
# + a SquashFS image of an AppDir. This script makes both parts it can make offline:
#   OUT_DIR/PixTools.AppDir/          AppRun, the .desktop entry, the icon, .DirIcon, usr/lib/pixtools (the bundle),
#                                     usr/share/{icons,metainfo,applications}
#   OUT_DIR/PixTools-VERSION-ARCH.squashfs   mksquashfs of the AppDir (zstd, root-owned: what the runtime expects)
# and, where the runtime file is at hand (APPIMAGE_RUNTIME=/path/to/runtime-x86_64):
#   OUT_DIR/PixTools-VERSION-ARCH.AppImage = runtime + squashfs, executable.
# The runtime is the one file that cannot be had offline: it is published only as a release asset of
# the AppImage project on GitHub (AppImage/type2-runtime, tag "continuous", file runtime-x86_64); no
# Debian package ships it and the PyPI/npm AppImage tools (appimage, python-appimage,
# @reforged/maker-appimage, electron-builder) all download it at build time. The release workflow
# fetches it (.github/workflows/release.yml); here the squashfs is extracted and run instead
# (tests/packaging/test_installers.py), which is what the runtime does with --appimage-extract.
#
# Environment: PYTHON (with Pillow, for the icon sizes), APPIMAGE_RUNTIME (optional), PIXTOOLS_BUILD_NICE,
# PIXTOOLS_SQUASHFS_LEVEL (zstd level, default 15; the tests use a fast one).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
PACKAGING="$(dirname "$HERE")"
BUNDLE="$(cd "$1" && pwd)"
OUT="$(mkdir -p "$2" && cd "$2" && pwd)"
PY="${PYTHON:-python3}"
APP_ID=org.pixtools.PixTools
log() { echo "build_appimage: $*" >&2; }
command -v mksquashfs >/dev/null || { log "mksquashfs not found (apt: squashfs-tools)"; exit 2; }

VERSION="$(env -u PYTHONPATH QT_QPA_PLATFORM=offscreen "$BUNDLE/pixtools" --version | awk '{print $NF}')"
ARCH="$(uname -m)"
APPDIR="$OUT/PixTools.AppDir"
NAME="PixTools-$VERSION-$ARCH"
rm -rf "$APPDIR" "$OUT/$NAME.squashfs" "$OUT/$NAME.AppImage"
mkdir -p "$APPDIR/usr/lib" "$APPDIR/usr/share/applications" "$APPDIR/usr/share/metainfo"

cp -al "$BUNDLE" "$APPDIR/usr/lib/pixtools"  # hard links: no second copy on disk
cat >"$APPDIR/AppRun" <<'EOF'
#!/bin/sh
# AppImage entry point: the runtime sets APPDIR to the mounted (or extracted) image.
HERE="${APPDIR:-$(dirname "$(readlink -f "$0")")}"
exec "$HERE/usr/lib/pixtools/pixtools" "$@"
EOF
chmod 0755 "$APPDIR/AppRun"
# The AppImage's desktop entry runs the AppImage itself; appimaged/AppImageLauncher rewrite Exec on integration.
sed 's/^TryExec=.*$//; /^$/d' "$HERE/$APP_ID.desktop" >"$APPDIR/$APP_ID.desktop"
cp "$APPDIR/$APP_ID.desktop" "$APPDIR/usr/share/applications/"
install -m 0644 "$HERE/$APP_ID.metainfo.xml" "$APPDIR/usr/share/metainfo/$APP_ID.appdata.xml"
"$PY" "$PACKAGING/icons/icon_sizes.py" "$PACKAGING/icons/pixtools.png" "$APPDIR/usr/share/icons/hicolor" "$APP_ID"
cp "$APPDIR/usr/share/icons/hicolor/256x256/apps/$APP_ID.png" "$APPDIR/$APP_ID.png"
ln -s "$APP_ID.png" "$APPDIR/.DirIcon"
if command -v desktop-file-validate >/dev/null; then desktop-file-validate "$APPDIR/$APP_ID.desktop"; fi

log "mksquashfs $NAME.squashfs ..."
nice -n "${PIXTOOLS_BUILD_NICE:-10}" mksquashfs "$APPDIR" "$OUT/$NAME.squashfs" -root-owned -noappend -no-progress \
  -comp zstd -Xcompression-level "${PIXTOOLS_SQUASHFS_LEVEL:-15}" -b 1M -processors "$(nproc)" >&2

if [ -n "${APPIMAGE_RUNTIME:-}" ]; then
  [ -f "$APPIMAGE_RUNTIME" ] || { log "APPIMAGE_RUNTIME=$APPIMAGE_RUNTIME is not a file"; exit 2; }
  head -c 4 "$APPIMAGE_RUNTIME" | grep -q ELF || { log "$APPIMAGE_RUNTIME is not an ELF file"; exit 2; }
  cat "$APPIMAGE_RUNTIME" "$OUT/$NAME.squashfs" >"$OUT/$NAME.AppImage.part"
  chmod 0755 "$OUT/$NAME.AppImage.part"
  mv "$OUT/$NAME.AppImage.part" "$OUT/$NAME.AppImage"
  rm -f "$OUT/$NAME.squashfs"
  echo "$OUT/$NAME.AppImage"
else
  log "APPIMAGE_RUNTIME not set: made the AppDir and $NAME.squashfs; cat runtime-$ARCH $NAME.squashfs > $NAME.AppImage"
  echo "$OUT/$NAME.squashfs"
fi
