#!/usr/bin/env bash
# Build pixtools_<version>_<arch>.deb from the PyInstaller one-folder bundle with dpkg-deb.
#
#   packaging/linux/build_deb.sh BUNDLE_DIR OUT_DIR        (prints the .deb's path last)
#
# Layout (Filesystem Hierarchy Standard for add-on software):
#   /opt/pixtools/                 the bundle, untouched (read-only at run time: user data goes to platformdirs)
#   /usr/bin/pixtools              symlink to /opt/pixtools/pixtools (PyInstaller finds _internal/ through it)
#   /usr/share/applications/org.pixtools.PixTools.desktop   "Open with PixTools" for the image MIME types
#   /usr/share/icons/hicolor/NxN/apps/org.pixtools.PixTools.png   16..256 px, scaled from packaging/icons/pixtools.png
#   /usr/share/metainfo/org.pixtools.PixTools.metainfo.xml   AppStream (software centres)
#   /usr/share/man/man1/pixtools.1.gz                       generated from the program's own --help
#   /usr/share/doc/pixtools/{copyright,changelog.gz,THIRD-PARTY-NOTICES.txt.gz}
#   /usr/share/lintian/overrides/pixtools                   the tags a self-contained bundle cannot avoid, each explained
# Depends: dpkg-shlibdeps over every ELF file of the bundle, with the bundle's own library folders as
# private search paths, so only what the system must provide (the Qt xcb plugin's libxcb-*, libxkbcommon,
# fontconfig, GL...) becomes a dependency, with the minimum versions from Debian's symbols files.
# No maintainer scripts: the menu, MIME and icon caches are refreshed by dpkg triggers of
# desktop-file-utils, shared-mime-info and hicolor-icon-theme.
#
# Environment: PYTHON (an interpreter with Pillow, for the icon sizes), PIXTOOLS_DEB_COMPRESS (xz (default)
# or gzip: the only member formats lintian accepts).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
PACKAGING="$(dirname "$HERE")"
BUNDLE="$(cd "$1" && pwd)"
OUT="$(mkdir -p "$2" && cd "$2" && pwd)"
PY="${PYTHON:-python3}"
APP_ID=org.pixtools.PixTools
log() { echo "build_deb: $*" >&2; }

VERSION="$(env -u PYTHONPATH QT_QPA_PLATFORM=offscreen "$BUNDLE/pixtools" --version | awk '{print $NF}')"
ARCH="$(dpkg --print-architecture)"
ROOTFS="$OUT/deb-root"
DEB="$OUT/pixtools_${VERSION}_${ARCH}.deb"
rm -rf "$ROOTFS" "$DEB"
mkdir -p "$ROOTFS/DEBIAN" "$ROOTFS/opt" "$ROOTFS/usr/bin" "$ROOTFS/usr/share/applications" \
  "$ROOTFS/usr/share/man/man1" "$ROOTFS/usr/share/doc/pixtools" "$ROOTFS/usr/share/lintian/overrides" \
  "$ROOTFS/usr/share/metainfo"

# ------------------------------------------------------------ files
cp -al "$BUNDLE" "$ROOTFS/opt/pixtools"  # hard links: no second copy on disk
# dpkg-deb packs modes as found: files readable by all, nothing group/world-writable, shared
# libraries not executable (policy 8.1; the dynamic linker needs only read access)
chmod -R u+rwX,go+rX,go-w "$ROOTFS/opt/pixtools"
find "$ROOTFS/opt/pixtools" -type f \( -name '*.so' -o -name '*.so.*' \) -exec chmod 0644 {} +
ln -s /opt/pixtools/pixtools "$ROOTFS/usr/bin/pixtools"

# The desktop entry runs the command on PATH (the tarball's install.sh writes an absolute path instead).
install -m 0644 "$HERE/org.pixtools.PixTools.desktop" "$ROOTFS/usr/share/applications/"
install -m 0644 "$HERE/org.pixtools.PixTools.metainfo.xml" "$ROOTFS/usr/share/metainfo/"
"$PY" "$PACKAGING/icons/icon_sizes.py" "$PACKAGING/icons/pixtools.png" "$ROOTFS/usr/share/icons/hicolor" "$APP_ID"

"$PY" "$HERE/make_manpage.py" "$BUNDLE/pixtools" "$ROOTFS/usr/share/man/man1/pixtools.1"
gzip -9n "$ROOTFS/usr/share/man/man1/pixtools.1"

install -m 0644 "$HERE/debian/copyright" "$ROOTFS/usr/share/doc/pixtools/copyright"
sed "s/@VERSION@/$VERSION/g; s/@DATE@/$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")/" \
  "$HERE/debian/changelog.in" | gzip -9n >"$ROOTFS/usr/share/doc/pixtools/changelog.gz"
if [ -f "$BUNDLE/THIRD-PARTY-NOTICES.txt" ]; then
  gzip -9n <"$BUNDLE/THIRD-PARTY-NOTICES.txt" >"$ROOTFS/usr/share/doc/pixtools/THIRD-PARTY-NOTICES.txt.gz"
fi
install -m 0644 "$HERE/debian/lintian-overrides" "$ROOTFS/usr/share/lintian/overrides/pixtools"

# ------------------------------------------------------------ Depends
# Every ELF file of the bundle; the bundle's own library folders are private (-l), so what they
# provide is not a dependency. Libraries no Debian package provides here (the Wayland client
# libraries when not installed) would abort dpkg-shlibdeps: the Wayland plugin is optional (xcb is the
# default platform), so its libraries become a Recommends.
SHLIB_DIR="$(mktemp -d)"
trap 'rm -rf "$SHLIB_DIR"' EXIT
mkdir -p "$SHLIB_DIR/debian"
printf 'Source: pixtools\n\nPackage: pixtools\nArchitecture: any\n' >"$SHLIB_DIR/debian/control"
mapfile -t ELF < <(find "$ROOTFS/opt/pixtools" -type f \( -name '*.so' -o -name '*.so.*' -o -perm -u+x \) \
  -exec sh -c 'head -c4 "$1" | grep -q "ELF" && echo "$1"' _ {} \; | grep -v '/plugins/wayland' | grep -v 'libqwayland' |
  grep -v 'libQt6Wayland' | LC_ALL=C sort)
mapfile -t PRIVATE < <(find "$ROOTFS/opt/pixtools" -type f \( -name '*.so' -o -name '*.so.*' \) -printf '%h\n' | LC_ALL=C sort -u)
LIBARGS=()
for d in "${PRIVATE[@]}"; do LIBARGS+=("-l$d"); done
EARGS=()
for f in "${ELF[@]}"; do EARGS+=("-e$f"); done
DEPENDS="$(cd "$SHLIB_DIR" && dpkg-shlibdeps -O --ignore-missing-info --warnings=0 "${LIBARGS[@]}" "${EARGS[@]}" 2>"$SHLIB_DIR/err" |
  sed -n 's/^shlibs:Depends=//p')" || { cat "$SHLIB_DIR/err" >&2; exit 1; }
[ -n "$DEPENDS" ] || { log "dpkg-shlibdeps found no dependencies"; cat "$SHLIB_DIR/err" >&2; exit 1; }
# dpkg-shlibdeps reads libraries' real users; desktop integration tools are run by dpkg triggers
RECOMMENDS="libwayland-client0, libwayland-cursor0, libwayland-egl1, xdg-utils"

INSTALLED_KB="$(du -sk --apparent-size "$ROOTFS" --exclude=DEBIAN | cut -f1)"
cat >"$ROOTFS/DEBIAN/control" <<EOF
Package: pixtools
Version: $VERSION
Architecture: $ARCH
Maintainer: PixTools Desktop <pixtools@example.org>
Installed-Size: $INSTALLED_KB
Depends: $DEPENDS
Recommends: $RECOMMENDS
Section: graphics
Priority: optional
Description: photo converter, resizer and denoiser with a crash-safe job queue
 PixTools Desktop converts photos between JPEG, PNG, WebP, AVIF and TIFF,
 resizes them, reads their EXIF metadata and removes noise with the DnCNN
 neural network, through a job queue that survives crashes and restarts.
 .
 It runs as a desktop window ("Open with PixTools" in the file manager) or
 headless from the terminal (pixtools process, pixtools serve). The denoise
 model is downloaded on first use (sha256 checked); see
 /usr/share/doc/pixtools/copyright for why it is not included.
 .
 This package carries its own Python, PyTorch (CPU) and Qt under
 /opt/pixtools.
EOF
# md5sums of the payload, as dpkg-deb does not write them
(cd "$ROOTFS" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
  >"$ROOTFS/DEBIAN/md5sums"
chmod 0644 "$ROOTFS/DEBIAN/control" "$ROOTFS/DEBIAN/md5sums"

# ------------------------------------------------------------ pack
COMPRESS="${PIXTOOLS_DEB_COMPRESS:-xz}"
case "$COMPRESS" in
  xz) LEVEL=(-z6) ;;
  gzip) LEVEL=(-z1) ;;  # quick (the tests); releases use xz
  *) log "PIXTOOLS_DEB_COMPRESS=$COMPRESS: lintian accepts only xz or gzip members (zstd is malformed-deb-archive); using gzip"
     COMPRESS=gzip; LEVEL=(-z1) ;;
esac
log "packing $(basename "$DEB") ($COMPRESS, $INSTALLED_KB KiB installed)"
nice -n "${PIXTOOLS_BUILD_NICE:-10}" dpkg-deb --root-owner-group -Z"$COMPRESS" "${LEVEL[@]}" --build "$ROOTFS" "$DEB" >&2
rm -rf "$ROOTFS"
echo "$DEB"
