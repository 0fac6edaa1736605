"""Size and start-up time of the Linux bundle, against the source install as baseline.

    .venv/bin/python benchmarks/bundle.py [BUNDLE_DIR] [--before OLD_BUNDLE_DIR] [--runs N]
                                          [--display :61 [--exe /usr/bin/pixtools]]

BUNDLE_DIR defaults to packaging/build/dist/PixTools (made by
packaging/build_linux.sh). Prints:

* size by top-level component (the bundle's files, grouped), and with
  --before the same for an older bundle side by side (before/after a change
  to the spec); the packages' sizes from BUILD_DIR/build-times.txt;
* start-up time: `--version` and `--self-test` of the bundle vs
  `python -m pixtools_desktop` from this interpreter (same run, same machine),
  median of N runs, with the bundle/baseline ratio;
* with --display: seconds from launching the app (the bundle, or --exe such
  as the installed /usr/bin/pixtools) to the window's first paint on that X
  display (PIXTOOLS_BENCH_FIRST_PAINT), first run and median, in a fresh HOME.

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
    ("torch: libtorch_cpu.so alone", ("torch/lib/libtorch_cpu",)),
    ("torch: the rest (libtorch_python, Python modules...)", ("torch", "torchgen", "functorch")),
    ("Qt / PySide6", ("PySide6", "shiboken6", "libQt6")),
    ("numpy + OpenBLAS", ("numpy",)),
    ("Pillow + codecs", ("PIL", "pillow.libs")),
    ("h5py + HDF5", ("h5py",)),
    ("boto3 / botocore", ("boto3", "botocore", "s3transfer")),
    (
        "web (fastapi, uvicorn, pydantic, httpx)",
        (
            "fastapi",
            "starlette",
            "uvicorn",
            "pydantic",
            "httpx",
            "httpcore",
            "anyio",
            "h11",
            "multipart",
            "python_multipart",
        ),
    ),
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


def size_table(bundle: Path) -> dict[str, int]:
    internal = bundle / "_internal"
    sizes: dict[str, int] = {label: 0 for label, _ in GROUPS}
    sizes["other"] = 0
    for path in internal.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        rel = path.relative_to(internal).as_posix()
        label = next((lab for lab, prefixes in GROUPS if rel.startswith(prefixes)), "other")
        sizes[label] += path.stat().st_size
    sizes["executable (bootloader + Python modules archive)"] = sum(
        tree_size(p) for p in bundle.iterdir() if p.is_file()
    )
    return sizes


def package_sizes(bundle: Path) -> dict[str, int]:
    """Sizes build_linux.sh recorded for the packages made from this bundle (BUILD_DIR/build-times.txt)."""
    times = bundle.parent.parent / "build-times.txt"
    if not times.is_file():
        return {}
    rows = dict(line.split(" ", 1) for line in times.read_text().splitlines() if " " in line)
    return {k: int(v) for k, v in rows.items() if k.endswith("_bytes")}


def first_paint(exe: str, display: str, runs: int) -> tuple[float, float]:
    """(first, median) seconds from launch to the window's first paint, in a fresh HOME each run."""
    times = []
    for _ in range(runs + 1):
        with tempfile.TemporaryDirectory(prefix="pixtools-paint-") as home:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXTOOLS_", "XDG_", "PYTHON", "QT_"))}
            env.update(HOME=home, DISPLAY=display, QT_QPA_PLATFORM="xcb", PIXTOOLS_BENCH_FIRST_PAINT="1")
            t0 = time.time()
            proc = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=120)
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("first-paint ")), None)
            if line is None:
                raise SystemExit(f"{exe} never painted ({proc.returncode}): {proc.stderr[-2000:]}")
            times.append(float(line.split()[1]) - t0)
    return times[0], statistics.median(times[1:]) if runs else times[0]


def time_cmd(cmd: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """(first, median of the others) wall seconds; a failing command aborts the benchmark."""
    times = []
    for _ in range(runs + 1):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return times[0], statistics.median(times[1:]) if runs else times[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", nargs="?", default=str(ROOT / "packaging" / "build" / "dist" / "PixTools"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--before", help="an older bundle to compare sizes with (same table)")
    ap.add_argument("--display", help="an X display (Xvfb) for the first-paint measurement")
    ap.add_argument("--exe", help="the program to start for --display (default: the bundle's)")
    args = ap.parse_args()
    bundle = Path(args.bundle)
    exe = bundle / "pixtools"
    if not exe.is_file():
        print(f"no bundle at {bundle}: run packaging/build_linux.sh first", file=sys.stderr)
        return 2

    after = size_table(bundle)
    before = size_table(Path(args.before)) if args.before else None
    total = sum(after.values())
    print(f"\nBundle size: {bundle}  ({total / 2**20:.0f} MiB in files)")
    if before:
        print(f"before: {args.before}  ({sum(before.values()) / 2**20:.0f} MiB in files)")
        print(f"{'component':52} {'before MiB':>10} {'after MiB':>10} {'change':>8}")
    else:
        print(f"{'component':52} {'MiB':>8} {'share':>7}")
    for label in sorted(after, key=lambda k: -max(after[k], (before or {}).get(k, 0))):
        size = after[label]
        if before:
            old = before.get(label, 0)
            if size or old:
                print(f"{label:52} {old / 2**20:10.1f} {size / 2**20:10.1f} {(size - old) / 2**20:+8.1f}")
        elif size:
            print(f"{label:52} {size / 2**20:8.1f} {size / total:7.1%}")
    if before:
        old_total = sum(before.values())
        print(f"{'total':52} {old_total / 2**20:10.1f} {total / 2**20:10.1f} {(total - old_total) / 2**20:+8.1f}")
    for name, size in package_sizes(bundle).items():
        print(f"{name.removesuffix('_bytes') + ' (package file)':52} {size / 1e6:8.1f} MB")
    if args.display:
        exe = args.exe or str(exe)
        first, median = first_paint(exe, args.display, args.runs)
        print(
            f"\nWindow first paint on {args.display} ({exe}, fresh HOME): first {first:.2f} s, "
            f"median of {args.runs} {median:.2f} s"
        )
        if args.runs == 0:
            return 0

    with tempfile.TemporaryDirectory(prefix="pixtools-bench-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTOOLS_")}
        env.update(PIXTOOLS_HOME=home, QT_QPA_PLATFORM="offscreen")
        src = [sys.executable, "-m", "pixtools_desktop"]
        print(
            f"\nStart-up (wall seconds; median of {args.runs} after a first run; baseline: {sys.executable} -m "
            "pixtools_desktop, same run)"
        )
        print(f"{'command':22} {'bundle first':>13} {'bundle':>8} {'source first':>13} {'source':>8} {'ratio':>7}")
        for label, extra in (("--version", ["--version"]), ("--self-test", ["--self-test"])):
            b_first, b_med = time_cmd([str(exe), *extra], args.runs, env)
            s_first, s_med = time_cmd([*src, *extra], args.runs, env)
            print(f"{label:22} {b_first:13.3f} {b_med:8.3f} {s_first:13.3f} {s_med:8.3f} {b_med / s_med:7.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
