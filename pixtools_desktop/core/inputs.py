"""Turning what a user dropped or typed into a list of input files.

Explicit files are always tried (a mislabeled photo is still a photo and a
bad one gets a clear per-job error). Inside folders only image extensions are
taken; everything else is listed as skipped, never silently ignored.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

IMAGE_EXTENSIONS = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".png",
        ".webp",
        ".avif",
        ".tif",
        ".tiff",
        ".gif",
        ".bmp",
        ".tga",
        ".ppm",
        ".pgm",
        ".heic",
        ".heif",
        ".hif",
    }
)


@dataclass
class CollectedInputs:
    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def collect_inputs(paths: Sequence[str | os.PathLike[str]], *, recursive: bool = True) -> CollectedInputs:
    out = CollectedInputs()
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.files.append(p)

    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            walker = sorted(p.rglob("*")) if recursive else sorted(p.iterdir())
            for child in walker:
                if child.is_dir() or child.name.startswith(".pixtools-tmp-"):
                    continue
                if child.name.startswith("."):
                    out.skipped.append((child, "hidden file"))
                elif is_image_name(child):
                    add(child)
                else:
                    out.skipped.append((child, f"not an image type we read ({child.suffix or 'no extension'})"))
        elif p.is_file():
            add(p)
        elif p.exists():
            out.skipped.append((p, "not a regular file"))
        else:
            out.skipped.append((p, "no such file or folder"))
    return out


def count_images(folder: Path, *, recursive: bool = True, limit: int | None = None) -> int:
    """Count images in a folder (the window asks before adding a big one)."""
    n = 0
    walker = folder.rglob("*") if recursive else folder.iterdir()
    for child in walker:
        if child.is_file() and is_image_name(child):
            n += 1
            if limit is not None and n >= limit:
                break
    return n
