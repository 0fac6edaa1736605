"""`pixtools models list | import FILE | download [--url URL]`.

Weights go into the user weights folder (`paths.user_weights_dir()`), written
to a temporary file and renamed into place, so an interrupted download or
import never leaves a half file where the app looks for models.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pixtools_desktop.core.errors import ModelUnavailableError
from pixtools_desktop.ml import weights as W


def register(subparsers) -> None:
    p = subparsers.add_parser("models", help="list, import or download the denoise model weights")
    sub = p.add_subparsers(dest="models_cmd", metavar="{list,import,download}")
    p.set_defaults(func=run, models_cmd=None)

    pl = sub.add_parser("list", help="show the weight files found and where")
    pl.set_defaults(func=run, models_cmd="list")

    pi = sub.add_parser("import", help="copy a DnCNN .mat or .pth into the user weights folder (architecture checked)")
    pi.add_argument("file", help="a DnCNN .mat (MatConvNet) or .pth (KAIR state dict)")
    pi.add_argument("--name", help="file name to store it under (default: the known name, else the file's name)")
    pi.set_defaults(func=run, models_cmd="import")

    pd = sub.add_parser("download", help="download the authors' colour model (sha256 verified)")
    pd.add_argument("--model", choices=sorted(W.DOWNLOADS), default="color", help="which model (default: color)")
    pd.add_argument("--url", default=None, help=f"default: the authors' address, e.g. {W.DOWNLOAD_URL}")
    pd.add_argument("--sha256", default=None, help="expected sha256 (default: the published one for --model)")
    pd.add_argument("--timeout", type=float, default=60.0)
    pd.add_argument("--quiet", action="store_true", help="no progress bar")
    pd.set_defaults(func=run, models_cmd="download")


def run(args) -> int:
    cmd = getattr(args, "models_cmd", None) or "list"
    settings = getattr(args, "settings", None)
    try:
        if cmd == "list":
            return _list(settings)
        if cmd == "import":
            return _import(Path(args.file), getattr(args, "name", None))
        if cmd == "download":
            url, sha = W.DOWNLOADS[getattr(args, "model", None) or "color"]
            return _download(args.url or url, args.sha256 or sha, timeout=args.timeout, quiet=args.quiet)
    except ModelUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"error: unknown models command {cmd!r}", file=sys.stderr)
    return 2


def _list(settings) -> int:
    rows = W.installed_weights(settings)
    color = W.find_weights(settings, W.COLOR)
    gray = W.find_weights(settings, W.GRAY)
    if not rows:
        print(f"No denoise model installed. {W.HOW_TO_GET}")
        return 0
    for r in rows:
        mark = "*" if color and r["path"] == str(color) or gray and r["path"] == str(gray) else " "
        sha = {True: "sha256 ok", False: "SHA256 MISMATCH", None: "sha256 unknown"}[r["sha256_ok"]]
        print(f"{mark} {r['model']:<36} {r['size'] / 1e6:6.1f} MB  {sha:<15}  {r['path']}  ({r['location']})")
    print(f"colour model in use: {color or 'none'}")
    print(f"grey model in use:   {gray or 'none (grey images use the colour model)'}")
    if color is None:
        print(W.HOW_TO_GET)
    return 0


def _import(src: Path, name: str | None) -> int:
    from pixtools_desktop.ml.install import import_weights

    dest, desc = import_weights(src, name)
    print(f"imported {src} -> {dest} ({desc})")
    return 0


def _download(url: str, sha256: str | None, *, timeout: float = 60.0, quiet: bool = False) -> int:
    from tqdm import tqdm as _tqdm

    from pixtools_desktop.ml.install import download_weights

    class tqdm(_tqdm):  # no tqdm_monitor thread left behind (one download, one bar)
        monitor_interval = 0

    name = url.rstrip("/").rsplit("/", 1)[-1] or "GD_Color_Blind.mat"
    with tqdm(unit="B", unit_scale=True, desc=name, disable=quiet, file=sys.stderr) as bar:

        def progress(done: int, total: int | None) -> None:
            if total and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        dest = download_weights(url, sha256, timeout=timeout, progress=progress)
    print(f"downloaded {url} -> {dest} (sha256 {'verified' if sha256 else 'not checked'})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (tests, or before the main CLI wires `models` in)."""
    parser = argparse.ArgumentParser(prog="pixtools")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    if getattr(args, "settings", None) is None:
        from pixtools_desktop.core.settings import load_settings

        args.settings = load_settings()
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
