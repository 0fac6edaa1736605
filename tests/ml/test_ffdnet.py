"""FFDNet: the loader (format facts), exact tiling, precision plans, grey, and the desktop plan."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pixtools_desktop.core.errors import ModelUnavailableError

from .conftest import cbsd68_crop, noisy, psnr, to_u8


@pytest.fixture(scope="module")
def ffd_color():
    from pixtools_desktop.ml.ffdnet import load_ffdnet

    from .conftest import WEIGHTS, need

    return load_ffdnet(need(WEIGHTS / "FFDNet_color.mat"))


def whole(net, y: np.ndarray, sigma: float) -> np.ndarray:
    """The reference: the plain whole-image forward of the port, float in and out."""
    import torch

    from pixtools_desktop.ml.ffdnet import denoise_whole

    with torch.inference_mode():
        x = torch.from_numpy(np.ascontiguousarray(y)).permute(2, 0, 1)[None]
        smap = torch.full((1, 1, (x.shape[2] + 1) // 2, (x.shape[3] + 1) // 2), sigma / 255.0)
        return denoise_whole(net, x, smap)[0].permute(1, 2, 0).numpy()


def test_loader_shapes_colour_and_grey(weights_dir, ffd_color):
    from pixtools_desktop.ml.ffdnet import load_ffdnet

    convs = [m for m in ffd_color.model if hasattr(m, "weight")]
    assert (ffd_color.in_nc, ffd_color.nb, len(convs)) == (3, 12, 12)
    assert tuple(convs[0].weight.shape) == (96, 13, 3, 3) and tuple(convs[-1].weight.shape) == (12, 96, 3, 3)
    grey = load_ffdnet(weights_dir / "FFDNet_gray.mat")
    gconvs = [m for m in grey.model if hasattr(m, "weight")]
    assert (grey.in_nc, grey.nb) == (1, 15)
    assert tuple(gconvs[0].weight.shape) == (64, 5, 3, 3) and tuple(gconvs[-1].weight.shape) == (4, 64, 3, 3)


def test_phase_order_and_quality_against_pytorch_order(ffd_color):
    """MatConvNet's [0, 2, 1, 3] phase order; PyTorch's own costs ~1.9 dB (the data README)."""
    import torch

    clean = cbsd68_crop(2, 128)
    y = noisy(clean, 25, 11)
    ours = psnr(to_u8(whole(ffd_color, y, 25)), clean)
    saved = ffd_color.perm.clone()
    try:
        ffd_color.perm = torch.arange(12)
        wrong = psnr(to_u8(whole(ffd_color, y, 25)), clean)
    finally:
        ffd_color.perm = saved
    assert ours > psnr(to_u8(y), clean) + 9  # ~20.2 dB in
    assert ours > wrong + 1.0, (ours, wrong)


def test_damaged_or_foreign_files_are_clear_errors(tmp_path, weights_dir):
    from pixtools_desktop.ml.ffdnet import load_ffdnet

    bad = tmp_path / "FFDNet_color.mat"
    bad.write_bytes((weights_dir / "FFDNet_color.mat").read_bytes()[:50_000])
    with pytest.raises(ModelUnavailableError, match="pixtools models download --model ffdnet-color"):
        load_ffdnet(bad)
    with pytest.raises(ModelUnavailableError, match="not FFDNet's"):
        load_ffdnet(weights_dir / "GD_Color_Blind.mat")
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        load_ffdnet(tmp_path / "none.mat")


@pytest.mark.parametrize("noise_map", ["global", "local"])
def test_tiled_equals_whole(settings_factory, ffd_color, noise_map):
    from pixtools_desktop.ml import get_denoiser
    from pixtools_desktop.ml.policy import DenoiseRequest

    clean = cbsd68_crop(5, 101)[:, :87]  # odd height and width: uneven tiles and replicate padding
    u8 = to_u8(noisy(clean, 25, 9))
    req = DenoiseRequest(model="ffdnet", noise_map=noise_map)
    one = get_denoiser(settings_factory(denoise_tile=4096)).denoise_array(u8, request=req)
    seen: list[float] = []
    tiled = get_denoiser(settings_factory(denoise_tile=36)).denoise_array(u8, request=req, progress=seen.append)
    assert len(seen) >= 6 and seen[-1] == pytest.approx(1.0)
    diff = np.abs(tiled.astype(int) - one.astype(int))
    assert diff.max() <= 1 and (diff == 0).mean() >= 0.9999
    if noise_map == "global":  # against the plain whole-image forward, in float
        y = u8.astype(np.float32) / 255.0
        sigma = get_denoiser(settings_factory()).process_array(u8, req)[1].sigma
        ref = whole(ffd_color, y, sigma)
        ours = get_denoiser(settings_factory(denoise_tile=36)).denoise_array(
            y, request=DenoiseRequest(model="ffdnet", sigma=sigma)
        )
        assert np.abs(ours - ref).max() < 1e-4


def test_fast_bf16_plan_stays_within_a_tenth_of_a_db(ffd_color):
    """bf16 forced (emulated where the CPU lacks it): the quality of the fast plan, not its speed."""
    import torch

    from pixtools_desktop.ml.ffdnet_infer import FFDRunner, ffdnet_tiled

    clean = cbsd68_crop(3, 96)
    y = noisy(clean, 25, 5)
    fp32 = FFDRunner(ffd_color, torch.device("cpu"), "default")
    bf16 = FFDRunner(ffd_color, torch.device("cpu"), "fast", low_dtype=torch.bfloat16)
    assert fp32.precision == "fp32" and bf16.precision.startswith("bf16")
    a = psnr(to_u8(ffdnet_tiled(fp32, y, np.float32(25))), clean)
    b = psnr(to_u8(ffdnet_tiled(bf16, y, np.float32(25))), clean)
    assert abs(a - b) <= 0.10, (a, b)
    assert bf16.layers[1][0].dtype == torch.bfloat16 and bf16.layers[0][0].dtype == torch.float32


def test_grey_uses_the_grey_ffdnet_and_falls_back_to_colour(settings_factory, weights_dir, tmp_path):
    import shutil

    from pixtools_desktop.ml import get_denoiser
    from pixtools_desktop.ml.policy import DenoiseRequest

    clean = cbsd68_crop(4, 96)[..., 1]
    y8 = to_u8(noisy(clean, 25, 3))
    req = DenoiseRequest(model="ffdnet")
    d = get_denoiser(settings_factory())
    assert d.ffd_gray_path.name == "FFDNet_gray.mat"
    out = d.denoise_image(Image.fromarray(y8), request=req)
    assert out.mode == "L" and psnr(np.asarray(out), clean) > psnr(y8, clean) + 6
    only = tmp_path / "w"
    only.mkdir()
    shutil.copy(weights_dir / "FFDNet_color.mat", only / "FFDNet_color.mat")
    d2 = get_denoiser(settings_factory(weights_path=str(only)))
    assert d2.ffd_gray_path is None
    out2 = d2.denoise_image(Image.fromarray(y8), request=req)
    assert out2.mode == "L" and psnr(np.asarray(out2), clean) > psnr(y8, clean)


def test_missing_ffdnet_says_how_to_get_it(settings_factory, weights_dir, tmp_path):
    import shutil

    from pixtools_desktop.ml import get_denoiser
    from pixtools_desktop.ml.policy import DenoiseRequest

    only = tmp_path / "w"
    only.mkdir()
    shutil.copy(weights_dir / "GD_Color_Blind.mat", only / "GD_Color_Blind.mat")
    d = get_denoiser(settings_factory(weights_path=str(only)))
    with pytest.raises(ModelUnavailableError, match="models download --model ffdnet-color"):
        d.denoise_array(to_u8(noisy(cbsd68_crop(0, 32), 25, 0)), request=DenoiseRequest(model="ffdnet"))


@pytest.mark.parametrize("model", ["dncnn", "ffdnet"])
def test_clean_photo_kept_unless_forced(settings_factory, model):
    from pixtools_desktop.ml import get_denoiser
    from pixtools_desktop.ml.policy import DenoiseRequest

    flat = np.asarray(Image.new("RGB", (96, 80), (120, 160, 200)))  # truly clean: estimate 0
    d = get_denoiser(settings_factory())
    img = Image.fromarray(flat)
    out, info = d.run_image(img, DenoiseRequest(model=model))
    assert out is img and info["kept"] is True and info["estimate"]["sigma"] == 0.0
    _, forced = d.run_image(img, DenoiseRequest(model=model, force=True))
    assert forced["kept"] is False and forced["model"] == model
    _, plain = d.run_image(img, None)  # the API's plain denoise reports nothing
    assert plain is None
