"""Denoising photos as they come: camera-like, white, spatially varying noise, and clean photos.

Inputs (centre crops of Kodak24 and CBSD68, seeded per image and condition):

* ``cam-low`` / ``cam-high``: camera-like noise. The clean sRGB crop is
  taken to linear light and into a camera's RGB (the inverse of a typical
  camera-to-sRGB colour matrix), Poisson-Gaussian noise ``var = a*x + b`` is
  added (a=0.004, b=4e-5 and a=0.02, b=4e-4), then the matrix, the sRGB
  curve, 8 bits and JPEG q90 4:2:0, as a phone or camera saves it.
* ``white15/25/50``: white Gaussian noise, clipped and rounded to 8 bits.
* ``vary8-40``: white noise whose sigma grows from 8 at the centre to 40 in
  the corners (clipped, 8 bits).
* ``clean``: the crop itself.

Methods: ``input`` (no denoise), DnCNN (CDnCNN-B) ``dn-default``,
``dn-fast``, ``dn-max`` without (plain, as the API) and with auto strength
(``+auto``: the desktop's noise estimate, the clean rule and the strength
ramp), FFDNet ``ffd-auto`` (estimated sigma, global), ``ffd-local``
(estimated local map), ``auto`` (the desktop default, ``model="auto"``: FFDNet
with the local map where colour noise shows, else DnCNN +auto), ``ffd-true`` (the true sigma / map; for camera noise
the std of the actual noise), and OpenCV's non-local means with ``h`` set
from the same estimate (``nlm``, the classical peer; skipped without
opencv-python-headless). Mean PSNR / SSIM (luma SSIM, 7x7 Gaussian) over the
crops, and seconds per megapixel, all in one run (ratios are what counts on a
shared machine).

    python benchmarks/denoise_realistic.py --limit 4 --size 256
    python benchmarks/denoise_realistic.py --methods input,dn-default,ffd-auto --conditions cam-low,clean
"""

from __future__ import annotations

import argparse
import io
import time
import zlib

import numpy as np
from _common import load_set, psnr, settings, table

CONDITIONS = ("cam-low", "cam-high", "white15", "white25", "white50", "vary8-40", "clean")
METHODS = (
    "input",
    "dn-default",
    "dn-default+auto",
    "dn-fast",
    "dn-fast+auto",
    "dn-max",
    "dn-max+auto",
    "ffd-auto",
    "ffd-local",
    "ffd-true",
    "auto",
    "nlm",
)
# A typical camera-to-linear-sRGB matrix (rows sum to 1): camera RGB = inverse(CCM) @ sRGB linear.
CCM = np.array([[1.62, -0.49, -0.13], [-0.21, 1.48, -0.27], [0.02, -0.55, 1.53]])


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def camera_noise(clean: np.ndarray, a: float, b: float, rng: np.random.Generator) -> np.ndarray:
    from PIL import Image

    lin = srgb_to_linear(clean / 255.0)
    cam = np.clip(lin @ np.linalg.inv(CCM).T, 0, 1)
    noisy = cam + rng.standard_normal(cam.shape) * np.sqrt(a * cam + b)
    out = linear_to_srgb(noisy @ CCM.T)
    u8 = np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, "JPEG", quality=90, subsampling=2)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def radial_sigma(h: int, w: int, lo: float = 8.0, hi: float = 40.0) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r = np.hypot(yy - (h - 1) / 2, xx - (w - 1) / 2)
    return lo + (hi - lo) * r / r.max()


def make_input(clean: np.ndarray, cond: str, seed: int) -> tuple[np.ndarray, np.ndarray | float]:
    """(noisy uint8, true sigma: a number or an (H, W) map, 0..255 units)."""
    rng = np.random.default_rng(seed)
    if cond == "clean":
        return clean.copy(), 0.0
    if cond.startswith("cam"):
        a, b = (0.004, 4e-5) if cond == "cam-low" else (0.02, 4e-4)
        y = camera_noise(clean, a, b, rng)
        return y, float(np.std(y.astype(np.float64) - clean))
    if cond.startswith("white"):
        s = float(cond[5:])
        sig: np.ndarray | float = s
    else:
        sig = radial_sigma(*clean.shape[:2])
    n = rng.standard_normal(clean.shape) * (sig[..., None] if isinstance(sig, np.ndarray) else sig)
    return np.clip(np.rint(clean + n), 0, 255).astype(np.uint8), sig


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Luma SSIM (Wang et al. 2004), Gaussian 7x7 sigma 1.5, on 0..255."""

    def luma(x):
        x = x.astype(np.float64)
        return 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]

    def blur(x):
        k = np.exp(-0.5 * (np.arange(-3, 4) / 1.5) ** 2)
        k /= k.sum()
        x = np.apply_along_axis(lambda r: np.convolve(r, k, mode="valid"), 1, x)
        return np.apply_along_axis(lambda c: np.convolve(c, k, mode="valid"), 0, x)

    x, y = luma(a), luma(b)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(m.mean())


def run_method(method: str, y: np.ndarray, true_sigma, threads: int) -> np.ndarray:
    from pixtools_desktop.ml import get_denoiser
    from pixtools_desktop.ml.noise_level import estimate_noise
    from pixtools_desktop.ml.policy import DenoiseRequest

    if method == "input":
        return y
    if method.startswith("dn-"):
        mode = method[3:].split("+")[0]
        req = DenoiseRequest(model="dncnn") if method.endswith("+auto") else None
        return get_denoiser(settings(mode, threads)).denoise_array(y, request=req)
    d = get_denoiser(settings("default", threads))
    if method == "ffd-auto":
        return d.denoise_array(y, request=DenoiseRequest(model="ffdnet"))
    if method == "ffd-local":
        return d.denoise_array(y, request=DenoiseRequest(model="ffdnet", noise_map="local"))
    if method == "auto":  # the desktop default: model "auto" (FFDNet local map or guarded DnCNN)
        return d.denoise_array(y, request=DenoiseRequest(model="auto", noise_map="local"))
    if method == "ffd-true":
        return _ffd_true(d, y, true_sigma)
    if method == "nlm":
        import cv2

        h = max(1.0, 0.8 * estimate_noise(y).sigma)  # OpenCV's h ~ 0.8 sigma works well for white noise
        return cv2.fastNlMeansDenoisingColored(np.ascontiguousarray(y), None, h, h, 7, 21)
    raise SystemExit(f"unknown method {method}")


def _ffd_true(d, y: np.ndarray, true_sigma) -> np.ndarray:
    from pixtools_desktop.ml.ffdnet_infer import ffdnet_tiled

    runner = d._ffd_runner(3)
    if isinstance(true_sigma, np.ndarray):
        smap = true_sigma[::2, ::2][: (y.shape[0] + 1) // 2, : (y.shape[1] + 1) // 2].astype(np.float32)
    else:
        smap = np.float32(true_sigma)
    return ffdnet_tiled(runner, np.ascontiguousarray(y), smap)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="Kodak24,CBSD68")
    ap.add_argument("--limit", type=int, default=4, help="images per set (spread over the set)")
    ap.add_argument("--size", type=int, default=256, help="centre crop size")
    ap.add_argument("--conditions", default=",".join(CONDITIONS))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    methods = [m for m in args.methods.split(",") if m]
    if "nlm" in methods:
        try:
            import cv2  # noqa: F401 - only asks whether OpenCV is installed
        except ImportError:
            print("opencv-python-headless is not installed: nlm skipped")
            methods.remove("nlm")
    crops = []
    for set_name in args.sets.split(","):
        imgs = load_set(set_name)
        step = max(1, len(imgs) // args.limit)
        for i, im in list(enumerate(imgs))[::step][: args.limit]:
            h, w = im.shape[:2]
            s = min(args.size, h, w)
            y0, x0 = (h - s) // 2, (w - s) // 2
            crops.append((f"{set_name}/{i}", np.ascontiguousarray(im[y0 : y0 + s, x0 : x0 + s])))
    # warm the models (load time is not inference time)
    for m in methods:
        run_method(m, crops[0][1][:64, :64], 10.0, args.threads)
    rows = []
    for cond in [c for c in args.conditions.split(",") if c]:
        acc = {m: ([], [], 0.0) for m in methods}
        px = 0
        for name, clean in crops:
            y, true_sigma = make_input(clean, cond, zlib.crc32(f"{name}/{cond}".encode()))
            px += clean.shape[0] * clean.shape[1]
            for m in methods:
                t = time.perf_counter()
                out = run_method(m, y, true_sigma, args.threads)
                dt = time.perf_counter() - t
                p, s_, tt = acc[m]
                p.append(min(psnr(out, clean), 99.0))
                s_.append(ssim(out, clean))
                acc[m] = (p, s_, tt + dt)
        base = float(np.mean(acc["input"][0])) if "input" in acc else None
        for m in methods:
            p, s_, tt = acc[m]
            rows.append(
                [
                    cond,
                    m,
                    float(np.mean(p)),
                    float(np.min(p)),
                    "" if base is None or m == "input" else f"{np.mean(p) - base:+.2f}",
                    float(np.mean(s_)),
                    "" if m == "input" else f"{tt / (px / 1e6):.2f}",
                ]
            )
        print(
            table(["condition", "method", "PSNR", "min PSNR", "vs input", "SSIM", "s/MP"], rows[-len(methods) :]),
            flush=True,
        )
    print(f"\n{len(crops)} crops of {args.size} px ({args.sets}), {args.threads} threads")
    hdr = ["condition", "method", "PSNR", "min PSNR", "vs input", "SSIM", "s/MP"]
    if args.markdown:
        print("| " + " | ".join(hdr) + " |")
        print("|" + "---|" * len(hdr))
        for r in rows:
            print("| " + " | ".join(f"{c:.3f}" if isinstance(c, float) else str(c) for c in r) + " |")
    else:
        print(table(hdr, rows))


if __name__ == "__main__":
    main()
