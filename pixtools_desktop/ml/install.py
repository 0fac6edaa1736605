"""Installing model weights: shared by `pixtools models` and the window's model banner.

Both paths write atomically into the user weights folder, check the file
before it is saved (architecture for an import, sha256 for a download) and
forget any loaded model so the next denoise uses the new file. Errors are
ModelUnavailableError with a sentence a person can act on.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from pixtools_desktop.core import paths
from pixtools_desktop.core.errors import ModelUnavailableError
from pixtools_desktop.ml import weights as W

Progress = Callable[[int, "int | None"], None]  # (bytes so far, total or None)


def _atomic_write(dest: Path, write: Callable[[BinaryIO], None]) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".part-", suffix=dest.suffix, dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def forget_loaded_models() -> None:
    """Drop cached models (only if torch is already loaded: never import it just for this)."""
    if "torch" in sys.modules:
        from pixtools_desktop.ml.denoiser import clear_model_cache

        clear_model_cache()


def check_architecture(path: Path) -> str:
    """Load the file as a DnCNN or FFDNet (strict); a short description. Raises ModelUnavailableError."""
    from pixtools_desktop.ml.ffdnet import is_ffdnet_mat, load_ffdnet
    from pixtools_desktop.ml.model import load_model

    if Path(path).suffix.lower() == ".mat" and is_ffdnet_mat(path):
        ffd = load_ffdnet(path)
        return f"{'colour' if ffd.in_nc == 3 else 'grey'} FFDNet, {ffd.nb} layers"
    net = load_model(path)
    return f"{'colour' if net.in_nc == 3 else 'grey'} DnCNN, {net.nb} layers"


def import_weights(src: Path, name: str | None = None) -> tuple[Path, str]:
    """Copy a .mat/.pth into the user weights folder after checking it is a DnCNN or FFDNet; (dest, description)."""
    src = Path(src)
    if not src.is_file():
        raise ModelUnavailableError(f"{src} is not a file.")
    if src.suffix.lower() not in (".mat", ".pth", ".pt"):
        raise ModelUnavailableError(f"{src.name}: expected a .mat (MatConvNet) or .pth (PyTorch) weight file.")
    desc = check_architecture(src)  # before anything is written
    if name is None:
        known = W.identify(src)
        if known:
            name = known.name
        elif desc.endswith(" layers") and "FFDNet" in desc:  # unknown FFDNet: the name lookup knows
            name = "FFDNet_color.mat" if desc.startswith("colour") else "FFDNet_gray.mat"
        else:  # an unknown file: name it by its architecture so lookup finds it
            from pixtools_desktop.ml.model import load_model

            net = load_model(src)
            base = "dncnn_color_blind" if net.in_nc == 3 else "dncnn_gray_blind"
            name = base + src.suffix.lower() if net.nb == 20 else src.name
    dest = paths.user_weights_dir() / name

    def write(out: BinaryIO) -> None:
        with open(src, "rb") as fh:
            shutil.copyfileobj(fh, out, 1 << 20)

    _atomic_write(dest, write)
    forget_loaded_models()
    return dest, desc


def download_weights(
    url: str = W.DOWNLOAD_URL,
    sha256: str | None = W.DOWNLOAD_SHA256,
    *,
    timeout: float = 60.0,
    progress: Progress | None = None,
) -> Path:
    """Fetch weights over HTTP(S), verify the sha256, save atomically; returns the saved path."""
    import httpx

    name = url.rstrip("/").rsplit("/", 1)[-1] or "GD_Color_Blind.mat"
    known = W.BY_SHA.get(sha256 or "")
    if known:
        name = known.name
    dest = paths.user_weights_dir() / name
    digest = hashlib.sha256()

    def write(out: BinaryIO) -> None:
        with httpx.stream("GET", url, follow_redirects=True, timeout=timeout) as resp:
            if resp.status_code != 200:
                raise ModelUnavailableError(f"Download failed: {url} answered HTTP {resp.status_code}.")
            total = int(resp.headers.get("content-length") or 0) or None
            done = 0
            for chunk in resp.iter_bytes(1 << 16):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        got = digest.hexdigest()
        if sha256 and got != sha256.lower():
            raise ModelUnavailableError(
                f"Download from {url} has sha256 {got}, expected {sha256}: not saved. "
                "Try again, or get the file yourself and use `pixtools models import FILE`."
            )

    try:
        _atomic_write(dest, write)
    except httpx.HTTPError as exc:
        raise ModelUnavailableError(
            f"Download from {url} failed ({exc}). Check the connection, or import the file yourself."
        ) from exc
    forget_loaded_models()
    return dest
