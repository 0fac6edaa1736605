"""The FFDNet network and its MatConvNet loader (imports torch: load lazily).

FFDNet (Zhang, Zuo, Zhang 2018, ``cszn/FFDNet``) is non-blind: it takes the
image *and* a noise-level map, so one model covers sigma 0..75 and the user
(or :mod:`pixtools_desktop.ml.noise_level`) sets how hard it works. It runs
on the 2x2 pixel-unshuffled image (a quarter of the pixels, hence ~3x faster
than DnCNN) and outputs the clean sub-images directly.

Format facts (the shared data README, verified against the published table):

* the ``.mat`` files are MATLAB v7.3 SimpleNN: ``SubP``, ``concat``, then
  conv/relu pairs, a last conv and ``SubP``. Filters come out of h5py as
  (Cout, Cin, W, H) -> ``transpose(0, 1, 3, 2)``; biases (1, Cout).
* colour: 12 convs of 96 channels, 13 in (12 sub-images + the map), 12 out;
  grey: 15 convs of 64 channels, 5 in, 4 out.
* sub-image order: MatConvNet (column-major) lists the four 2x2 phases of
  each colour as PyTorch's ``pixel_unshuffle`` phases ``[0, 2, 1, 3]``; the
  same permutation (its own inverse) applies to the output. PyTorch's own
  order costs ~1.9 dB, which the benchmark against the published table
  catches.
* odd heights/widths are padded by replicating the last row/column.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pixtools_desktop.core.errors import ModelUnavailableError

PHASES = (0, 2, 1, 3)  # MatConvNet's phase order, as indices of pixel_unshuffle's
MAX_SIGMA = 75.0  # the range FFDNet was trained on


def phase_index(channels: int) -> list[int]:
    """Channel permutation between pixel_unshuffle's layout and MatConvNet's (an involution)."""
    return [c * 4 + p for c in range(channels) for p in PHASES]


class FFDNet(nn.Module):
    """FFDNet with BatchNorm folded. ``forward(x, sigma_map)`` returns the clean image.

    ``x``: (N, C, H, W) in [0, 1] with even H and W; ``sigma_map``: (N, 1, H/2, W/2),
    the noise standard deviation in [0, 1] units (sigma / 255).
    """

    perm: torch.Tensor  # a buffer (register_buffer below)

    def __init__(self, in_nc: int = 3, nc: int = 96, nb: int = 12) -> None:
        super().__init__()
        sub = in_nc * 4
        layers: list[nn.Module] = [nn.Conv2d(sub + 1, nc, 3, padding=1, bias=True), nn.ReLU(inplace=True)]
        for _ in range(nb - 2):
            layers += [nn.Conv2d(nc, nc, 3, padding=1, bias=True), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(nc, sub, 3, padding=1, bias=True))
        self.model = nn.Sequential(*layers)
        self.in_nc, self.nb = in_nc, nb
        self.register_buffer("perm", torch.tensor(phase_index(in_nc)), persistent=False)

    @property
    def receptive_radius(self) -> int:
        """Full-resolution pixels of context on each side (nb sub-image pixels, each 2 wide)."""
        return 2 * self.nb

    def unshuffle(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_unshuffle(x, 2).index_select(1, self.perm)

    def shuffle(self, s: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(s.index_select(1, self.perm), 2)

    def forward(self, x: torch.Tensor, sigma_map: torch.Tensor) -> torch.Tensor:
        h = torch.cat([self.unshuffle(x), sigma_map.to(x.dtype)], dim=1)
        return self.shuffle(self.model(h))


def _mat_str(arr: np.ndarray) -> str:
    return "".join(chr(int(c)) for c in np.asarray(arr).flatten())


def is_ffdnet_mat(path: str | Path) -> bool:
    """True when the .mat's layer table has FFDNet's SubP/concat head (cheap: no weights read)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            refs = f["net"]["layers"][()].flat
            first = _mat_str(f[next(refs)]["type"][()])
            return first == "SubP"
    except Exception:  # noqa: BLE001 - not a readable FFDNet file
        return False


def load_ffdnet(path: str | Path) -> FFDNet:
    """Read a MatConvNet FFDNet (.mat v7.3) and check it strictly against the architecture."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise ModelUnavailableError(
            f"The FFDNet model file {path} does not exist. Run `pixtools models download --model ffdnet-color` "
            "or `pixtools models import FILE`."
        )
    convs: list[tuple[np.ndarray, np.ndarray]] = []
    try:
        with h5py.File(path, "r") as f:
            kinds = []
            for ref in f["net"]["layers"][()].flat:
                layer = f[ref]
                kind = _mat_str(layer["type"][()])
                kinds.append(kind)
                if kind == "conv":
                    w_ref, b_ref = layer["weights"][()].flat
                    w = np.asarray(f[w_ref][()], dtype=np.float32)
                    b = np.asarray(f[b_ref][()], dtype=np.float32).reshape(-1)
                    if w.ndim != 4:
                        raise ValueError(f"conv filters of shape {w.shape}")
                    convs.append((np.ascontiguousarray(w.transpose(0, 1, 3, 2)), b))
                elif kind not in ("relu", "SubP", "concat"):
                    raise ValueError(f"unexpected layer type {kind!r}")
        if kinds[:2] != ["SubP", "concat"] or kinds[-1] != "SubP":
            raise ValueError(f"layers {kinds[:2]}...{kinds[-1:]} are not FFDNet's SubP, concat ... SubP")
        if len(convs) < 3:
            raise ValueError(f"{len(convs)} convolutions")
        cin, cout, nc = convs[0][0].shape[1], convs[-1][0].shape[0], convs[0][0].shape[0]
        if (cin, cout) not in ((13, 12), (5, 4)):
            raise ValueError(f"{cin} channels in and {cout} out, expected 13/12 (colour) or 5/4 (grey)")
        net = FFDNet(in_nc=cout // 4, nc=nc, nb=len(convs))
        mods = [m for m in net.model if isinstance(m, nn.Conv2d)]
        with torch.no_grad():
            for m, (w, b) in zip(mods, convs, strict=True):
                if tuple(m.weight.shape) != w.shape or b.shape[0] != w.shape[0]:
                    raise ValueError(f"conv of shape {w.shape} where {tuple(m.weight.shape)} belongs")
                m.weight.copy_(torch.from_numpy(w))
                cast(torch.Tensor, m.bias).copy_(torch.from_numpy(np.ascontiguousarray(b)))  # built with bias=True
    except (OSError, KeyError, ValueError, TypeError, IndexError, StopIteration) as exc:
        raise ModelUnavailableError(
            f"Cannot read the FFDNet model file {path} ({exc}). It may be damaged or not an FFDNet .mat: "
            "run `pixtools models download --model ffdnet-color` or `pixtools models import FILE` to replace it."
        ) from exc
    return net.eval()


def denoise_whole(net: FFDNet, y: torch.Tensor, sigma_map: torch.Tensor) -> torch.Tensor:
    """Reference whole-image FFDNet: (1, C, H, W) in [0, 1] -> clean, any H/W (odd padded by replication).

    ``sigma_map``: (1, 1, ceil(H/2), ceil(W/2)) in [0, 1] units.
    """
    h, w = y.shape[2], y.shape[3]
    ph, pw = h % 2, w % 2
    x = F.pad(y, (0, pw, 0, ph), mode="replicate") if (ph or pw) else y
    return net(x, sigma_map)[:, :, :h, :w]
