#!/bin/sh
# Install PixTools Desktop from this unpacked tarball.
#
#   ./install.sh                 for this user: ~/.local/{lib/pixtools-desktop,bin,share}
#   ./install.sh --prefix DIR    under DIR instead (e.g. --prefix /usr/local as root)
#
# It copies the app to PREFIX/lib/pixtools-desktop, links PREFIX/bin/pixtools,
# and registers the menu entry (with "Open with" for JPEG, PNG, WebP, AVIF,
# TIFF, GIF and BMP) and the icon. It never makes PixTools the default viewer.
# Running it again upgrades in place; PREFIX/lib/pixtools-desktop/uninstall.sh removes it.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX="$HOME/.local"
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=${2:?--prefix needs a folder}; shift 2 ;;
    --prefix=*) PREFIX=${1#--prefix=}; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
case "$PREFIX" in /*) ;; *) PREFIX="$(pwd)/$PREFIX" ;; esac

APP_ID=org.pixtools.PixTools
APPDIR="$PREFIX/lib/pixtools-desktop"
BINDIR="$PREFIX/bin"
APPS="$PREFIX/share/applications"
ICONS="$PREFIX/share/icons/hicolor"

[ -x "$HERE/pixtools" ] && [ -d "$HERE/_internal" ] || {
  echo "install.sh: run me from the unpacked PixTools folder (pixtools and _internal/ beside me)" >&2
  exit 1
}
if [ -e "$APPDIR" ] && [ ! -f "$APPDIR/.pixtools-install" ]; then
  echo "install.sh: $APPDIR exists and is not a PixTools install; not touching it" >&2
  exit 1
fi

mkdir -p "$PREFIX/lib" "$BINDIR" "$APPS" "$ICONS/256x256/apps"
# Copy next to the old install, then swap: an interrupted upgrade leaves the old app working.
rm -rf "$APPDIR.new"
mkdir "$APPDIR.new"
cp -R "$HERE/pixtools" "$HERE/_internal" "$HERE/uninstall.sh" "$APPDIR.new/"
echo "$PREFIX" >"$APPDIR.new/.pixtools-install"
rm -rf "$APPDIR.old"
[ -e "$APPDIR" ] && mv "$APPDIR" "$APPDIR.old"
mv "$APPDIR.new" "$APPDIR"
rm -rf "$APPDIR.old"

ln -sfn "$APPDIR/pixtools" "$BINDIR/pixtools"
cp "$HERE/share/icons/hicolor/256x256/apps/$APP_ID.png" "$ICONS/256x256/apps/$APP_ID.png"
# Absolute Exec/TryExec: the menu must work even where PREFIX/bin is not on PATH.
sed -e "s|^Exec=.*|Exec=\"$APPDIR/pixtools\" %F|" -e "s|^TryExec=.*|TryExec=$APPDIR/pixtools|" \
  "$HERE/share/applications/$APP_ID.desktop" >"$APPS/$APP_ID.desktop"
chmod 0644 "$APPS/$APP_ID.desktop"

# Refresh the menu, MIME and icon caches where the tools exist (all optional).
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$APPS" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t -f "$ICONS" 2>/dev/null || true
if [ "$PREFIX" = "$HOME/.local" ] && command -v xdg-desktop-menu >/dev/null 2>&1; then
  xdg-desktop-menu forceupdate --mode user 2>/dev/null || true
fi

echo "PixTools installed in $APPDIR"
echo "  menu entry: $APPS/$APP_ID.desktop"
case ":$PATH:" in
  *":$BINDIR:"*) echo "  command:    pixtools" ;;
  *) echo "  command:    $BINDIR/pixtools  (add $BINDIR to PATH to type just 'pixtools')" ;;
esac
echo "  uninstall:  $APPDIR/uninstall.sh"
