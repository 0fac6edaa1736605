"""Size and start-up time of the Linux bundle, against the source install as baseline.

    .venv/bin/python benchmarks/bundle.py [BUNDLE_DIR] [--runs N]

BUNDLE_DIR defaults to packaging/build/dist/PixTools (made by
packaging/build_linux.sh). Prints two tables:

* size by top-level component (du of the bundle's files, grouped);
* start-up time: `--version` and `--self-test` of the bundle vs
  `python -m pixtools_desktop` from this interpreter (same run, same machine),
  median of N runs, with the bundle/baseline ratio.

The first run of each command is reported separately ("first"): right after a
build the files are usually in the page cache anyway, so this is a warm-cache
figure; a truly cold start (after a reboot) adds the disk read of the ~300 MB
libtorch_cpu.so for `--self-test`. Page caches are not dropped here (it would
slow every other process on the machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

GROUPS = [  # (label, prefixes under _internal/) - first match wins
    ("torch (libtorch_cpu etc.)", ("torch", "torchgen", "functorch")),
    ("Qt / PySide6", ("PySide6", "shiboken6", "libQt6")),
    ("numpy + OpenBLAS", ("numpy",)),
    ("Pillow + codecs", ("PIL", "pillow.libs")),
    ("h5py + HDF5", ("h5py",)),
    ("boto3 / botocore", ("boto3", "botocore", "s3transfer")),
    ("web (fastapi, uvicorn, pydantic, httpx)", ("fastapi", "starlette", "uvicorn", "pydantic", "httpx", "httpcore",
                                                  "anyio", "h11", "multipart", "python_multipart")),
    ("Python runtime + stdlib", ("libpython", "base_library.zip", "python3", "lib-dynload", "PYZ")),
    ("DnCNN weights", ("weights",)),
    ("system libraries (X11, fontconfig, glib, ...)", ("lib",)),
]


def tree_size(path: Path) -> int:
    if path.is_symlink():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def size_table(bundle: Path) -> list[tuple[str, int]]:
    internal = bundle / "_internal"
    sizes: dict[str, int] = {label: 0 for label, _ in GROUPS}
    sizes["other"] = 0
    for entry in internal.iterdir():
        label = next((lab for lab, prefixes in GROUPS if entry.name.startswith(prefixes)), "other")
        sizes[label] += tree_size(entry)
    sizes["executable (bootloader + Python modules archive)"] = sum(tree_size(p) for p in bundle.iterdir() if p.is_file())
    return sorted(sizes.items(), key=lambda kv: -kv[1])


def time_cmd(cmd: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """(first, median of the others) wall seconds; a failing command aborts the benchmark."""
    times = []
    for _ in range(runs + 1):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return times[0], statistics.median(times[1:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", nargs="?", default=str(ROOT / "packaging" / "build" / "dist" / "PixTools"))
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    bundle = Path(args.bundle)
    exe = bundle / "pixtools"
    if not exe.is_file():
        print(f"no bundle at {bundle}: run packaging/build_linux.sh first", file=sys.stderr)
        return 2

    rows = size_table(bundle)
    total = sum(s for _, s in rows)
    print(f"\nBundle size: {bundle}  ({total / 2**20:.0f} MiB in files)")
    print(f"{'component':52} {'MiB':>8} {'share':>7}")
    for label, size in rows:
        if size:
            print(f"{label:52} {size / 2**20:8.1f} {size / total:7.1%}")

    with tempfile.TemporaryDirectory(prefix="pixtools-bench-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTOOLS_")}
        env.update(PIXTOOLS_HOME=home, QT_QPA_PLATFORM="offscreen")
        src = [sys.executable, "-m", "pixtools_desktop"]
        print(f"\nStart-up (wall seconds; median of {args.runs} after a first run; baseline: {sys.executable} -m "
              "pixtools_desktop, same run)")
        print(f"{'command':22} {'bundle first':>13} {'bundle':>8} {'source first':>13} {'source':>8} {'ratio':>7}")
        for label, extra in (("--version", ["--version"]), ("--self-test", ["--self-test"])):
            b_first, b_med = time_cmd([str(exe), *extra], args.runs, env)
            s_first, s_med = time_cmd([*src, *extra], args.runs, env)
            print(f"{label:22} {b_first:13.3f} {b_med:8.3f} {s_first:13.3f} {s_med:8.3f} {b_med / s_med:7.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
