from __future__ import annotations

import pickle

import pytest

from pixtools_desktop.core.errors import ModelUnavailableError


def test_mat_and_pth_of_the_same_model_are_bit_identical(weights_dir):
    import torch

    from pixtools_desktop.ml.model import state_dict_from_mat, state_dict_from_pth

    mat = state_dict_from_mat(weights_dir / "gray_sigma25.mat")
    pth = state_dict_from_pth(weights_dir / "kair_dncnn_25.pth")
    assert list(mat) == list(pth)
    assert list(mat)[0] == "model.0.weight" and list(mat)[-1] == "model.32.bias"
    for k in mat:
        assert mat[k].shape == pth[k].shape, k
        assert mat[k].dtype == pth[k].dtype == torch.float32
        assert torch.equal(mat[k], pth[k]), f"{k} differs (transpose?)"


def test_a_wrong_transpose_would_be_caught(weights_dir):
    import torch

    from pixtools_desktop.ml.model import state_dict_from_mat, state_dict_from_pth

    mat = state_dict_from_mat(weights_dir / "gray_sigma25.mat")
    pth = state_dict_from_pth(weights_dir / "kair_dncnn_25.pth")
    assert not torch.equal(mat["model.2.weight"].transpose(2, 3), pth["model.2.weight"])


@pytest.mark.parametrize(
    "name,in_nc,nb",
    [
        ("GD_Color_Blind.mat", 3, 20),
        ("GD_Gray_Blind.mat", 1, 20),
        ("gray_sigma25.mat", 1, 17),
        ("kair_dncnn_25.pth", 1, 17),
    ],
)
def test_models_load_strictly_in_kair_layout(weights_dir, name, in_nc, nb):
    from pixtools_desktop.ml.model import DnCNN, load_model

    net = load_model(weights_dir / name)
    assert (net.in_nc, net.nb) == (in_nc, nb)
    keys = list(net.state_dict())
    assert keys[0] == "model.0.weight" and keys[-1] == f"model.{2 * (nb - 1)}.bias"
    # a KAIR-shaped fresh model accepts the state dict with strict=True
    DnCNN(in_nc=in_nc, nb=nb).load_state_dict(net.state_dict(), strict=True)


def test_corrupt_mat_is_a_clear_error(tmp_path, weights_dir):
    from pixtools_desktop.ml.model import load_model

    bad = tmp_path / "GD_Color_Blind.mat"
    bad.write_bytes((weights_dir / "GD_Color_Blind.mat").read_bytes()[:100_000])  # truncated download
    with pytest.raises(ModelUnavailableError, match="pixtools models"):
        load_model(bad)
    junk = tmp_path / "junk.mat"
    junk.write_bytes(b"not a model at all" * 100)
    with pytest.raises(ModelUnavailableError, match="Cannot read"):
        load_model(junk)


def test_corrupt_or_hostile_pth_is_refused(tmp_path, weights_dir):
    from pixtools_desktop.ml.model import load_model

    trunc = tmp_path / "trunc.pth"
    trunc.write_bytes((weights_dir / "kair_dncnn_25.pth").read_bytes()[:5000])
    with pytest.raises(ModelUnavailableError, match="Cannot read"):
        load_model(trunc)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"model.0.weight": Evil()}))
    with pytest.raises(ModelUnavailableError):
        load_model(evil)


def test_wrong_architecture_is_refused(tmp_path):
    import torch

    from pixtools_desktop.ml.model import load_model

    p = tmp_path / "other.pth"
    torch.save({"conv1.weight": torch.zeros(8, 3, 3, 3)}, p)
    with pytest.raises(ModelUnavailableError, match="not a DnCNN"):
        load_model(p)
    p2 = tmp_path / "bad_shapes.pth"
    torch.save(
        {
            "model.0.weight": torch.zeros(64, 3, 3, 3),
            "model.0.bias": torch.zeros(64),
            "model.2.weight": torch.zeros(3, 32, 3, 3),
            "model.2.bias": torch.zeros(3),
        },
        p2,
    )
    with pytest.raises(ModelUnavailableError, match="not a DnCNN"):
        load_model(p2)


def test_missing_file_says_how_to_get_it(tmp_path):
    from pixtools_desktop.ml.model import load_model

    with pytest.raises(ModelUnavailableError, match="pixtools models download"):
        load_model(tmp_path / "nope.mat")
