#!/usr/bin/env bash
# Pack PixTools.app into a compressed, drag-to-install DMG (macOS only: hdiutil).
#
#   packaging/macos/make_dmg.sh [DIST_DIR]     default: packaging/build/dist
#
# Before: build the app on a Mac (same Python + venv recipe as Linux):
#   python -m PyInstaller --noconfirm --workpath packaging/build/work --distpath packaging/build/dist packaging/pixtools.spec
# This script then: self-tests the bundle, signs it when PIXTOOLS_CODESIGN_IDENTITY
# names a "Developer ID Application" identity (hardened runtime), builds
# PixTools-<version>-macos-<arch>.dmg beside DIST_DIR with the app and an
# /Applications link, verifies it, and prints its path. Notarisation (needs an
# Apple account) is the README's last step.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
DIST="$(cd "${1:-$HERE/../build/dist}" && pwd)"
APP="$DIST/PixTools.app"
[ "$(uname -s)" = Darwin ] || { echo "make_dmg.sh: needs macOS (hdiutil)" >&2; exit 2; }
[ -d "$APP" ] || { echo "make_dmg.sh: $APP not found; build the spec first" >&2; exit 1; }

PLIST="$APP/Contents/Info.plist"
VERSION="$(/usr/libexec/PlistBuddy -c 'Print :CFBundleShortVersionString' "$PLIST")"
ARCH="$(lipo -archs "$APP/Contents/MacOS/pixtools" 2>/dev/null | tr ' ' '-' || uname -m)"
OUT="$(dirname "$DIST")/PixTools-$VERSION-macos-$ARCH.dmg"

# The plist must declare the image document types ("Open with") and be valid.
plutil -lint "$PLIST"
/usr/libexec/PlistBuddy -c 'Print :CFBundleDocumentTypes:0:LSItemContentTypes' "$PLIST" >/dev/null

# The bundle must run before it is shipped (console companion: it prints the JSON line).
SELFTEST_HOME="$(mktemp -d)"
STAGE="$(mktemp -d)"
trap 'rm -rf "$SELFTEST_HOME" "$STAGE"' EXIT
PIXTOOLS_HOME="$SELFTEST_HOME" QT_QPA_PLATFORM=offscreen "$APP/Contents/MacOS/pixtools-cli" --self-test

if [ -n "${PIXTOOLS_CODESIGN_IDENTITY:-}" ]; then
  # Inside-out: nested libraries first (--deep is deprecated for signing), then the app.
  find "$APP/Contents" -type f \( -name '*.dylib' -o -name '*.so' \) -print0 |
    xargs -0 codesign --force --timestamp --options runtime --sign "$PIXTOOLS_CODESIGN_IDENTITY"
  codesign --force --timestamp --options runtime --sign "$PIXTOOLS_CODESIGN_IDENTITY" \
    "$APP/Contents/MacOS/pixtools-cli"
  codesign --force --timestamp --options runtime --sign "$PIXTOOLS_CODESIGN_IDENTITY" "$APP"
  codesign --verify --strict --verbose=2 "$APP"
else
  echo "make_dmg.sh: PIXTOOLS_CODESIGN_IDENTITY unset: the app stays ad-hoc signed (Gatekeeper will warn)" >&2
fi

cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$OUT"
hdiutil create -volname "PixTools $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO \
  -imagekey zlib-level=9 -ov "$OUT" >&2
hdiutil verify "$OUT" >&2
if [ -n "${PIXTOOLS_CODESIGN_IDENTITY:-}" ]; then
  codesign --force --timestamp --sign "$PIXTOOLS_CODESIGN_IDENTITY" "$OUT"
fi
echo "$OUT"
