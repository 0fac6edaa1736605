"""The desktop denoise params (model, sigma, noise_map, force): validated on the desktop, absent from the API."""

from __future__ import annotations

import pytest

from pixtools_desktop.core.errors import JobError, ValidationError
from pixtools_desktop.core.ops import validate_request


def params(**denoise):
    return validate_request(["denoise"], {"denoise": denoise}, "photo.jpg").params.get("denoise", {})


def test_desktop_accepts_the_new_params():
    assert params(model="ffdnet", sigma="auto", noise_map="local", force=True) == {
        "model": "ffdnet",
        "sigma": "auto",
        "noise_map": "local",
        "force": True,
    }
    assert params(model="dncnn", sigma=12) == {"model": "dncnn", "sigma": 12.0}
    assert params(sigma="7.5") == {"sigma": 7.5}
    assert params(sigma=0) == {"sigma": 0.0} and params(sigma=75) == {"sigma": 75.0}


@pytest.mark.parametrize(
    "bad,needle",
    [
        ({"model": "bm3d"}, "model must be one of auto/dncnn/ffdnet"),
        ({"sigma": 76}, 'sigma must be "auto" or a number 0..75'),
        ({"sigma": -1}, "sigma must be"),
        ({"sigma": "lots"}, "sigma must be"),
        ({"sigma": "nan"}, "sigma must be"),
        ({"sigma": True}, "sigma must be"),
        ({"sigma": [5]}, "sigma must be"),
        ({"noise_map": "radial"}, "noise_map must be one of global/local"),
        ({"force": "yes"}, "force must be true or false"),
    ],
)
def test_desktop_refuses_bad_values_with_a_sentence(bad, needle):
    with pytest.raises(ValidationError) as err:
        params(**bad)
    assert needle in err.value.detail


def test_api_profile_ignores_desktop_params_like_format_mode_strength():
    raw = {
        "denoise": {
            "model": "ffdnet",
            "sigma": 99,
            "noise_map": "x",
            "force": "y",
            "mode": "max",
            "strength": 5,
            "format": "gif",
        }
    }
    # upstream ignores unknown denoise params: no error, and none of them reaches the job
    req = validate_request(["denoise"], raw, "photo.jpg", api_compatible=True)
    assert req.params == {}


def test_remote_precheck_refuses_each_desktop_param(tmp_path):
    from PIL import Image

    from pixtools_desktop.core.jobs import Job, OutputOptions
    from pixtools_desktop.remote.precheck import prepare_upload

    photo = tmp_path / "p.png"
    Image.new("RGB", (8, 8), "red").save(photo)
    for key, value in (
        ("model", "ffdnet"),
        ("model", "dncnn"),
        ("sigma", 10.0),
        ("noise_map", "local"),
        ("force", True),
    ):
        job = Job(
            id="j",
            input_path=str(photo),
            operations=["denoise"],
            params={"denoise": {key: value}},
            options=OutputOptions(),
        )
        if (key, value) == ("model", "dncnn"):  # what the server does anyway: sent without it
            assert prepare_upload(job).params.get("denoise", {}) == {}
            continue
        with pytest.raises(JobError, match=f"Denoise {key} is a desktop-only option"):
            prepare_upload(job)
    plain = Job(id="j", input_path=str(photo), operations=["denoise"], params={}, options=OutputOptions())
    assert prepare_upload(plain).operations == ["denoise"]
    # The window's Denoise preset (model "auto", sigma "auto"): the server's own choice, sent without extras.
    from pixtools_desktop.ui.presets import BUILTIN_PRESETS

    preset = next(p for p in BUILTIN_PRESETS if p.name == "Denoise")
    job = Job(
        id="j", input_path=str(photo), operations=list(preset.operations), params=preset.params, options=OutputOptions()
    )
    assert preset.params["denoise"]["model"] == "auto" and prepare_upload(job).params.get("denoise", {}) == {}


def test_request_from_params_api_is_plain_and_desktop_defaults_to_auto():
    from pixtools_desktop.core.settings import Settings
    from pixtools_desktop.ml.policy import DenoiseRequest, request_from_params

    assert request_from_params({"model": "ffdnet"}, Settings(), api=True) is None
    r = request_from_params({}, Settings(denoise_model="ffdnet", denoise_strength=0.5))
    assert r == DenoiseRequest(model="ffdnet", sigma="auto", noise_map="global", force=False, strength=0.5)
    r = request_from_params({"model": "dncnn", "sigma": 9.0, "force": True, "strength": 1.0}, Settings())
    assert (r.model, r.sigma, r.force, r.auto) == ("dncnn", 9.0, True, False)


def test_plan_auto_picks_ffdnet_only_on_evidence_of_noise():
    import numpy as np

    from pixtools_desktop.core.settings import Settings
    from pixtools_desktop.ml.noise_level import NoiseEstimate
    from pixtools_desktop.ml.policy import (
        CHROMA_NOISE,
        TEXTURE_MAX,
        TEXTURE_STRENGTH,
        DenoiseRequest,
        plan,
        request_from_params,
    )

    def est(s, chroma):
        return NoiseEstimate(s, np.full((1, 1), s, np.float32), 64, chroma)

    req = request_from_params({}, Settings())
    assert (req.model, req.noise_map, req.auto) == ("auto", "local", True)  # the desktop default
    p = plan(req, est(6.5, CHROMA_NOISE + 0.5))  # colour noise: FFDNet with the local map, full strength
    assert (p.model, p.noise_map, p.strength, p.sigma) == ("ffdnet", "local", 1.0, 6.5)
    assert "FFDNet" in p.report()["model_choice"]
    p = plan(req, est(6.5, CHROMA_NOISE - 0.5))  # no colour noise: likely texture, guarded DnCNN
    assert (p.model, p.strength) == ("dncnn", TEXTURE_STRENGTH)
    assert "texture" in p.report()["model_choice"]
    assert plan(req, est(TEXTURE_MAX + 1, 0.5)).model == "ffdnet"  # above anything texture reads
    assert plan(req, est(1.5, 0.5)).kept  # the clean rule still applies
    grey = plan(req, est(6.5, None))  # grey: no colour to read, DnCNN's ramp unscaled
    assert (grey.model, grey.strength) == ("dncnn", 1.0)
    assert plan(DenoiseRequest(model="auto", sigma=8.0), est(1.0, 0.2)).model == "ffdnet"  # the user's sigma
    assert plan(req, est(6.5, 5.0), ffdnet_available=False).model == "dncnn"  # no FFDNet weights: DnCNN


def test_plan_clean_rule_and_dncnn_ramp():
    import numpy as np

    from pixtools_desktop.ml.noise_level import CLEAN_SIGMA, NoiseEstimate
    from pixtools_desktop.ml.policy import (
        RAMP_FULL,
        DenoiseRequest,
        dncnn_strength,
        plan,
    )

    def est(s):
        return NoiseEstimate(s, np.full((1, 1), s, np.float32), 64)

    p = plan(DenoiseRequest(model="ffdnet"), est(CLEAN_SIGMA - 0.1))
    assert p.kept and p.strength == 0 and "already clean - kept" in p.report()["note"]
    assert not plan(DenoiseRequest(model="ffdnet", force=True), est(1.0)).kept
    assert not plan(DenoiseRequest(model="ffdnet", sigma=1.0), est(1.0)).kept  # a number: the user's call
    p = plan(DenoiseRequest(model="ffdnet"), est(12.0))
    assert (p.kept, p.sigma, p.sigma_source, p.strength) == (False, 12.0, "auto", 1.0)
    assert plan(DenoiseRequest(model="ffdnet", sigma=80), est(1)).sigma == 75.0
    assert dncnn_strength(CLEAN_SIGMA) == 0.0 and dncnn_strength(RAMP_FULL) == 1.0
    mid = (CLEAN_SIGMA + RAMP_FULL) / 2
    assert plan(DenoiseRequest(model="dncnn"), est(mid)).strength == pytest.approx(0.5)
    assert plan(DenoiseRequest(model="dncnn", strength=0.5), est(30)).strength == pytest.approx(0.5)
    r = plan(DenoiseRequest(model="dncnn"), est(30)).report()
    assert r["estimate"]["sigma"] == 30.0 and r["sigma_used"] == 30.0 and r["kept"] is False


def test_auto_without_ffdnet_gives_a_noisy_photo_full_dncnn_strength():
    """DnCNN standing in for a missing FFDNet must not take the half strength meant for texture."""
    import numpy as np

    from pixtools_desktop.ml.noise_level import NoiseEstimate
    from pixtools_desktop.ml.policy import TEXTURE_STRENGTH, plan, request_from_params

    request = request_from_params({"model": "auto"})
    noisy = NoiseEstimate(12.0, np.full((1, 1), 12.0, np.float32), 64, chroma=8.0)
    textured = NoiseEstimate(6.0, np.full((1, 1), 6.0, np.float32), 64, chroma=0.5)
    fallback = plan(request, noisy, ffdnet_available=False)
    assert fallback.model == "dncnn" and fallback.strength == pytest.approx(1.0)
    texture = plan(request, textured, ffdnet_available=True)
    assert texture.model == "dncnn" and texture.strength <= TEXTURE_STRENGTH


def test_auto_uses_whichever_model_is_installed():
    """Only one model installed: "auto" picks it, whatever the photo's estimate would prefer."""
    import numpy as np

    from pixtools_desktop.ml.noise_level import NoiseEstimate
    from pixtools_desktop.ml.policy import DenoiseRequest, choose_model

    req = DenoiseRequest(model="auto", sigma="auto", noise_map="local", force=False, strength=1.0)
    noisy = NoiseEstimate(sigma=30.0, block_map=np.full((1, 1), 30.0), block=64, chroma=4.0)
    clean_ish = NoiseEstimate(sigma=6.0, block_map=np.full((1, 1), 6.0), block=64, chroma=0.5)
    assert choose_model(req, noisy)[0] == "ffdnet" and choose_model(req, clean_ish)[0] == "dncnn"
    assert choose_model(req, clean_ish, dncnn_available=False)[0] == "ffdnet"
    assert choose_model(req, noisy, ffdnet_available=False)[0] == "dncnn"
