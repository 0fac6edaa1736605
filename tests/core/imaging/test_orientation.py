"""EXIF orientation: every stored rotation/flip comes out upright.

The sample set holds the same photo stored eight ways per group. The `_1`
file was processed with different brightness (its mean is ~13 levels higher)
and each file has its own orientation digit drawn in the middle, so the
reference comparison allows ~16 levels of mean difference; any wrong
rotation or flip measured 38+ levels and a correlation below 0.55.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from pixtools_desktop.core.imaging import load_image

GROUPS = {"landscape": (450, 600), "portrait": (600, 450)}  # upright (height, width)
CASES = [(group, n) for group in GROUPS for n in range(1, 9)]


def _pixels(path) -> np.ndarray:
    return np.asarray(load_image(path).image, dtype=np.float64)


@pytest.fixture(scope="module")
def references(data_file):
    return {g: _pixels(data_file(f"exif/jpg/orientation/{g}_1.jpg")) for g in GROUPS}


@pytest.mark.parametrize(("group", "n"), CASES, ids=[f"{g}_{n}" for g, n in CASES])
def test_every_orientation_comes_out_upright(data_file, references, group, n):
    path = data_file(f"exif/jpg/orientation/{group}_{n}.jpg")
    with Image.open(path) as raw:
        assert raw.getexif().get(0x0112) == n  # the file really is stored that way
    source = load_image(path)
    pixels = np.asarray(source.image, dtype=np.float64)
    reference = references[group]

    assert pixels.shape[:2] == GROUPS[group] == reference.shape[:2]
    assert np.abs(pixels - reference).mean() < 20
    assert np.corrcoef(pixels.ravel(), reference.ravel())[0, 1] > 0.9
    # Orientation is reset in the EXIF we hand on, so no viewer rotates twice.
    exif = Image.Exif()
    exif.load(source.exif)
    assert exif.get(0x0112) == 1


@pytest.mark.parametrize("group", list(GROUPS))
def test_rotated_variants_agree_with_each_other(data_file, group):
    """Variants 2..8 share the brightness the `_1` file lacks: they must match
    one another closely (only the drawn digit differs)."""
    images = [_pixels(data_file(f"exif/jpg/orientation/{group}_{n}.jpg")) for n in range(2, 9)]
    for other in images[1:]:
        assert np.abs(other - images[0]).mean() < 6


def test_orientation_reset_changes_only_the_orientation_bytes(data_file):
    path = data_file("exif/jpg/orientation/landscape_6.jpg")
    with Image.open(path) as raw:
        original = raw.info["exif"]
    patched = load_image(path).exif
    assert patched is not None and len(patched) == len(original)
    differing = [i for i, (a, b) in enumerate(zip(original, patched, strict=True)) if a != b]
    assert 1 <= len(differing) <= 2  # the SHORT value 6 -> 1, nothing else moved


def test_parallel_decoding_matches_sequential(data_file):
    paths = [data_file(f"exif/jpg/orientation/{g}_{n}.jpg") for g, n in CASES]
    sequential = [np.asarray(load_image(p).image) for p in paths]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda p: np.asarray(load_image(p).image), paths * 3))
    for i, arr in enumerate(parallel):
        assert np.array_equal(arr, sequential[i % len(paths)])
