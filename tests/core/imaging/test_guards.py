"""Decoder guards (one pixel rule, truncated JPEGs, damaged TIFFs), compressed TIFF with camera EXIF, HEIC input.

Every hostile file is made here from real bytes (never committed); camera
EXIF comes from the shared exif samples.
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixtools_desktop.core import imaging
from pixtools_desktop.core.errors import ErrorCode, ImageDecodeError
from pixtools_desktop.core.executor import execute_job
from pixtools_desktop.core.imaging.jpeg_cut import GREY_FILL_WARNING, ends_in_grey_fill
from pixtools_desktop.core.imaging.metadata import extract_metadata
from pixtools_desktop.core.jobs import JobStatus, OutputOptions
from pixtools_desktop.core.store import JobStore, NewJob


def _decode_error(path: Path, **kw) -> ImageDecodeError:
    with pytest.raises(ImageDecodeError) as exc:
        imaging.load_image(path, **kw)
    return exc.value


# ---------------------------------------------------------------- truncated JPEG declaring a huge size


def _jpeg_declaring(size: tuple[int, int]) -> bytes:
    """A complete, valid 8 x 8 JPEG (SOI ... EOI) whose SOF0 header says `size`: libjpeg pads it with grey."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 10)).save(buf, "JPEG", quality=50)
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, size[1], size[0])
    return bytes(data)


def test_tiny_jpeg_declaring_225_megapixels_is_refused_at_once(tmp_path):
    path = tmp_path / "bomb.jpg"
    path.write_bytes(_jpeg_declaring((15000, 15000)))
    assert path.stat().st_size < 700
    t0 = time.monotonic()
    err = _decode_error(path)
    assert time.monotonic() - t0 < 1.0, "refused from the header, not after decoding 225 MP of grey"
    assert err.code == ErrorCode.DAMAGED
    assert "15000 x 15000" in str(err) and "truncated or damaged" in str(err)


def test_real_jpegs_pass_the_scan_length_check(exif_jpgs, tmp_path):
    for path in sorted(exif_jpgs.rglob("*.jpg")):
        imaging.load_image(path, reduce_to=lambda w, h: (16, 16))
    flat = tmp_path / "flat.jpg"  # the most compressible photo there is: one flat colour
    Image.new("RGB", (4000, 3000), (128, 128, 128)).save(flat, "JPEG", quality=75)
    assert imaging.load_image(flat, reduce_to=lambda w, h: (100, 75)).original_size == (4000, 3000)


def test_a_cut_jpeg_ending_in_an_end_marker_completes_with_a_warning(exif_jpgs, tmp_path, store, settings):
    """libjpeg pads a scan that stops early with grey and only warns; a cut file with FF D9 appended decodes."""
    whole = next(exif_jpgs.rglob("DSCN0010.jpg")).read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole[: len(whole) // 2] + b"\xff\xd9")
    complete = tmp_path / "complete.jpg"
    complete.write_bytes(whole)
    assert imaging.load_image(complete).warnings == []
    for reduce_to in (None, lambda w, h: (w // 4, h // 4)):  # full size and libjpeg's reduced DCT scale
        assert imaging.load_image(cut, reduce_to=reduce_to).warnings == [GREY_FILL_WARNING]
    [job] = store.add_jobs([NewJob(str(cut), ["png"], options=OutputOptions(output_dir=str(tmp_path / "o")))])
    final = execute_job(store, store.claim_next("std"), settings)
    assert final.status == JobStatus.COMPLETED and final.warnings == [GREY_FILL_WARNING]


def test_the_grey_fill_check_spares_complete_photos(exif_jpgs, cbsd68):
    for path in sorted(exif_jpgs.rglob("*.jpg")):
        assert GREY_FILL_WARNING not in imaging.load_image(path).warnings, path.name
    for png in sorted(cbsd68.glob("*.png"))[:20]:
        buf = io.BytesIO()
        Image.open(png).convert("RGB").save(buf, "JPEG", quality=90)
        assert not ends_in_grey_fill(Image.open(buf)), png.name


# ---------------------------------------------------------------- one pixel guard for every format


def _png_header(size: tuple[int, int]) -> bytes:
    """A PNG whose header says `size` (the pixel data is cut short: only the header matters here)."""
    ihdr = struct.pack(">IIBBBBB", size[0], size[1], 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", 1000) + b"IDAT" + zlib.compress(bytes(4000))[:100]


def _webp_header(size: tuple[int, int]) -> bytes:
    """A real animated WebP (two small frames) on a canvas of `size`: what Pillow refused at open."""
    frames = [Image.new("RGB", (16, 16), (i * 90, 0, 0)) for i in range(2)]
    buf = io.BytesIO()
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    data = bytearray(buf.getvalue())
    vp8x = data.find(b"VP8X") + 8
    data[vp8x + 4 : vp8x + 7] = (size[0] - 1).to_bytes(3, "little")
    data[vp8x + 7 : vp8x + 10] = (size[1] - 1).to_bytes(3, "little")
    return bytes(data)


@pytest.mark.parametrize("make", [_png_header, _webp_header], ids=["png", "webp"])
def test_one_pixel_rule_for_every_format(tmp_path, make):
    from pixtools_desktop.core.imaging.decode import DEFAULT_MAX_PIXELS, open_image

    path = tmp_path / "big.img"
    path.write_bytes(make((15000, 15000)))  # 225 MP: above Pillow's own 179 MP limit, below our 250 MP
    limited = _decode_error(path, max_pixels=100_000_000)
    assert limited.code == ErrorCode.TOO_LARGE
    assert str(limited) == (
        "The image is too large: 15000 x 15000 pixels (225 megapixels) exceeds the limit of 100 megapixels."
    )
    with open(path, "rb") as fh:  # within our 250 MP limit: opens (the header is all that is read)
        assert open_image(fh, str(path), max_pixels=DEFAULT_MAX_PIXELS).size == (15000, 15000)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "AVIF", "TIFF", "GIF", "BMP", "HEIF"])
def test_the_same_pixel_limit_for_every_input_format(tmp_path, cbsd68, fmt):
    """A real 120 x 90 file of each format the app reads, against one limit set below and above it."""
    import pillow_heif

    photo = Image.open(cbsd68 / "101085.png").convert("RGB").crop((0, 0, 120, 90))
    path = tmp_path / f"photo.{fmt.lower()}"
    if fmt == "HEIF":
        pillow_heif.from_pillow(photo).save(path, quality=90)
    else:
        photo.save(path, fmt)
    err = _decode_error(path, max_pixels=5_000)
    assert err.code == ErrorCode.TOO_LARGE
    assert str(err) == (
        "The image is too large: 120 x 90 pixels (0.011 megapixels) exceeds the limit of 0.005 megapixels."
    )
    assert imaging.load_image(path, max_pixels=10_800).image.size == (120, 90)


# ---------------------------------------------------------------- every decoder failure is "damaged"


def _two_page_tiff_without_second_size(tmp_path: Path) -> Path:
    buf = io.BytesIO()
    pages = [Image.new("RGB", (32, 24), c) for c in ((200, 0, 0), (0, 0, 200))]
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    data = bytearray(buf.getvalue())
    first = struct.unpack_from("<I", data, 4)[0]
    count = struct.unpack_from("<H", data, first)[0]
    second = struct.unpack_from("<I", data, first + 2 + 12 * count)[0]
    for i in range(struct.unpack_from("<H", data, second)[0]):
        entry = second + 2 + 12 * i
        if struct.unpack_from("<H", data, entry)[0] == 256:  # ImageWidth -> an unknown private tag
            struct.pack_into("<H", data, entry, 65000)
    path = tmp_path / "odd.tiff"
    path.write_bytes(bytes(data))
    return path


def test_tiff_missing_dimensions_is_damaged_not_internal_error(tmp_path, settings):
    path = _two_page_tiff_without_second_size(tmp_path)
    err = _decode_error(path)
    assert err.code == ErrorCode.DAMAGED and str(err).startswith("The image is damaged")
    # Through a real worker process (where the "Internal error (RuntimeError: TypeError: ...)" came from).
    from pixtools_desktop.core.procpool import ProcessPool

    pool = ProcessPool(1)
    try:
        with JobStore(tmp_path / "jobs.sqlite3") as store:
            store.add_jobs([NewJob(str(path), ["png"], {}, OutputOptions(output_dir=str(tmp_path / "o")), "b", 1)])
            final = execute_job(store, store.claim_next("std"), settings, engine=pool.run)
    finally:
        pool.close()
    assert final.status == JobStatus.FAILED and final.error_code == "damaged"
    assert "Internal error" not in final.error_message and final.error_message.startswith("The image is damaged")


# ---------------------------------------------------------------- compressed TIFF with camera EXIF


def test_tiff_outputs_are_lzw_compressed_with_the_camera_exif(exif_jpgs, tmp_path):
    for path in sorted(exif_jpgs.rglob("*.jpg")):
        src = imaging.load_image(path)
        out = tmp_path / f"{path.stem}.tiff"
        with open(out, "wb") as fh:
            imaging.save_image(src.image, fh, "tiff", exif=src.exif, icc_profile=src.icc_profile, xmp=src.xmp)
        with Image.open(out) as im:
            assert im.tag_v2[259] == 5 and im.tag_v2[317] == 2, f"{path.name}: not LZW with predictor"
            assert np.array_equal(np.asarray(im), np.asarray(src.image)), f"{path.name}: pixels changed"
        assert extract_metadata(out) == extract_metadata(src), f"{path.name}: camera metadata lost"
    gps = extract_metadata(tmp_path / "DSCN0010.tiff")["gps"]
    assert gps is not None and round(gps["latitude"], 4) == 43.4674


def test_tiff_is_much_smaller_than_uncompressed(cbsd68, tmp_path):
    image = imaging.load_image(cbsd68 / "101085.png").image
    raw, ours = io.BytesIO(), io.BytesIO()
    image.save(raw, "TIFF", compression="raw")
    imaging.save_image(image, ours, "tiff")
    assert len(ours.getvalue()) < 0.8 * len(raw.getvalue())


def test_denoised_tiff_is_compressed_and_keeps_exif(store, settings, exif_jpgs, tmp_path):
    from tests.conftest import require_testdata

    weights = require_testdata("weights", "GD_Color_Blind.mat")
    settings.weights_path = str(weights)
    from pixtools_desktop.wiring import denoiser_factory as real_denoiser_factory

    src = exif_jpgs / "Canon_40D.jpg"  # 100 x 68, camera EXIF
    store.add_jobs(
        [
            NewJob(
                str(src), ["denoise"], {"denoise": {"format": "tiff"}}, OutputOptions(output_dir=str(tmp_path)), "b", 1
            )
        ]
    )
    final = execute_job(store, store.claim_next("model"), settings, denoiser_factory=real_denoiser_factory)
    assert final.status == JobStatus.COMPLETED, final.error_message
    with Image.open(final.outputs[0].path) as im:
        assert im.format == "TIFF" and im.tag_v2[259] == 5
    meta = extract_metadata(final.outputs[0].path)
    assert meta["camera_model"] == "Canon EOS 40D" and meta["exposure_time"] is not None


# ---------------------------------------------------------------- HEIC in


def _heic(tmp_path: Path, cbsd68: Path) -> Path:
    import pillow_heif

    image = Image.open(cbsd68 / "101085.png").convert("RGB")  # 321 x 481 upright
    stored = image.transpose(Image.Transpose.ROTATE_90)  # stored sideways, 481 x 321 ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... with the tag that turns it upright again
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15"
    path = tmp_path / "IMG_0001.HEIC"
    pillow_heif.from_pillow(stored).save(path, quality=90, exif=exif.tobytes())
    return path


def test_heic_is_read_upright_with_its_exif(cbsd68, tmp_path, store, settings):
    path = _heic(tmp_path, cbsd68)
    assert path.read_bytes()[4:12] == b"ftypheic"
    src = imaging.load_image(path)
    assert src.source_format == "HEIF" and src.image.size == (321, 481)
    reference = np.asarray(Image.open(cbsd68 / "101085.png").convert("RGB"), dtype=float)
    assert np.abs(np.asarray(src.image, dtype=float) - reference).mean() < 6  # lossy, but the right way up
    meta = extract_metadata(src)
    assert (meta["camera_make"], meta["camera_model"]) == ("Apple", "iPhone 15")
    store.add_jobs(
        [
            NewJob(
                str(path),
                ["jpg", "metadata"],
                {"jpg": {"resize": {"width": 100}}},
                OutputOptions(output_dir=str(tmp_path / "o")),
                "b",
                1,
            )
        ]
    )
    final = execute_job(store, store.claim_next("std"), settings)
    assert final.status == JobStatus.COMPLETED, final.error_message
    with Image.open(final.outputs[0].path) as im:
        assert im.size == (100, 149) and im.getexif().get(0x0112) == 1 and im.getexif().get(0x010F) == "Apple"
    assert final.metadata["camera_model"] == "iPhone 15"


def test_heic_files_are_found_in_folders(cbsd68, tmp_path):
    from pixtools_desktop.core.inputs import collect_inputs

    _heic(tmp_path, cbsd68)
    assert [p.name for p in collect_inputs([tmp_path]).files] == ["IMG_0001.HEIC"]
