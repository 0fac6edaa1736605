"""Standard-op throughput: our engine (full pool, one worker) vs ImageMagick.

Work: N generated 12-megapixel camera-like JPEGs -> WebP quality 80, resized
to 1920 px wide (aspect kept), orientation applied. Each contender does the
same work in the same run; the table shows images/s and the ratio to one
worker of our engine.

    .venv/bin/python benchmarks/ops.py [--count 12] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pixtools_desktop.core.batch import plan_batch
from pixtools_desktop.core.jobs import OutputOptions
from pixtools_desktop.core.ops import validate_request
from pixtools_desktop.core.runner import LocalRunner
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore

DATA = Path(os.environ.get("PIXTOOLS_TESTDATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def make_inputs(folder: Path, count: int) -> list[Path]:
    """12 MP (4000x3000) JPEGs from real photos, upscaled, with sensor-like noise."""
    sources = sorted((DATA / "testsets" / "CBSD68").glob("*.png")) or [None]
    rng = np.random.default_rng(0)
    files = []
    for i in range(count):
        src = sources[i % len(sources)]
        base = Image.open(src).convert("RGB") if src else Image.new("RGB", (481, 321), (120, 140, 90))
        big = base.resize((4000, 3000), Image.Resampling.BICUBIC)
        arr = np.asarray(big, dtype=np.int16) + rng.normal(0, 6, (3000, 4000, 3)).astype(np.int16)
        path = folder / f"photo{i:02d}.jpg"
        Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path, quality=92)
        files.append(path)
    return files


def run_engine(files: list[Path], workers: int, out: Path) -> float:
    settings = Settings(workers=workers)
    with tempfile.TemporaryDirectory() as td:
        store = JobStore(Path(td) / "bench.sqlite3")
        request = validate_request(["webp"], {"webp": {"quality": 80, "resize": {"width": 1920}}}, None)
        plan = plan_batch(store, files, request, OutputOptions(output_dir=str(out)), force=True)
        runner = LocalRunner(store, settings, workers=workers, batch_ids={plan.batch_id})
        runner.start()
        time.sleep(1.5)  # worker processes start once per app run, not per batch: keep it out of the rate
        t0 = time.perf_counter()
        runner.submit(plan.new_jobs)
        runner.wait_idle(plan.batch_id, poll=0.01)
        elapsed = time.perf_counter() - t0
        runner.stop()
        bad = store.count_by_status(batch_id=plan.batch_id)["FAILED"]
        store.close()
    if bad:
        raise SystemExit(f"{bad} jobs failed in the benchmark")
    return elapsed


def run_imagemagick(files: list[Path], out: Path, parallel: int) -> float | None:
    exe = shutil.which("convert")
    if exe is None:
        return None
    cmds = [
        [exe, str(f), "-auto-orient", "-resize", "1920x", "-quality", "80", str(out / (f.stem + ".webp"))]
        for f in files
    ]
    t0 = time.perf_counter()
    running: list[subprocess.Popen] = []
    for cmd in cmds:
        while len(running) >= parallel:
            running.pop(0).wait()
        running.append(subprocess.Popen(cmd))
    for p in running:
        p.wait()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=1, help="take the best of N runs")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as td:
        root = Path(td)
        files = make_inputs(root, args.count)
        results: dict[str, float | None] = {}

        def best(fn) -> float | None:
            times = []
            for r in range(args.repeat):
                out = root / f"out-{len(results)}-{r}"
                out.mkdir()
                t = fn(out)
                if t is None:
                    return None
                times.append(t)
                shutil.rmtree(out)
            return min(times)

        results["engine, 1 worker"] = best(lambda o: run_engine(files, 1, o))
        results[f"engine, full pool ({cores} workers)"] = best(lambda o: run_engine(files, cores, o))
        results["ImageMagick convert, sequential"] = best(lambda o: run_imagemagick(files, o, 1))
        results[f"ImageMagick convert, {cores} at once"] = best(lambda o: run_imagemagick(files, o, cores))

    base = results["engine, 1 worker"]
    print(f"\n{args.count} x 12 MP JPEG -> WebP q80, 1920 px wide   ({cores} cores)\n")
    print(f"{'contender':<40} {'seconds':>8} {'img/s':>7} {'vs 1 worker':>12}")
    print("-" * 70)
    for name, t in results.items():
        if t is None:
            print(f"{name:<40} {'n/a (convert not installed)':>28}")
            continue
        print(f"{name:<40} {t:8.2f} {args.count / t:7.2f} {base / t:11.2f}x")


if __name__ == "__main__":
    main()
