"""Seconds per megapixel and peak resident memory, reference vs ours, per mode.

Each case runs in its own child process (``--child``) and reports
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` from inside the child, so
cases never contaminate each other's peak memory.

reference = how PixTools servers run it: whole image, fp32, NCHW, 4 threads.
It is measured at 512x512 and 1920x1080 only; at 6000x4000 its time is
extrapolated per megapixel and its memory scaled from the 1920x1080 peak
by pixel count (it would need that much; we don't run it).

    python benchmarks/denoise_speed.py                       # all sizes, all modes
    python benchmarks/denoise_speed.py --quick --threads 2   # 2-core box: 6000x4000 runs only
                                                             # the first tiles (--tiles N) and extrapolates
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _common import REPO, table

SIZES = [(512, 512), (1920, 1080), (6000, 4000)]


def make_image(w: int, h: int):
    import numpy as np

    rng = np.random.default_rng(0)
    # smooth content + sigma-25 noise, uint8 like a decoded photo
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 128 + 60 * np.sin(xx / 37.0)[..., None] * np.cos(yy / 23.0)[..., None] * np.array(
        [1.0, 0.8, 0.6], np.float32
    )
    img = base + rng.standard_normal((h, w, 3), dtype=np.float32) * 25
    return np.clip(img, 0, 255).astype(np.uint8)


def child(method: str, w: int, h: int, threads: int, tiles: int) -> dict:
    import resource

    import torch
    from _common import WEIGHTS, settings

    from pixtools_desktop.core.errors import JobCancelled

    torch.set_num_threads(threads)
    img = make_image(w, h)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out: dict = {"method": method, "w": w, "h": h}
    if method == "reference":
        from pixtools_desktop.ml.model import load_model

        net = load_model(WEIGHTS / "GD_Color_Blind.mat")
        with torch.inference_mode():
            x = torch.from_numpy(img).permute(2, 0, 1)[None].float().div(255.0).contiguous()
            net(x[:, :, :64, :64])  # warm-up
            t = time.perf_counter()
            (x - net(x)).clamp(0, 1).mul(255).round().byte()[0].permute(1, 2, 0).numpy()
            out["seconds"] = time.perf_counter() - t
    else:
        from pixtools_desktop.ml import get_denoiser

        d = get_denoiser(settings(method, threads))
        d.denoise_array(img[:64, :64])  # load + warm-up
        done = {"n": 0, "frac": 0.0}

        def progress(f):
            done["n"] += 1
            done["frac"] = f

        cancelled = (lambda: done["n"] >= tiles) if tiles else None
        t = time.perf_counter()
        try:
            d.denoise_array(img, progress=progress, cancelled=cancelled)
        except JobCancelled:
            out["partial"] = f"{done['n']} tiles = {done['frac']:.1%}"
        dt = time.perf_counter() - t
        out["seconds"] = dt / max(done["frac"], 1e-9)  # extrapolated when partial
        out["tile"] = d.last_tile
        out["precision"] = d.precision
    out["sec_per_mp"] = out["seconds"] / (w * h / 1e6)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["rss_before_mb"] = rss_before / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", nargs=3, metavar=("METHOD", "W", "H"))
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--modes", default="default,fast,max")
    ap.add_argument("--quick", action="store_true", help="max only at 512x512; 6000x4000 only its first --tiles tiles")
    ap.add_argument("--tiles", type=int, default=0, help="stop after N tiles and extrapolate (0: whole image)")
    args = ap.parse_args()
    if args.child:
        m, w, h = args.child
        print(json.dumps(child(m, int(w), int(h), args.threads, args.tiles)))
        return

    modes = [m for m in args.modes.split(",") if m]
    results: dict[tuple, dict] = {}
    for w, h in SIZES:
        methods = (["reference"] if (w, h) != (6000, 4000) else []) + modes
        for m in methods:
            if args.quick and m == "max" and (w, h) != (512, 512):
                continue
            tiles = args.tiles or (4 if args.quick and (w, h) == (6000, 4000) else 0)
            cmd = [
                sys.executable,
                str(Path(__file__)),
                "--child",
                m,
                str(w),
                str(h),
                "--threads",
                str(args.threads),
                "--tiles",
                str(tiles if m != "reference" else 0),
            ]
            p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
            if p.returncode != 0:
                print(f"{m} {w}x{h} failed:\n{p.stderr[-2000:]}", file=sys.stderr)
                continue
            r = json.loads(p.stdout.strip().splitlines()[-1])
            results[(m, w, h)] = r
            print(
                f"  {m:9s} {w}x{h}: {r['sec_per_mp']:.2f} s/MP, peak {r['peak_rss_mb']:.0f} MB {r.get('partial', '')}",
                flush=True,
            )

    rows = []
    ref1080 = results.get(("reference", 1920, 1080))
    for w, h in SIZES:
        mp = w * h / 1e6
        ref = results.get(("reference", w, h))
        note = ""
        if ref is None and ref1080 is not None:
            ref = {
                "sec_per_mp": ref1080["sec_per_mp"],
                "peak_rss_mb": ref1080["rss_before_mb"]
                + (ref1080["peak_rss_mb"] - ref1080["rss_before_mb"]) * mp / (1920 * 1080 / 1e6),
            }
            note = "extrapolated from 1920x1080"
        if ref:
            rows.append(
                [
                    f"{w}x{h}",
                    "reference (whole, fp32, NCHW)",
                    ref["sec_per_mp"],
                    "1.00x",
                    f"{ref['peak_rss_mb']:.0f}",
                    "-",
                    note,
                ]
            )
        for m in modes:
            r = results.get((m, w, h))
            if not r:
                continue
            ratio = f"{ref['sec_per_mp'] / r['sec_per_mp']:.2f}x" if ref else "-"
            rows.append(
                [
                    f"{w}x{h}",
                    f"{m} ({r['precision']})",
                    r["sec_per_mp"],
                    ratio,
                    f"{r['peak_rss_mb']:.0f}",
                    r["tile"],
                    f"partial: {r['partial']}, time extrapolated" if "partial" in r else "",
                ]
            )
    print()
    print(f"threads={args.threads}")
    print(table(["size", "method", "s/MP", "speed vs ref", "peak RSS MB", "tile", "note"], rows))


if __name__ == "__main__":
    main()
