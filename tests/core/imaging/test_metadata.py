"""The `metadata` operation against real camera files.

Expected values are computed here from the raw EXIF rationals (Pillow's
`getexif`, numerator/denominator) with `fractions`, independently of the
formatting code under test.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from pixtools_desktop.core.imaging import extract_metadata, load_image
from pixtools_desktop.core.imaging.metadata import FIELDS, format_aperture, format_exposure

EXIF_IFD, GPS_IFD = 0x8769, 0x8825


def _raw(path):
    with Image.open(path) as im:
        exif = im.getexif()
        return exif, exif.get_ifd(EXIF_IFD), exif.get_ifd(GPS_IFD)


def _fraction(r: IFDRational) -> Fraction:
    return Fraction(r.numerator, r.denominator)


def test_canon_40d_fields_match_the_raw_tags(data_file):
    path = data_file("exif/jpg/Canon_40D.jpg")
    _, ifd, _ = _raw(path)
    exposure, f_number = _fraction(ifd[0x829A]), _fraction(ifd[0x829D])
    assert (exposure, f_number) == (Fraction(1, 160), Fraction(71, 10))  # the file itself

    meta = extract_metadata(path)
    assert meta == {
        "camera_make": "Canon",
        "camera_model": "Canon EOS 40D",
        "lens_model": None,  # Canon keeps the lens in its maker notes only
        "captured_at": "2008-05-30T15:56:01",  # DateTimeOriginal, not the later GIMP DateTime
        "exposure_time": f"1/{1 / exposure}s",
        "aperture": f"f/{float(f_number)}",
        "iso": int(ifd[0x8827]),
        "gps": None,
    }


def test_metadata_from_decoded_source_equals_metadata_from_path(data_file):
    path = data_file("exif/jpg/Canon_40D.jpg")
    assert extract_metadata(load_image(path)) == extract_metadata(path)


def test_dscn0010_gps_matches_raw_rationals(data_file):
    path = data_file("exif/jpg/gps/DSCN0010.jpg")
    _, ifd, gps = _raw(path)
    assert (gps[1], gps[3]) == ("N", "E")

    def degrees(dms) -> float:
        d, m, s = (_fraction(v) for v in dms)
        return float(d + m / 60 + s / 3600)

    meta = extract_metadata(path)
    assert meta["gps"]["latitude"] == pytest.approx(degrees(gps[2]), abs=1e-9)
    assert meta["gps"]["longitude"] == pytest.approx(degrees(gps[4]), abs=1e-9)
    assert meta["gps"]["latitude"] == pytest.approx(43.4674483, abs=1e-6)  # Tuscany
    assert meta["gps"]["longitude"] == pytest.approx(11.8851267, abs=1e-6)
    assert (meta["camera_make"], meta["camera_model"]) == ("NIKON", "COOLPIX P6000")
    assert meta["exposure_time"] == f"1/{round(1 / _fraction(ifd[0x829A]))}s" == "1/75s"
    assert meta["aperture"] == "f/5.9"
    assert meta["iso"] == 64


def test_all_gps_samples_are_plausible(data_file, testdata):
    for path in sorted((testdata / "exif/jpg/gps").glob("*.jpg")):
        gps = extract_metadata(data_file(str(path.relative_to(testdata))))["gps"]
        assert gps is not None, path.name
        assert 43.4 < gps["latitude"] < 43.5 and 11.8 < gps["longitude"] < 11.9, path.name


def test_southern_latitude_is_negative(data_file):
    """Kodak_CX7530 records GPSLatitudeRef 'S': the sign must follow it."""
    path = data_file("exif/jpg/Kodak_CX7530.jpg")
    _, _, gps = _raw(path)
    assert gps[1] == "S"
    meta = extract_metadata(path)
    assert meta["gps"]["latitude"] < 0 < meta["gps"]["longitude"]


def test_every_camera_file_gives_all_keys_and_sane_types(data_file, testdata):
    files = sorted((testdata / "exif/jpg").rglob("*.jpg"))
    assert len(files) > 40
    for path in files:
        meta = extract_metadata(data_file(str(path.relative_to(testdata))))
        assert tuple(meta) == FIELDS, path.name
        for key in ("camera_make", "camera_model", "lens_model"):
            value = meta[key]
            assert value is None or (value == value.strip() and "\x00" not in value and value), path.name
        assert meta["iso"] is None or isinstance(meta["iso"], int)
        assert meta["exposure_time"] is None or meta["exposure_time"].endswith("s")
        assert meta["aperture"] is None or meta["aperture"].startswith("f/")


def test_file_without_exif_gives_all_none(data_file):
    meta = extract_metadata(data_file("exif/jpg/exif-org/olympus-d320l.jpg"))
    assert meta == dict.fromkeys(FIELDS)


def _jpeg_with(exif: Image.Exif, tmp_path, name="synthetic.jpg"):
    path = tmp_path / name
    Image.new("RGB", (16, 16), "grey").save(path, exif=exif.tobytes())
    return path


def test_west_longitude_nul_padded_strings_offset_and_long_exposure(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "Canon\x00\x00  "
    exif[0x0110] = "  EOS R5\x00"
    exif[EXIF_IFD] = {
        0x829A: IFDRational(2, 1),  # 2 seconds
        0x829D: IFDRational(8, 1),
        0x8827: 3200,
        0x9003: "2024:06:01 21:30:05",
        0x9011: "+02:00",
        0xA434: "RF24-105mm F4 L IS USM\x00",
    }
    exif[GPS_IFD] = {
        1: "S",
        2: (IFDRational(33, 1), IFDRational(51, 1), IFDRational(54, 1)),
        3: "W",
        4: (IFDRational(151, 1), IFDRational(12, 1), IFDRational(36, 1)),
    }
    meta = extract_metadata(_jpeg_with(exif, tmp_path))
    assert meta == {
        "camera_make": "Canon",
        "camera_model": "EOS R5",
        "lens_model": "RF24-105mm F4 L IS USM",
        "captured_at": "2024-06-01T21:30:05+02:00",
        "exposure_time": "2s",
        "aperture": "f/8.0",
        "iso": 3200,
        "gps": {
            "latitude": pytest.approx(-(33 + 51 / 60 + 54 / 3600)),
            "longitude": pytest.approx(-(151 + 12 / 60 + 36 / 3600)),
        },
    }


def test_garbage_values_become_none(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "\x00\x00\x00"
    exif[0x0132] = "0000:00:00 00:00:00"
    exif[EXIF_IFD] = {0x829A: IFDRational(1, 0), 0x829D: IFDRational(0, 0)}
    exif[GPS_IFD] = {1: "N", 2: (IFDRational(0, 1),) * 3, 3: "E", 4: (IFDRational(0, 1),) * 3}
    assert extract_metadata(_jpeg_with(exif, tmp_path)) == dict.fromkeys(FIELDS)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1 / 125, "1/125s"),
        (1 / 4000, "1/4000s"),
        (0.25, "1/4s"),
        (0.3, "0.3s"),
        (0.5, "0.5s"),
        (1, "1s"),
        (2.5, "2.5s"),
        (30, "30s"),
        (0, None),
    ],
)
def test_exposure_rule(seconds, text):
    assert format_exposure(seconds) == text


def test_aperture_rule():
    assert [format_aperture(v) for v in (2.8, 8, 1.4, None)] == ["f/2.8", "f/8.0", "f/1.4", None]


def test_metadata_of_non_image_is_a_readable_error(tmp_path):
    from pixtools_desktop.core.errors import UnsupportedImageError

    path = tmp_path / "notes.jpg"
    path.write_text("shopping list\n")
    with pytest.raises(UnsupportedImageError, match="text file"):
        extract_metadata(path)


def test_png_exif_is_read(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "FUJIFILM"
    path = tmp_path / "x.png"
    Image.new("RGB", (4, 4)).save(path, exif=exif.tobytes())
    assert extract_metadata(path)["camera_make"] == "FUJIFILM"
    assert extract_metadata(load_image(path))["camera_make"] == "FUJIFILM"
