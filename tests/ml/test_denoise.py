from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pixtools_desktop.core.errors import JobCancelled, ModelUnavailableError

from .conftest import REPO, cbsd68_crop, noisy, psnr, to_u8


@pytest.fixture(scope="module")
def color_net():
    from pixtools_desktop.ml.model import load_model

    from .conftest import WEIGHTS, need

    return load_model(need(WEIGHTS / "GD_Color_Blind.mat"))


def whole_image_fp32(net, y: np.ndarray) -> np.ndarray:
    """The reference: whole image, fp32, NCHW, plain y - net(y)."""
    import torch

    with torch.inference_mode():
        x = torch.from_numpy(y).permute(2, 0, 1)[None].contiguous()
        return (x - net(x))[0].permute(1, 2, 0).numpy()


def test_importing_the_package_does_not_import_torch():
    code = (
        "import sys, pixtools_desktop, pixtools_desktop.ml, pixtools_desktop.ml.weights, pixtools_desktop.ml.denoiser;"
        " print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize("index,seed", [(0, 1), (7, 2)])
def test_psnr_default_mode_matches_whole_image_fp32(settings_factory, color_net, index, seed):
    from pixtools_desktop.ml import get_denoiser

    clean = cbsd68_crop(index, 128)
    y = noisy(clean, 25, seed)
    ref = psnr(to_u8(whole_image_fp32(color_net, y)), clean)
    d = get_denoiser(settings_factory(denoise_tile=64))  # tiled, channels_last
    ours = psnr(to_u8(d.denoise_array(y)), clean)
    assert ref > 27.5  # sigma 25 input is ~20.2 dB; CDnCNN-B gives ~31 dB on CBSD68
    assert abs(ours - ref) <= 0.02, (ours, ref)


def test_fast_and_max_modes_quality(settings_factory, color_net):
    from pixtools_desktop.ml import get_denoiser

    clean = cbsd68_crop(3, 128)
    y = noisy(clean, 25, 5)
    ref = psnr(to_u8(whole_image_fp32(color_net, y)), clean)
    fast = psnr(to_u8(get_denoiser(settings_factory(denoise_mode="fast")).denoise_array(y)), clean)
    best = psnr(to_u8(get_denoiser(settings_factory(denoise_mode="max")).denoise_array(y)), clean)
    assert fast >= ref - 0.10, (fast, ref)
    assert best >= ref - 0.01, (best, ref)  # the ensemble usually gains a few hundredths of a dB


def test_tiled_equals_whole(settings_factory, color_net):
    from pixtools_desktop.ml import get_denoiser

    clean = cbsd68_crop(5, 136)[:, :117]  # odd width: uneven tiles
    u8 = to_u8(noisy(clean, 25, 9))
    whole = get_denoiser(settings_factory(denoise_tile=4096)).denoise_array(u8)  # one tile
    tiled = get_denoiser(settings_factory(denoise_tile=48)).denoise_array(u8)  # 3 x 3 tiles
    diff = np.abs(tiled.astype(int) - whole.astype(int))
    assert diff.max() <= 1
    assert (diff == 0).mean() >= 0.9999
    # and against the plain NCHW whole-image reference, in float: only summation-order noise
    ref = whole_image_fp32(color_net, u8.astype(np.float32) / 255.0)
    ours = get_denoiser(settings_factory(denoise_tile=48)).denoise_array(u8.astype(np.float32) / 255.0)
    assert np.abs(ours - ref).max() < 1e-4
    print("tiled==whole identical fraction", (diff == 0).mean(), "float max diff vs NCHW", np.abs(ours - ref).max())


def test_progress_and_cancel_between_tiles(settings_factory):
    from pixtools_desktop.ml import get_denoiser

    d = get_denoiser(settings_factory(denoise_tile=32))
    u8 = cbsd68_crop(1, 96)
    seen: list[float] = []
    d.denoise_array(u8, progress=seen.append)
    assert len(seen) == 9 and seen == sorted(seen) and seen[-1] == pytest.approx(1.0)

    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > 3  # after three tiles

    done: list[float] = []
    with pytest.raises(JobCancelled):
        d.denoise_array(u8, progress=done.append, cancelled=cancelled)
    assert len(done) == 3


def test_rgba_alpha_untouched_and_la(settings_factory):
    from pixtools_desktop.ml import get_denoiser

    d = get_denoiser(settings_factory())
    rgb = cbsd68_crop(2, 64)
    alpha = np.random.default_rng(0).integers(0, 256, rgb.shape[:2], dtype=np.uint8)
    img = Image.fromarray(np.dstack([rgb, alpha]))
    assert img.mode == "RGBA"
    out = d.denoise_image(img)
    assert out.mode == "RGBA" and out.size == img.size
    assert np.array_equal(np.asarray(out)[..., 3], alpha)
    assert np.array_equal(np.asarray(out)[..., :3], np.asarray(d.denoise_image(Image.fromarray(rgb))))

    la = (
        Image.fromarray(np.dstack([rgb[..., 1], alpha]), mode=None)
        if False
        else Image.merge("LA", [Image.fromarray(rgb[..., 1]), Image.fromarray(alpha)])
    )
    out = d.denoise_image(la)
    assert out.mode == "LA" and np.array_equal(np.asarray(out)[..., 1], alpha)


def test_grey_uses_the_grey_model(settings_factory, weights_dir):
    from pixtools_desktop.ml import get_denoiser

    clean = cbsd68_crop(4, 96)[..., 1]
    y8 = to_u8(noisy(clean, 25, 3))
    d = get_denoiser(settings_factory())
    assert d.gray_path is not None and d.gray_path.name == "GD_Gray_Blind.mat"
    out = d.denoise_image(Image.fromarray(y8))
    assert out.mode == "L" and out.size == (96, 96)
    assert psnr(np.asarray(out), clean) > psnr(y8, clean) + 5


def test_grey_without_grey_model_goes_through_colour(settings_factory, color_mat):
    from pixtools_desktop.ml import get_denoiser

    clean = cbsd68_crop(4, 96)[..., 1]
    y8 = to_u8(noisy(clean, 25, 3))
    d = get_denoiser(settings_factory(weights_path=str(color_mat)))
    assert d.gray_path is None
    out = d.denoise_image(Image.fromarray(y8))
    assert out.mode == "L" and out.size == (96, 96)
    # Measured: R=G=B noise is fully correlated across channels, unlike the i.i.d. colour noise
    # CDnCNN-B was trained on, so it removes little of it (~+0.2 dB here). Install the grey model.
    assert psnr(np.asarray(out), clean) > psnr(y8, clean)


def test_16bit_grey_is_denoised_in_float(settings_factory):
    from pixtools_desktop.ml import get_denoiser

    clean = cbsd68_crop(6, 80)[..., 0].astype(np.float64) * 257
    rng = np.random.default_rng(4)
    y16 = np.clip(np.rint(clean + rng.standard_normal(clean.shape) * 25 * 257), 0, 65535).astype(np.uint16)
    img = Image.fromarray(y16)
    assert img.mode == "I;16"
    out = get_denoiser(settings_factory()).denoise_image(img)
    assert out.mode == "I;16" and out.size == img.size
    res = np.asarray(out)
    assert res.dtype == np.uint16
    assert len(np.unique(res)) > 1024  # real 16-bit output, not 8-bit upscaled
    err_in = np.sqrt(np.mean((y16 - clean) ** 2))
    err_out = np.sqrt(np.mean((res - clean) ** 2))
    assert err_out < err_in * 0.65  # measured 0.54 (+5.4 dB) on this 80x80 crop


def test_strength_blends_input_and_result(settings_factory):
    from pixtools_desktop.ml import get_denoiser

    y = noisy(cbsd68_crop(0, 64), 25, 0)
    full = get_denoiser(settings_factory()).denoise_array(y)
    none = get_denoiser(settings_factory(denoise_strength=0.0)).denoise_array(y)
    half = get_denoiser(settings_factory(denoise_strength=0.5)).denoise_array(y)
    np.testing.assert_allclose(none, y, atol=1e-6)
    np.testing.assert_allclose(half, (full + y) / 2, atol=1e-5)


def test_missing_weights_say_how_to_get_them(tmp_path):
    from pixtools_desktop.core.settings import Settings
    from pixtools_desktop.ml import get_denoiser, model_health

    s = Settings(weights_path=str(tmp_path / "empty"), denoise_device="cpu")
    health = model_health(s)
    assert health["status"] == "missing" and "pixtools models download" in health["detail"]
    with pytest.raises(ModelUnavailableError) as err:
        get_denoiser(s).denoise_image(Image.new("RGB", (8, 8)))
    assert "pixtools models download" in str(err.value) and "pixtools models import FILE" in str(err.value)


def test_corrupt_weights_in_use_are_a_clear_error(tmp_path, weights_dir):
    from pixtools_desktop.core.settings import Settings
    from pixtools_desktop.ml import get_denoiser, model_health

    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "GD_Color_Blind.mat").write_bytes((weights_dir / "GD_Color_Blind.mat").read_bytes()[:300_000])
    s = Settings(weights_path=str(folder), denoise_device="cpu")
    health = model_health(s)
    assert health["status"] == "error" and health["sha256_ok"] is False
    with pytest.raises(ModelUnavailableError, match="pixtools models"):
        get_denoiser(s).denoise_image(Image.new("RGB", (8, 8)))


def test_health_ok_and_lookup_order(weights_dir, tmp_path, monkeypatch, color_mat):
    from pixtools_desktop.core import paths
    from pixtools_desktop.core.settings import Settings
    from pixtools_desktop.ml import find_weights, model_health

    h = model_health(Settings(weights_path=str(weights_dir)))
    assert h["status"] == "ok" and h["sha256_ok"] is True
    monkeypatch.setenv("PIXTOOLS_WEIGHTS", str(weights_dir))
    assert find_weights(Settings()) == weights_dir / "GD_Color_Blind.mat"
    # the setting wins over the environment; the user folder comes after both
    user = paths.user_weights_dir() / "GD_Color_Blind.mat"
    user.write_bytes(color_mat.read_bytes())
    assert find_weights(Settings(weights_path=str(user))) == user
    monkeypatch.delenv("PIXTOOLS_WEIGHTS")
    assert find_weights(Settings()) == user


def test_threads_set_in_the_calling_thread(settings_factory):
    import threading

    from pixtools_desktop.ml import get_denoiser

    seen = {}

    def model_thread():
        import torch

        d = get_denoiser(settings_factory(denoise_threads=64))
        seen["threads"] = torch.get_num_threads()
        seen["d"] = d.threads

    t = threading.Thread(target=model_thread)
    t.start()
    t.join()
    import os

    assert seen["d"] == min(64, os.cpu_count()) == seen["threads"]
