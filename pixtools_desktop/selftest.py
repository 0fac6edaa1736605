"""`pixtools --self-test`: prove that an install (source tree or frozen bundle) works.

Why it exists: a PyInstaller bundle can build cleanly and still be broken at
run time (a Qt plugin left out, a torch library excluded too eagerly, a
module imported only dynamically). The self-test exercises each heavy
dependency the way the app uses it, headless, in a few seconds:

* ``qt``     – a QGuiApplication on the offscreen platform plugin and a JPEG
               QImage round trip (needs the ``imageformats`` plugins);
* ``torch``  – imports torch and reports its version and thread count;
* ``store``  – opens a job store (SQLite + migrations) in a temporary folder;
* ``engine`` – runs a real job (resize + WebP) on a generated image through
               the store, executor and engine, then decodes the output;
* ``model``  – a DnCNN forward pass on a small noisy image: with the real
               weights where :mod:`pixtools_desktop.ml` finds them (and then
               it must actually reduce the noise), otherwise with a randomly
               initialised net of the same architecture, reported as such.

It prints exactly one JSON line on stdout and returns 0 when every check
passed, 1 otherwise. Nothing is written outside a temporary folder, so it is
safe to run on a user's machine.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pixtools_desktop import __version__

CheckResult = dict[str, Any]


def _run_check(fn: Callable[..., CheckResult], *args: Any) -> CheckResult:
    """Run one check; any exception becomes ``ok: false`` with a readable error."""
    t0 = time.perf_counter()
    try:
        result = fn(*args)
        result.setdefault("ok", True)
    except Exception as exc:  # noqa: BLE001 - a self-test reports, it does not crash
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        if os.environ.get("PIXTOOLS_SELFTEST_TRACEBACK"):
            result["traceback"] = traceback.format_exc()
    result["seconds"] = round(time.perf_counter() - t0, 3)
    return result


# ---------------------------------------------------------------- checks
def check_qt() -> CheckResult:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QGuiApplication, QImage, QImageReader

    _app = QGuiApplication.instance() or QGuiApplication(
        [sys.argv[0] if sys.argv else "pixtools"]
    )  # alive for the checks
    platform = QGuiApplication.platformName()  # static; instance() is typed as QCoreApplication
    formats = sorted(bytes(f.data()).decode() for f in QImageReader.supportedImageFormats())
    for needed in ("jpeg", "png"):
        if needed not in formats:
            raise RuntimeError(f"Qt cannot read {needed.upper()} (imageformats plugin missing); it reads {formats}")

    image = QImage(32, 24, QImage.Format.Format_RGB32)
    image.fill(QColor(200, 40, 90))
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "JPEG", 95):  # type: ignore[call-overload]  # the stub says bytes; PySide6 6.x takes only str
        raise RuntimeError("Qt could not encode a JPEG")
    buf.close()
    back = QImage()
    if not back.loadFromData(data, "JPEG"):
        raise RuntimeError("Qt could not decode the JPEG it wrote")
    pixel = back.pixelColor(16, 12)
    if (back.width(), back.height()) != (32, 24) or abs(pixel.red() - 200) > 8 or abs(pixel.green() - 40) > 8:
        raise RuntimeError(f"JPEG round trip changed the image: {back.width()}x{back.height()} {pixel.name()}")
    return {"pyside6": pyside_version, "platform": platform, "image_formats": len(formats)}


def check_torch() -> CheckResult:
    import torch

    return {"version": torch.__version__, "threads": torch.get_num_threads(), "cuda": torch.cuda.is_available()}


def check_store(tmp: Path) -> CheckResult:
    from pixtools_desktop.core.store import JobStore

    with JobStore(tmp / "selftest.sqlite3") as store:
        counts = store.count_by_status()
    return {"path": "temporary", "statuses": len(counts)}


def _sample_image(path: Path) -> None:
    """A 96x64 colour gradient with a block of detail, saved as PNG."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (96, 64))
    img.putdata([(x * 255 // 95, y * 255 // 63, 128) for y in range(64) for x in range(96)])
    ImageDraw.Draw(img).rectangle((30, 20, 60, 44), fill=(250, 250, 20), outline=(0, 0, 0), width=3)
    img.save(path, "PNG")


def check_engine(tmp: Path) -> CheckResult:
    from PIL import Image

    from pixtools_desktop.core.executor import execute_job
    from pixtools_desktop.core.jobs import JobStatus, OutputOptions
    from pixtools_desktop.core.ops import validate_request
    from pixtools_desktop.core.settings import Settings
    from pixtools_desktop.core.store import JobStore, NewJob

    src = tmp / "selftest.png"
    _sample_image(src)
    out_dir = tmp / "out"
    request = validate_request(["webp"], {"webp": {"quality": 80, "resize": {"width": 48}}}, src.name)
    db_path = str(tmp / "engine.sqlite3")
    settings = Settings(db_path=db_path, output_dir=str(out_dir))
    with JobStore(db_path) as store:
        store.add_jobs(
            [
                NewJob(
                    input_path=str(src),
                    operations=[op.value for op in request.operations],
                    params=request.params,
                    options=OutputOptions(output_dir=str(out_dir)),
                )
            ]
        )
        job = store.claim_next("std")
        if job is None:
            raise RuntimeError("the job store did not hand out the job it was given")
        # In a worker process, as the app runs standard jobs: proves spawn works in this build.
        from pixtools_desktop.core.procpool import ProcessPool

        pool = ProcessPool(1)
        try:
            final = execute_job(store, job, settings, engine=pool.run)
        finally:
            pool.close()
    if final.status != JobStatus.COMPLETED:
        raise RuntimeError(f"job ended {final.status.value}: {final.error_message}")
    out = Path(final.outputs[0].path)
    with Image.open(out) as img:
        img.load()
        fmt, size = img.format, img.size
    if fmt != "WEBP" or size != (48, 32):
        raise RuntimeError(f"expected a 48x32 WEBP, got {fmt} {size}")
    return {
        "operation": "webp+resize (worker process)",
        "output": f"{fmt} {size[0]}x{size[1]}",
        "bytes": out.stat().st_size,
    }


def _find_weights() -> Path | None:
    """The colour weights the app itself would use (settings, env, user folder, bundle)."""
    from pixtools_desktop.core.settings import load_settings
    from pixtools_desktop.ml.weights import find_weights

    return find_weights(load_settings())


def check_model() -> CheckResult:
    import torch

    from pixtools_desktop.ml.model import DnCNN, load_model

    torch.manual_seed(0)
    weights = _find_weights()
    if weights is not None:
        net = load_model(weights)
        source = f"weights:{weights.name}"
    else:
        net = DnCNN(in_nc=3, nb=20).eval()
        source = "random-init"
    channels = net.in_nc
    clean = torch.full((1, channels, 40, 40), 0.5)
    clean[..., 10:30, 10:30] = 0.8
    noisy = (clean + torch.randn_like(clean) * (25 / 255)).clamp(0, 1)
    with torch.inference_mode():
        out = net.denoise(noisy)
    if tuple(out.shape) != tuple(noisy.shape) or not torch.isfinite(out).all():
        raise RuntimeError(f"forward pass gave shape {tuple(out.shape)} or non-finite values")
    result: CheckResult = {"source": source, "layers": net.nb, "channels": channels}
    if weights is not None:
        # With real weights the model must denoise, not just run: MSE must drop clearly.
        mse_in = float(((noisy - clean) ** 2).mean())
        mse_out = float(((out.clamp(0, 1) - clean) ** 2).mean())
        result["noise_reduction"] = round(mse_in / max(mse_out, 1e-12), 2)
        if mse_out >= mse_in * 0.7:
            raise RuntimeError(f"the model did not reduce noise (MSE {mse_in:.5f} -> {mse_out:.5f})")
    return result


# ---------------------------------------------------------------- entry
def collect_checks() -> dict[str, CheckResult]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    checks: dict[str, CheckResult] = {}
    with tempfile.TemporaryDirectory(prefix="pixtools-selftest-") as tmp_name:
        tmp = Path(tmp_name)
        checks["qt"] = _run_check(check_qt)
        checks["torch"] = _run_check(check_torch)
        checks["store"] = _run_check(check_store, tmp)
        checks["engine"] = _run_check(check_engine, tmp)
        checks["model"] = _run_check(check_model)
    return checks


def run_self_test() -> int:
    """Run every check, print one JSON line, return the exit code (0 ok, 1 failed)."""
    t0 = time.perf_counter()
    checks = collect_checks()
    ok = all(c["ok"] for c in checks.values())
    report = {
        "ok": ok,
        "checks": checks,
        "seconds": round(time.perf_counter() - t0, 3),
        "version": __version__,
        "frozen": bool(getattr(sys, "frozen", False)),
        "python": sys.version.split()[0],
    }
    print(json.dumps(report, sort_keys=False), flush=True)
    return 0 if ok else 1
