#!/bin/sh
# Remove a PixTools Desktop installed by install.sh (the app, the command link,
# the menu entry and the icon). Your settings, job history and downloaded
# models stay; delete ~/.config/PixTools, ~/.local/share/PixTools and
# ~/.cache/PixTools yourself if you want them gone too.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
[ -f "$HERE/.pixtools-install" ] || {
  echo "uninstall.sh: run the copy inside the installed app folder (PREFIX/lib/pixtools-desktop)" >&2
  exit 1
}
PREFIX=$(cat "$HERE/.pixtools-install")
APP_ID=org.pixtools.PixTools
APPDIR="$PREFIX/lib/pixtools-desktop"
[ "$HERE" = "$(cd "$APPDIR" 2>/dev/null && pwd)" ] || { echo "uninstall.sh: $HERE is not $APPDIR" >&2; exit 1; }

if [ -L "$PREFIX/bin/pixtools" ] && [ "$(readlink "$PREFIX/bin/pixtools")" = "$APPDIR/pixtools" ]; then
  rm -f "$PREFIX/bin/pixtools"
fi
rm -f "$PREFIX/share/applications/$APP_ID.desktop" "$PREFIX/share/icons/hicolor/256x256/apps/$APP_ID.png"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$PREFIX/share/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t -f "$PREFIX/share/icons/hicolor" 2>/dev/null || true
rm -rf "$APPDIR"
echo "PixTools removed from $PREFIX (settings and job history kept)"
