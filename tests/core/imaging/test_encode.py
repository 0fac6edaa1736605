"""save_image for every output format, read back with Pillow, and resize."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from pixtools_desktop.core.imaging import load_image, resize, save_image

FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF", "tiff": "TIFF"}
# mode written -> mode read back, per format
EXPECTED_MODE = {
    "jpg": {"RGB": "RGB", "RGBA": "RGB", "L": "L", "LA": "L", "I;16": "L"},
    "png": {"RGB": "RGB", "RGBA": "RGBA", "L": "L", "LA": "LA", "I;16": "I;16"},
    "webp": {"RGB": "RGB", "RGBA": "RGBA", "L": "RGB", "LA": "RGBA", "I;16": "RGB"},
    "avif": {"RGB": "RGB", "RGBA": "RGBA", "L": "RGB", "LA": "RGBA", "I;16": "RGB"},
    "tiff": {"RGB": "RGB", "RGBA": "RGBA", "L": "L", "LA": "LA", "I;16": "I;16"},
}
LOSSLESS = {"png", "tiff"}


def _sample(mode: str, size=(40, 30)) -> Image.Image:
    """Left half opaque mid-blue/grey, right half fully transparent (when alpha)."""
    if mode == "I;16":
        arr = np.full(size[::-1], 40000, dtype=np.uint16)
        return Image.frombuffer("I;16", size, arr.tobytes(), "raw", "I;16", 0, 1)
    colour = {"RGB": (30, 60, 200), "RGBA": (30, 60, 200, 255), "L": 100, "LA": (100, 255)}[mode]
    im = Image.new(mode, size, colour)
    if mode in ("RGBA", "LA"):
        clear = (0, 0, 0, 0) if mode == "RGBA" else (0, 0)
        im.paste(Image.new(mode, (size[0] // 2, size[1]), clear), (size[0] // 2, 0))
    return im


def _roundtrip(image: Image.Image, fmt: str, **kwargs) -> Image.Image:
    buffer = io.BytesIO()
    save_image(image, buffer, fmt, **kwargs)
    buffer.seek(0)
    out = Image.open(buffer)
    out.load()
    return out


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "I;16"])
def test_every_format_and_mode(fmt, mode):
    image = _sample(mode)
    out = _roundtrip(image, fmt)
    assert out.format == FORMATS[fmt]
    assert out.size == image.size
    assert out.mode == EXPECTED_MODE[fmt][mode]
    left = out.getpixel((5, 5))
    right = out.getpixel((35, 5))
    if mode in ("RGBA", "LA"):
        if out.mode in ("RGBA", "LA"):  # alpha kept
            assert left[-1] == 255 and right[-1] == 0
        else:  # flattened onto white
            assert right in (255, (255, 255, 255))
    if mode == "I;16":
        expected = 40000 if out.mode == "I;16" else round(40000 / 257)
        value = left if isinstance(left, int) else left[0]
        assert abs(value - expected) <= (0 if fmt in LOSSLESS and out.mode == "I;16" else 3)
    if fmt in LOSSLESS and mode in ("RGB", "L"):
        assert np.array_equal(np.asarray(out), np.asarray(image))


@pytest.mark.parametrize("fmt", ["png", "tiff"])
def test_16bit_roundtrip_is_exact(fmt, tmp_path):
    values = (np.arange(50 * 40, dtype=np.uint32).reshape(40, 50) * 31 % 65536).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "in.png")
    source = load_image(tmp_path / "in.png")
    out = _roundtrip(source.image, fmt)
    assert out.mode == "I;16" and np.array_equal(np.asarray(out), values)


@pytest.fixture(scope="module")
def metadata(data_file):
    with Image.open(data_file("exif/jpg/Canon_40D.jpg")) as canon:
        exif, icc = canon.info["exif"], canon.info["icc_profile"]
    with Image.open(data_file("exif/jpg/xmp/BlueSquare.jpg")) as blue:
        xmp = blue.info["xmp"]
    return {"exif": exif, "icc_profile": icc, "xmp": xmp}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_metadata_written_when_given(fmt, metadata):
    out = _roundtrip(_sample("RGB"), fmt, **metadata)
    exif = out.getexif()
    assert exif.get(0x0110) == "Canon EOS 40D"
    assert float(exif.get_ifd(0x8769)[0x829A]) == pytest.approx(1 / 160)
    assert out.info.get("icc_profile") == metadata["icc_profile"]
    xmp = out.info.get("xmp")
    xmp = xmp.encode() if isinstance(xmp, str) else xmp
    assert xmp and b"XMPFiles BlueSquare test file" in xmp


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_metadata_absent_when_not_given(fmt):
    out = _roundtrip(_sample("RGB"), fmt)
    assert len(out.getexif()) == 0 or fmt == "tiff"  # TIFF always has its own structural tags
    assert 0x0110 not in out.getexif()
    assert not out.info.get("icc_profile")
    assert not out.info.get("xmp")


def test_exif_without_header_is_accepted(metadata):
    out = _roundtrip(_sample("RGB"), "jpg", exif=metadata["exif"][6:])
    assert out.getexif().get(0x010F) == "Canon"


def test_rgb_profile_is_dropped_for_grey_jpeg_and_kept_for_rgb(metadata):
    assert not _roundtrip(_sample("L"), "jpg", icc_profile=metadata["icc_profile"]).info.get("icc_profile")
    assert _roundtrip(_sample("L"), "webp", icc_profile=metadata["icc_profile"]).info.get("icc_profile")


def test_quality_defaults_and_overrides():
    noisy = Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    for fmt in ("jpg", "webp", "avif"):
        sizes = {}
        for quality in (None, 20, 95):
            buffer = io.BytesIO()
            save_image(noisy, buffer, fmt, quality=quality)
            sizes[quality] = buffer.tell()
        assert sizes[20] < sizes[None] < sizes[95], fmt
    default, explicit = io.BytesIO(), io.BytesIO()
    save_image(noisy, default, "jpg")
    save_image(noisy, explicit, "jpg", quality=85)
    assert default.getvalue() == explicit.getvalue()


def test_unknown_format_is_rejected():
    with pytest.raises(ValueError, match="unknown output format"):
        save_image(_sample("RGB"), io.BytesIO(), "bmp")


def test_full_pipeline_keeps_orientation_fixed(data_file):
    """Decode a rotated photo, write it with its EXIF: viewers must not rotate again."""
    source = load_image(data_file("exif/jpg/orientation/portrait_8.jpg"))
    out = _roundtrip(source.image, "jpg", exif=source.exif)
    assert out.size == (450, 600) and out.getexif().get(0x0112) == 1


# -------------------------------------------------------------------- resize


def test_resize_keeps_aspect_ratio_from_one_side(data_file):
    image = load_image(data_file("testsets/CBSD68/101085.png")).image  # 321 x 481
    # Upstream PixTools' arithmetic: the computed side truncated, int((160 / 321) * 481).
    assert resize(image, width=160).size == (160, int((160 / 321) * 481)) == (160, 239)
    assert resize(image, height=100).size == (int((100 / 481) * 321), 100) == (66, 100)
    assert resize(image, width=200, height=50).size == (200, 50)  # both: exact, as the API
    assert resize(image, width=1).size == (1, 1)  # never 0 pixels
    assert resize(image, width=321) is image  # no needless copy


def test_resize_is_lanczos_quality(data_file):
    image = load_image(data_file("testsets/CBSD68/101085.png")).image
    small = resize(image, width=107)
    reference = image.resize(small.size, Image.Resampling.LANCZOS)
    assert np.abs(np.asarray(small, dtype=float) - np.asarray(reference, dtype=float)).mean() < 1.0


def test_resize_16bit_keeps_precision():
    rng = np.random.default_rng(2)
    values = rng.integers(0, 65536, (60, 80)).astype(np.uint16)
    image = Image.frombuffer("I;16", (80, 60), values.tobytes(), "raw", "I;16", 0, 1)
    out = resize(image, width=40)
    assert out.mode == "I;16" and out.size == (40, 30)
    reference = np.asarray(Image.fromarray(values.astype(np.float32)).resize((40, 30), Image.Resampling.LANCZOS))
    assert np.abs(np.asarray(out, dtype=float) - np.clip(reference, 0, 65535)).max() <= 1.0


def test_resize_keeps_alpha():
    out = resize(_sample("RGBA"), width=20)
    assert out.mode == "RGBA" and out.getpixel((2, 2))[3] == 255 and out.getpixel((18, 2))[3] == 0


def test_resize_needs_a_size():
    with pytest.raises(ValueError):
        resize(_sample("RGB"))
    with pytest.raises(ValueError):
        resize(_sample("RGB"), width=0)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_stripping_works_on_decoded_images_that_carry_metadata(fmt, data_file, tmp_path):
    """Decoded images keep `info` (ICC, EXIF, XMP); Pillow's writers fall back
    to it. Passing None must still mean "no metadata in the output"."""
    canon = load_image(data_file("exif/jpg/Canon_40D.jpg")).image
    assert canon.info.get("icc_profile") and canon.info.get("exif")
    out = _roundtrip(canon, fmt)
    assert 0x0110 not in out.getexif()
    assert not out.info.get("icc_profile")

    tiff = tmp_path / "with_xmp.tiff"
    Image.new("RGB", (8, 8)).save(tiff, tiffinfo={700: b"<x:xmpmeta>secret</x:xmpmeta>"})
    assert load_image(tiff).image.info.get("xmp")
    assert not _roundtrip(load_image(tiff).image, fmt).info.get("xmp")


def test_png_optimize_only_below_the_size_threshold(monkeypatch):
    """optimize=True (the API's choice) took 50 s on a smooth 24 MP photo;
    large images use the default level instead."""
    from pixtools_desktop.core.imaging import encode

    seen = []
    original = Image.Image.save

    def spy(self, fp, format=None, **params):
        seen.append(params.get("optimize", False))
        return original(self, fp, format, **params)

    monkeypatch.setattr(Image.Image, "save", spy)
    monkeypatch.setattr(encode, "PNG_OPTIMIZE_MAX_PIXELS", 100)
    save_image(Image.new("RGB", (10, 10)), io.BytesIO(), "png")
    save_image(Image.new("RGB", (10, 11)), io.BytesIO(), "png")
    assert seen == [True, False]


def test_imaging_imports_neither_qt_nor_torch():
    import subprocess
    import sys

    code = (
        "import sys, pixtools_desktop.core.imaging as m; "
        "bad = [n for n in ('PySide6', 'torch', 'PyQt5', 'PyQt6') if n in sys.modules]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
