"""Decoding: a generated corpus of bad and unusual inputs, each with the
result and the message a photographer should see."""

from __future__ import annotations

import resource
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from pixtools_desktop.core.errors import ImageDecodeError, UnsupportedImageError
from pixtools_desktop.core.imaging import DEFAULT_MAX_PIXELS, SourceImage, load_image

TRUNCATED = "The image is truncated or damaged: the file ends before the image data does."
PILLOW_WORDS = ("PIL", "cannot identify", "Errno", "Traceback", "struct.error", "image file is truncated")


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _fails(path, exc_type=ImageDecodeError, **kwargs) -> str:
    with pytest.raises(exc_type) as info:
        load_image(path, **kwargs)
    message = str(info.value)
    assert not any(word in message for word in PILLOW_WORDS), message
    return message


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b"")


# ----------------------------------------------------------------- bad files


def test_zero_byte_file(tmp_path):
    assert _fails(_write(tmp_path, "empty.jpg", b"")) == "The file is empty (0 bytes)."


@pytest.mark.parametrize("fraction", [0.6, 0.05])
def test_truncated_jpeg(tmp_path, data_file, fraction):
    data = data_file("exif/jpg/Canon_PowerShot_S40.jpg").read_bytes()
    assert _fails(_write(tmp_path, "cut.jpg", data[: int(len(data) * fraction)])) == TRUNCATED


@pytest.mark.parametrize("keep", [0.5, 0.002])
def test_truncated_png(tmp_path, data_file, keep):
    data = data_file("testsets/CBSD68/101085.png").read_bytes()
    assert _fails(_write(tmp_path, "cut.png", data[: max(20, int(len(data) * keep))])) == TRUNCATED


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"Holiday photos: see the shared album.\nThanks!\n", "This file is not an image: it looks like a text file."),
        ("Grüße aus Köln\n".encode() * 20, "This file is not an image: it looks like a text file."),
        (b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head></html>", "it looks like an HTML page"),
        (b"\n  <html lang='en'><body>404 Not Found</body></html>", "it looks like an HTML page"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "it looks like a PDF document."),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(60), "it looks like a ZIP archive"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(40), "it looks like a video"),
        (bytes(range(256)) * 3, "This file is not in an image format PixTools can read."),
    ],
    ids=["text", "utf8-text", "html", "html-fragment", "pdf", "zip", "mp4", "binary"],
)
def test_not_an_image_named_jpg(tmp_path, content, expected):
    message = _fails(_write(tmp_path, "photo.jpg", content), UnsupportedImageError)
    assert expected in message


def test_damaged_png_data(tmp_path, data_file):
    data = bytearray(data_file("testsets/CBSD68/101085.png").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 200] = bytes(200)
    message = _fails(_write(tmp_path, "damaged.png", bytes(data)))
    assert message.startswith("The image is damaged") or message == TRUNCATED


def test_missing_file_and_folder(tmp_path):
    assert _fails(tmp_path / "gone.jpg") == "The file no longer exists."
    assert "folder" in _fails(tmp_path)


def test_decompression_bomb_png_is_refused_from_the_header(tmp_path, monkeypatch):
    # 100000 x 100000 RGB declared in a valid IHDR (correct CRC), tiny IDAT.
    bomb = _png(100_000, 100_000, 8, 2, b"\x00" * 64)
    path = _write(tmp_path, "bomb.png", bomb)
    assert len(bomb) < 200

    def no_decoding(self):  # proof that no pixel buffer is ever made
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    message = _fails(path)
    assert time.perf_counter() - started < 0.5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 50_000  # KiB
    assert message == (
        "The image is too large: 100000 x 100000 pixels (10,000 megapixels) exceeds the limit of 250 megapixels."
    )
    assert DEFAULT_MAX_PIXELS == 250_000_000


def test_limit_follows_max_pixels_not_pillows_global(tmp_path, data_file):
    path = data_file("testsets/CBSD68/101085.png")  # 321 x 481
    assert _fails(path, max_pixels=100_000) == (
        "The image is too large: 321 x 481 pixels (0.2 megapixels) exceeds the limit of 0.1 megapixels."
    )
    assert load_image(path, max_pixels=481 * 321).image.size == (321, 481)
    # 200 MP declared: above Pillow's own 179 MP hard limit, below ours.
    # Identification must accept it (the engine's limit is the setting).
    big = _write(tmp_path, "big.png", _png(20_000, 10_000, 8, 0, b"\x00"))
    assert "truncated" in _fails(big)  # refused only because the data is missing


# ---------------------------------------------------------------- good files


def test_mislabeled_png_named_jpg_decodes_by_content(tmp_path, data_file):
    path = _write(tmp_path, "really_a_png.jpg", data_file("testsets/CBSD68/101085.png").read_bytes())
    source = load_image(path)
    assert isinstance(source, SourceImage)
    assert (source.source_format, source.image.mode, source.bit_depth) == ("PNG", "RGB", 8)
    assert (source.width, source.height) == source.image.size
    assert source.warnings == []


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (32, 32), (0, 255, 255, 0)).save(path, quality=95)  # pure red ink
    source = load_image(path)
    assert source.image.mode == "RGB"
    r, g, b = np.asarray(source.image).reshape(-1, 3).mean(axis=0)
    assert r > 240 and g < 15 and b < 15
    assert "CMYK colour was converted to RGB." in source.warnings


def test_cmyk_jpeg_with_unusable_profile_falls_back(tmp_path):
    bogus = bytearray(128)
    bogus[16:20] = b"CMYK"
    path = tmp_path / "cmyk_profile.jpg"
    Image.new("CMYK", (8, 8), (0, 0, 0, 0)).save(path, icc_profile=bytes(bogus))
    source = load_image(path)
    assert source.image.mode == "RGB" and source.icc_profile is None
    assert np.asarray(source.image).min() > 240  # no ink = white
    assert any("profile could not be used" in w for w in source.warnings)


def _u16_gradient(width=97, height=61) -> np.ndarray:
    return (np.arange(width * height, dtype=np.uint32).reshape(height, width) * 11 % 65536).astype(np.uint16)


def test_16bit_grey_png_keeps_16_bit_precision(tmp_path):
    values = _u16_gradient()
    path = tmp_path / "grey16.png"
    Image.fromarray(values).save(path)
    with Image.open(path) as raw:
        assert raw.mode == "I;16"
    source = load_image(path)
    assert (source.image.mode, source.bit_depth) == ("I;16", 16)
    assert np.array_equal(np.asarray(source.image), values)
    assert source.warnings == []


def test_big_endian_16bit_tiff_is_normalised(tmp_path):
    values = _u16_gradient()
    path = tmp_path / "be.tiff"
    size = (values.shape[1], values.shape[0])
    Image.frombuffer("I;16B", size, values.astype(">u2").tobytes(), "raw", "I;16B", 0, 1).save(path)
    source = load_image(path)
    assert source.image.mode == "I;16" and np.array_equal(np.asarray(source.image), values)


def test_16bit_colour_png_is_read_as_8bit_with_a_warning(tmp_path):
    width, height = 5, 3
    row = b"\x00" + np.tile(np.array([65535, 0, 32768], dtype=">u2"), width).tobytes()
    path = _write(tmp_path, "rgb48.png", _png(width, height, 16, 2, row * height))
    source = load_image(path)
    assert (source.image.mode, source.bit_depth) == ("RGB", 8)
    assert source.image.getpixel((0, 0)) == (255, 0, 128)
    assert source.warnings == ["16-bit colour was reduced to 8-bit (16-bit colour is only kept for greyscale images)."]


def test_palette_with_transparency_becomes_rgba(tmp_path):
    im = Image.new("P", (10, 10), 1)
    im.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    im.paste(0, (0, 0, 5, 10))
    for name in ("p.png", "p.gif"):
        im.save(tmp_path / name, transparency=0)
        source = load_image(tmp_path / name)
        assert source.image.mode == "RGBA", name
        assert source.image.getpixel((1, 1))[3] == 0
        assert source.image.getpixel((8, 8)) == (0, 0, 255, 255)


def test_palette_without_transparency_becomes_rgb(tmp_path):
    Image.new("RGB", (10, 10), (10, 200, 30)).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "p.png")
    source = load_image(tmp_path / "p.png")
    assert source.image.mode == "RGB" and source.image.getpixel((3, 3)) == (10, 200, 30)


@pytest.mark.parametrize(("mode", "expected"), [("1", "L"), ("LA", "LA"), ("RGBA", "RGBA"), ("L", "L")])
def test_simple_modes(tmp_path, mode, expected):
    Image.new(mode, (6, 4)).save(tmp_path / "m.png")
    assert load_image(tmp_path / "m.png").image.mode == expected


def test_32bit_int_and_float_tiffs_become_16bit(tmp_path):
    ints = np.array([[-5, 0, 1000, 70000]], dtype=np.int32)
    Image.fromarray(ints).save(tmp_path / "i.tiff")
    source = load_image(tmp_path / "i.tiff")
    assert source.image.mode == "I;16" and np.asarray(source.image).tolist() == [[0, 0, 1000, 65535]]
    assert any("clipped" in w for w in source.warnings)

    floats = np.array([[0.0, 0.5, 1.0]], dtype=np.float32)
    Image.fromarray(floats).save(tmp_path / "f.tiff")
    source = load_image(tmp_path / "f.tiff")
    assert source.image.mode == "I;16" and np.asarray(source.image).tolist() == [[0, 32768, 65535]]


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animation_uses_first_frame_with_warning(tmp_path, fmt):
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    path = tmp_path / f"anim.{fmt.lower()}"
    frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, lossless=True)
    source = load_image(path)
    assert source.source_format == fmt
    assert source.warnings == [f"Animated {fmt}: only the first of 3 frames was used."]
    r, g, b = source.image.convert("RGB").getpixel((8, 8))
    assert r > 240 and g < 15 and b < 15


def test_multipage_tiff_warns(tmp_path):
    pages = [Image.new("L", (4, 4), v) for v in (10, 20)]
    pages[0].save(tmp_path / "pages.tiff", save_all=True, append_images=pages[1:])
    source = load_image(tmp_path / "pages.tiff")
    assert source.warnings == ["Multi-page TIFF: only the first of 2 pages was used."]
    assert source.image.getpixel((0, 0)) == 10


def test_metadata_is_carried_and_xmp_orientation_reset(tmp_path, data_file):
    with Image.open(data_file("exif/jpg/orientation/portrait_6.jpg")) as raw:
        exif = raw.info["exif"]
        raw.save(
            tmp_path / "p6.jpg",
            exif=exif,
            xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description tiff:Orientation="6"/></x:xmpmeta>',
        )
    source = load_image(tmp_path / "p6.jpg")
    assert source.image.size == (450, 600)  # upright portrait
    assert b'tiff:Orientation="1"' in source.xmp
    assert source.exif.startswith(b"Exif\x00\x00")
    assert source.icc_profile is None  # none was written into this copy


def test_icc_profile_is_returned(data_file):
    source = load_image(data_file("exif/jpg/Canon_40D.jpg"))
    with Image.open(data_file("exif/jpg/Canon_40D.jpg")) as raw:
        assert source.icc_profile == raw.info["icc_profile"]
    assert source.xmp is None


def test_xmp_bytes_are_returned(data_file):
    source = load_image(data_file("exif/jpg/xmp/BlueSquare.jpg"))
    assert isinstance(source.xmp, bytes) and b"x:xmpmeta" in source.xmp


def test_png_colour_key_transparency_becomes_alpha(tmp_path):
    im = Image.new("RGB", (4, 4), (0, 255, 0))
    im.putpixel((0, 0), (1, 2, 3))
    im.save(tmp_path / "key.png", transparency=(1, 2, 3))
    source = load_image(tmp_path / "key.png")
    assert source.image.mode == "RGBA"
    assert source.image.getpixel((0, 0))[3] == 0 and source.image.getpixel((1, 1)) == (0, 255, 0, 255)
