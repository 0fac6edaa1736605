"""Finding, identifying and checking DnCNN and FFDNet weight files (no torch here).

Lookup order, first hit wins:

1. ``settings.weights_path`` (a file, or a folder holding weight files);
2. the ``PIXTOOLS_WEIGHTS`` environment variable (a file or a folder);
3. the user weights folder, :func:`pixtools_desktop.core.paths.user_weights_dir`
   (where ``pixtools models download`` / ``import`` put them);
4. the bundled ``weights/`` folder beside the package (source tree or
   PyInstaller bundle).

Inside a folder a model is found by its known file name, else by the sha256
of any ``.mat`` / ``.pth`` file in it. A *file* location is used for the
kind it is known to be (by name or sha256); an unknown file is taken to be a
colour model, and its architecture is checked when it loads.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pixtools_desktop.core import paths

COLOR = "color"
GRAY = "gray"
FFD_COLOR = "ffdnet-color"
FFD_GRAY = "ffdnet-gray"
FFD_COLOR_URL = "https://github.com/cszn/FFDNet/raw/master/models/FFDNet_color.mat"
FFD_COLOR_SHA256 = "a4b5a9da21294ab9ba6ed5c6cc459c46dff20c025eb7d3ab82e8e0bb00541793"
FFD_GRAY_SHA256 = "14c231e87a444a9bd85b0b5e174e73b4f6ac50bf4050e75a0d3f4d69f77a2093"

DOWNLOAD_URL = "https://github.com/cszn/DnCNN/raw/master/model/GD_Color_Blind.mat"
DOWNLOAD_SHA256 = "57db5437a44037e7675a99042fe7b14d3dcdf1c333d3ec665855566e8a59795c"
DOWNLOADS = {
    "color": (DOWNLOAD_URL, DOWNLOAD_SHA256),
    "gray": (
        "https://github.com/cszn/DnCNN/raw/master/model/GD_Gray_Blind.mat",
        "37f76da0b71dd2b2789ce91848fe2f184ab486203c9af9ac1b98199b60ea02b0",
    ),
    FFD_COLOR: (FFD_COLOR_URL, FFD_COLOR_SHA256),
    FFD_GRAY: ("https://github.com/cszn/FFDNet/raw/master/models/FFDNet_gray.mat", FFD_GRAY_SHA256),
}
HOW_TO_GET_FFDNET = (
    "Run `pixtools models download --model ffdnet-color` to fetch the authors' FFDNet colour model "
    f"({FFD_COLOR_URL}), or `pixtools models import FILE` with FFDNet_color.mat."
)
HOW_TO_GET = (
    "Run `pixtools models download` to fetch the authors' colour model "
    f"({DOWNLOAD_URL}), or `pixtools models import FILE` with a DnCNN .mat or .pth you already have."
)


@dataclass(frozen=True)
class KnownWeights:
    name: str
    kind: str  # "color", "gray", "ffdnet-color", "ffdnet-gray", or "gray-sigma25" (never picked automatically)
    layers: int
    sha256: str | None  # None: accepted by name and architecture only
    description: str


KNOWN: tuple[KnownWeights, ...] = (
    KnownWeights("GD_Color_Blind.mat", COLOR, 20, DOWNLOAD_SHA256, "CDnCNN-B colour blind (cszn/DnCNN)"),
    KnownWeights(
        "GD_Gray_Blind.mat",
        GRAY,
        20,
        "37f76da0b71dd2b2789ce91848fe2f184ab486203c9af9ac1b98199b60ea02b0",
        "DnCNN-B grey blind (cszn/DnCNN)",
    ),
    KnownWeights("dncnn_color_blind.pth", COLOR, 20, None, "CDnCNN-B colour blind (cszn/KAIR)"),
    KnownWeights("dncnn_gray_blind.pth", GRAY, 20, None, "DnCNN-B grey blind (cszn/KAIR)"),
    KnownWeights(
        "gray_sigma25.mat",
        "gray-sigma25",
        17,
        "5a5404c9e3ef14e353760e14b885439408a654618e14f13b2e97b99b9835020b",
        "DnCNN-S grey sigma 25 (cszn/DnCNN)",
    ),
    KnownWeights(
        "dncnn_25.pth",
        "gray-sigma25",
        17,
        "0451a70de9b672ae037270498fbb1c17a1c1c4403785df586ff65df5b858e5b0",
        "DnCNN-S grey sigma 25 (cszn/KAIR)",
    ),
    KnownWeights("FFDNet_color.mat", FFD_COLOR, 12, FFD_COLOR_SHA256, "FFDNet colour (cszn/FFDNet)"),
    KnownWeights("FFDNet_gray.mat", FFD_GRAY, 15, FFD_GRAY_SHA256, "FFDNet grey (cszn/FFDNet)"),
)
BY_NAME = {k.name.lower(): k for k in KNOWN}
BY_SHA = {k.sha256: k for k in KNOWN if k.sha256}
# Preference among files of one kind within a folder.
PREFERRED = {
    COLOR: ["GD_Color_Blind.mat", "dncnn_color_blind.pth"],
    GRAY: ["GD_Gray_Blind.mat", "dncnn_gray_blind.pth"],
    FFD_COLOR: ["FFDNet_color.mat"],
    FFD_GRAY: ["FFDNet_gray.mat"],
}

_sha_cache: dict[tuple[str, int, int], str] = {}


def sha256_of(path: str | Path) -> str:
    """sha256 of a file, cached by (path, size, mtime)."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _sha_cache:
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _sha_cache[key] = h.hexdigest()
    return _sha_cache[key]


def identify(path: str | Path) -> KnownWeights | None:
    """The known model this file is, by sha256 first, then by name."""
    p = Path(path)
    try:
        known = BY_SHA.get(sha256_of(p))
    except OSError:
        known = None
    return known or BY_NAME.get(p.name.lower())


def sha256_ok(path: str | Path) -> bool | None:
    """True/False where the file's name has a published sha256; None where we know none."""
    p = Path(path)
    try:
        digest = sha256_of(p)
    except OSError:
        return False
    if digest in BY_SHA:
        return True
    known = BY_NAME.get(p.name.lower())
    if known and known.sha256:
        return False
    return None


def search_locations(settings=None) -> list[tuple[str, Path]]:
    """(label, path) in lookup order; paths may not exist."""
    out: list[tuple[str, Path]] = []
    wp = getattr(settings, "weights_path", None) if settings is not None else None
    if wp:
        out.append(("setting weights_path", Path(wp).expanduser()))
    env = os.environ.get("PIXTOOLS_WEIGHTS")
    if env and (not wp or Path(env).expanduser() != Path(wp).expanduser()):
        out.append(("PIXTOOLS_WEIGHTS", Path(env).expanduser()))
    out.append(("user weights folder", paths.user_weights_dir()))
    out.append(("bundled weights folder", paths.bundled_weights_dir()))
    return out


def _candidates_in_dir(folder: Path) -> Iterable[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".mat", ".pth", ".pt"))
    except OSError:
        return []


def _kind_of_file(p: Path) -> str:
    known = identify(p)
    if known:
        return known.kind
    if p.suffix.lower() == ".mat":  # cheap peek at the first conv's input channels
        try:
            import h5py

            with h5py.File(p, "r") as f:
                refs = f["net"]["layers"][()].flat
                first = f[refs[0]]
                if "".join(chr(int(c)) for c in first["type"][()].flatten()) == "SubP":  # FFDNet's head
                    conv = next(
                        f[r] for r in refs if "".join(chr(int(c)) for c in f[r]["type"][()].flatten()) == "conv"
                    )
                    return FFD_GRAY if f[conv["weights"][()].flat[0]].shape[1] == 5 else FFD_COLOR
                w_ref = first["weights"][()].flat[0]
                return GRAY if f[w_ref].shape[1] == 1 else COLOR
        except Exception:  # noqa: BLE001 - unreadable: let the loader report it
            return COLOR
    return COLOR


def find_weights(settings=None, kind: str = COLOR) -> Path | None:
    """The weight file for ``kind`` (COLOR, GRAY, FFD_COLOR, FFD_GRAY), or None if none is installed."""
    for _label, loc in search_locations(settings):
        if loc.is_file():
            if _kind_of_file(loc) == kind:
                return loc
            continue
        if loc.is_dir():
            for name in PREFERRED.get(kind, []):
                for p in _candidates_in_dir(loc):
                    if p.name.lower() == name.lower():
                        return p
            for p in _candidates_in_dir(loc):
                known = identify(p)
                if known and known.kind == kind:
                    return p
    return None


def installed_weights(settings=None) -> list[dict]:
    """Every weight file found in the lookup locations (for `pixtools models list`)."""
    rows: list[dict] = []
    seen: set[Path] = set()
    for label, loc in search_locations(settings):
        files = [loc] if loc.is_file() else list(_candidates_in_dir(loc)) if loc.is_dir() else []
        for p in files:
            rp = p.resolve()
            if rp in seen:
                continue
            seen.add(rp)
            known = identify(p)
            rows.append(
                {
                    "path": str(p),
                    "location": label,
                    "model": known.description if known else "unknown",
                    "kind": known.kind if known else "?",
                    "size": p.stat().st_size,
                    "sha256_ok": sha256_ok(p),
                }
            )
    return rows
