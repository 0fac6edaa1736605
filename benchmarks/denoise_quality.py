"""PSNR of our denoisers vs the published tables on CBSD68 / Kodak24.

Modes: DnCNN (CDnCNN-B) ``ref`` (plain whole-image forward), ``default``,
``fast``, ``max`` (the app's pipeline); FFDNet with the true sigma:
``ffdnet-ref`` (plain whole-image forward of the port), ``ffdnet`` and
``ffdnet-fast`` (the app's tiled pipeline). Each model is compared with its
own published table (FFDNet paper, Table 2 for CDnCNN-B; FFDNet colour table).

Protocol (the data README's): seeded Gaussian noise per image, float noisy
input (not quantised), output clipped and rounded to 8 bits, full-image PSNR,
mean over the set. "ref" is the plain whole-image fp32 NCHW forward.

    python benchmarks/denoise_quality.py                     # everything (slow on 2 cores: max is 8x)
    python benchmarks/denoise_quality.py --quick --modes default,fast --sigmas 25
    python benchmarks/denoise_quality.py --sets CBSD68 --modes ffdnet-ref,ffdnet   # the FFDNet table
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import PUBLISHED, PUBLISHED_FFDNET, WEIGHTS, load_set, noisy, psnr, seed_for, settings, table, to_u8


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="first 8 CBSD68 and 6 Kodak24 images")
    ap.add_argument("--limit", type=int, default=None, help="images per set (overrides --quick)")
    ap.add_argument("--modes", default="ref,default,fast,max")
    ap.add_argument("--sigmas", default="15,25,50")
    ap.add_argument("--sets", default="CBSD68,Kodak24")
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()

    import torch

    from pixtools_desktop.ml import get_denoiser
    from pixtools_desktop.ml.model import load_model

    torch.set_num_threads(args.threads)
    modes = [m for m in args.modes.split(",") if m]
    sigmas = [int(s) for s in args.sigmas.split(",")]
    net = load_model(WEIGHTS / "GD_Color_Blind.mat") if "ref" in modes else None
    ffd = None
    if "ffdnet-ref" in modes:
        from pixtools_desktop.ml.ffdnet import load_ffdnet

        ffd = load_ffdnet(WEIGHTS / "FFDNet_color.mat")
    rows = []
    for set_name in args.sets.split(","):
        limit = args.limit or ((8 if set_name == "CBSD68" else 6) if args.quick else None)
        images = load_set(set_name, limit)
        for sigma in sigmas:
            res: dict[str, list[float]] = {m: [] for m in modes}
            secs: dict[str, float] = {m: 0.0 for m in modes}
            for i, clean in enumerate(images):
                y = noisy(clean, sigma, seed_for(set_name, i, sigma))
                for m in modes:
                    t = time.perf_counter()
                    if m == "ref":
                        with torch.inference_mode():
                            x = torch.from_numpy(y).permute(2, 0, 1)[None].contiguous()
                            out = (x - net(x))[0].permute(1, 2, 0).numpy()
                    elif m == "ffdnet-ref":
                        from pixtools_desktop.ml.ffdnet import denoise_whole

                        with torch.inference_mode():
                            x = torch.from_numpy(y).permute(2, 0, 1)[None].contiguous()
                            smap = torch.full((1, 1, (x.shape[2] + 1) // 2, (x.shape[3] + 1) // 2), sigma / 255.0)
                            out = denoise_whole(ffd, x, smap)[0].permute(1, 2, 0).numpy()
                    elif m.startswith("ffdnet"):
                        from pixtools_desktop.ml.policy import DenoiseRequest

                        mode = "fast" if m == "ffdnet-fast" else "default"
                        req = DenoiseRequest(model="ffdnet", sigma=float(sigma), force=True)
                        out = get_denoiser(settings(mode, args.threads)).denoise_array(y, request=req)
                    else:
                        out = get_denoiser(settings(m, args.threads)).denoise_array(y)
                    secs[m] += time.perf_counter() - t
                    res[m].append(psnr(to_u8(out), clean))
            for m in modes:
                pub = (PUBLISHED_FFDNET if m.startswith("ffdnet") else PUBLISHED)[set_name][sigma]
                base_key = "ffdnet-ref" if m.startswith("ffdnet") else "ref"
                base = float(np.mean(res[base_key])) if base_key in res else None
                mean = float(np.mean(res[m]))
                rows.append(
                    [
                        set_name,
                        len(images),
                        sigma,
                        m,
                        mean,
                        mean - pub,
                        "" if base is None else f"{mean - base:+.3f}",
                        f"{secs[m]:.1f}",
                    ]
                )
            print(
                table(["set", "n", "sigma", "mode", "PSNR", "vs published", "vs ref", "seconds"], rows[-len(modes) :]),
                flush=True,
            )
    print()
    print(f"published (CDnCNN-B, FFDNet paper Table 2, full sets): {PUBLISHED}")
    print(f"published (FFDNet colour, FFDNet paper): {PUBLISHED_FFDNET}")
    print(table(["set", "n", "sigma", "mode", "PSNR", "vs published", "vs ref", "seconds"], rows))


if __name__ == "__main__":
    main()
