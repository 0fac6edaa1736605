"""The DnCNN network and its weight loaders (imports torch: load lazily).

The state-dict layout is KAIR's (``cszn/KAIR``, ``models/network_dncnn.py``
with ``act_mode='R'`` / BatchNorm folded): ``model.0`` is the first conv,
``model.1`` its ReLU, ``model.2`` the next conv, ... and the last conv is
``model.{2*(L-1)}``, so a 20-layer blind model ends at ``model.38`` and a
17-layer sigma-specific one at ``model.32``. KAIR files load with
``strict=True``.

Two loaders, neither unpickles arbitrary objects:

* ``.mat`` (MatConvNet SimpleNN, MATLAB v7.3 = HDF5) read with h5py. Filters
  come out as (Cout, Cin, W, H) and become PyTorch's (Cout, Cin, H, W) by
  ``transpose(0, 1, 3, 2)``; where Cout == 1 MATLAB drops the trailing axis
  and h5py gives (Cin, W, H), so the leading axis is put back. Biases come
  out as (1, Cout).
* ``.pth`` via ``torch.load(weights_only=True)`` (works on KAIR's legacy
  non-zip pickles too): only tensors and plain containers are accepted.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pixtools_desktop.core.errors import ModelUnavailableError


class DnCNN(nn.Module):
    """DnCNN with BatchNorm folded: conv+ReLU, (L-2) x (conv+ReLU), conv.

    ``forward`` returns the predicted *noise*; the clean image is
    ``y - net(y)`` (see :meth:`denoise`).
    """

    def __init__(self, in_nc: int = 3, out_nc: int | None = None, nc: int = 64, nb: int = 20) -> None:
        super().__init__()
        out_nc = in_nc if out_nc is None else out_nc
        layers: list[nn.Module] = [nn.Conv2d(in_nc, nc, 3, padding=1, bias=True), nn.ReLU(inplace=True)]
        for _ in range(nb - 2):
            layers += [nn.Conv2d(nc, nc, 3, padding=1, bias=True), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(nc, out_nc, 3, padding=1, bias=True))
        self.model = nn.Sequential(*layers)
        self.in_nc, self.nb = in_nc, nb

    @property
    def receptive_radius(self) -> int:
        """Pixels of context each output pixel sees on each side (1 per 3x3 conv)."""
        return self.nb

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noise estimate
        return self.model(x)

    def denoise(self, y: torch.Tensor) -> torch.Tensor:
        return y - self.model(y)


def _conv_keys(sd: dict) -> list[int]:
    idx = sorted({int(k.split(".")[1]) for k in sd if k.startswith("model.") and k.endswith(".weight")})
    return idx


def model_from_state_dict(sd: dict, *, source: str = "weights") -> DnCNN:
    """Build a DnCNN shaped like ``sd`` and load it with ``strict=True``."""
    try:
        idx = _conv_keys(sd)
        if not idx or idx != list(range(0, 2 * len(idx), 2)):
            raise ValueError(f"expected keys model.0.weight, model.2.weight, ...; got {list(sd)[:6]}")
        first, last = sd[f"model.{idx[0]}.weight"], sd[f"model.{idx[-1]}.weight"]
        if first.ndim != 4 or tuple(first.shape[2:]) != (3, 3):
            raise ValueError(f"first conv has shape {tuple(first.shape)}, expected (64, C, 3, 3)")
        in_nc, nc, out_nc = int(first.shape[1]), int(first.shape[0]), int(last.shape[0])
        if in_nc not in (1, 3) or out_nc != in_nc:
            raise ValueError(f"expected 1 or 3 image channels in and out, got {in_nc} in, {out_nc} out")
        net = DnCNN(in_nc=in_nc, out_nc=out_nc, nc=nc, nb=len(idx))
        net.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
    except (ValueError, KeyError, RuntimeError, AttributeError, TypeError) as exc:
        raise ModelUnavailableError(
            f"{source} is not a DnCNN model this app can use ({exc}). "
            "Use `pixtools models download` to get the authors' colour model."
        ) from exc
    return net.eval()


def _mat_str(arr: np.ndarray) -> str:
    return "".join(chr(int(c)) for c in np.asarray(arr).flatten())


def state_dict_from_mat(path: str | Path) -> OrderedDict[str, torch.Tensor]:
    """Read a MatConvNet SimpleNN DnCNN (.mat v7.3) into a KAIR-layout state dict."""
    import h5py

    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            layers = f["net"]["layers"][()]
            sd: OrderedDict[str, torch.Tensor] = OrderedDict()
            pos = 0
            for ref in layers.flat:
                layer = f[ref]
                kind = _mat_str(layer["type"][()])
                if kind == "conv":
                    w_ref, b_ref = layer["weights"][()].flat
                    w = np.asarray(f[w_ref][()], dtype=np.float32)
                    b = np.asarray(f[b_ref][()], dtype=np.float32).reshape(-1)
                    if w.ndim == 3:  # Cout == 1: MATLAB dropped the trailing singleton axis
                        w = w[None]
                    if w.ndim != 4:
                        raise ValueError(f"conv filters of shape {w.shape}")
                    w = np.ascontiguousarray(w.transpose(0, 1, 3, 2))  # (Cout, Cin, W, H) -> (Cout, Cin, H, W)
                    if b.shape[0] != w.shape[0]:
                        raise ValueError(f"bias of {b.shape[0]} for {w.shape[0]} filters")
                    sd[f"model.{pos}.weight"] = torch.from_numpy(w)
                    sd[f"model.{pos}.bias"] = torch.from_numpy(np.ascontiguousarray(b))
                    pos += 1
                elif kind == "relu":
                    pos += 1
                else:
                    raise ValueError(f"unexpected layer type {kind!r} (BatchNorm not folded?)")
    except ModelUnavailableError:
        raise
    except (OSError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise ModelUnavailableError(
            f"Cannot read the model file {path} ({exc}). It may be damaged or not a DnCNN .mat: "
            "run `pixtools models download` or `pixtools models import FILE` to replace it."
        ) from exc
    if not sd:
        raise ModelUnavailableError(f"The model file {path} holds no convolution layers.")
    return sd


def state_dict_from_pth(path: str | Path) -> OrderedDict[str, torch.Tensor]:
    """Read a KAIR .pth state dict with ``weights_only=True`` (no arbitrary unpickling)."""
    path = Path(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError, EOFError, zip errors...
        raise ModelUnavailableError(
            f"Cannot read the model file {path} ({type(exc).__name__}: {str(exc)[:200]}). It may be damaged "
            "or not a plain PyTorch state dict: run `pixtools models download` or `pixtools models import FILE`."
        ) from exc
    if isinstance(obj, dict) and "params" in obj and isinstance(obj["params"], dict):
        obj = obj["params"]  # some KAIR/BasicSR checkpoints nest the state dict
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelUnavailableError(f"The model file {path} is not a state dict of tensors.")
    return OrderedDict((k, v) for k, v in obj.items())


def load_state_dict(path: str | Path) -> OrderedDict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise ModelUnavailableError(
            f"The denoise model file {path} does not exist. Run `pixtools models download` "
            "or `pixtools models import FILE`."
        )
    with open(path, "rb") as fh:
        head = fh.read(8)
    if path.suffix.lower() == ".mat" or head.startswith(b"\x89HDF") or head.startswith(b"MATLAB"):
        return state_dict_from_mat(path)
    return state_dict_from_pth(path)


def load_model(path: str | Path) -> DnCNN:
    """Load a .mat or .pth DnCNN, checked strictly against the architecture."""
    return model_from_state_dict(load_state_dict(path), source=f"The model file {path}")
