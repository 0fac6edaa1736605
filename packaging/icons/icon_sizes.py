"""Write the hicolor theme's icon sizes from the one 256 px PNG.

    python packaging/icons/icon_sizes.py SRC.png HICOLOR_DIR APP_ID

Why at build time: one drawn icon (pixtools.png) stays the source; every
installer (the .deb, the AppImage) gets the usual sizes scaled from it, so
panels and file managers never up- or down-scale a wrong size themselves.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

SIZES = (16, 22, 24, 32, 48, 64, 128, 256)


def write_sizes(src: Path, hicolor: Path, app_id: str, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    img = Image.open(src).convert("RGBA")
    out = []
    for size in sizes:
        if size > max(img.size):
            continue  # never up-scale
        dest = hicolor / f"{size}x{size}" / "apps" / f"{app_id}.png"
        dest.parent.mkdir(parents=True, exist_ok=True)
        scaled = img if img.size == (size, size) else img.resize((size, size), Image.Resampling.LANCZOS)
        scaled.save(dest, optimize=True)
        dest.chmod(0o644)
        out.append(dest)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    write_sizes(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
