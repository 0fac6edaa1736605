"""Two semantics, one engine: the desktop profile locally, upstream's API rules where the API is spoken.

Real photos (CBSD68, camera JPEGs) through the real engine and store; the
serve side is in tests/server/test_api_profile.py, the remote precheck in
tests/remote/test_precheck_profile.py.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from pixtools_desktop.core import imaging
from pixtools_desktop.core.errors import ErrorCode, ValidationError
from pixtools_desktop.core.executor import execute_job
from pixtools_desktop.core.imaging.transform import planned_size, target_size
from pixtools_desktop.core.jobs import JobStatus, OutputOptions
from pixtools_desktop.core.ops import check_output_size, validate_request
from pixtools_desktop.core.profile import API, DESKTOP, api_profile, profile_for
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore, NewJob
from pixtools_desktop.core.store.migrations import MIGRATIONS

PORTRAIT = "101085.png"  # CBSD68, 321 x 481


def _run(store, settings, path, ops, params=None, *, profile=DESKTOP, **opts):
    req = validate_request(ops, params, None, profile=profile)
    options = OutputOptions(profile=profile.name, **opts)
    [job] = store.add_jobs([NewJob(str(path), [o.value for o in req.operations], req.params, options, "b", 1)])
    return execute_job(store, store.claim_next("model" if "denoise" in ops else "std"), settings)


# ---------------------------------------------------------------- choosing the profile


def test_profile_is_chosen_by_name_with_the_operator_settings():
    assert profile_for(None) is DESKTOP and profile_for("desktop") is DESKTOP and profile_for("bogus") is DESKTOP
    assert profile_for("api") == API and API.size_cap == (1920, 1080) and not API.keep_exif
    lifted = profile_for("api", Settings(serve_size_cap=False, serve_keep_exif=True))
    assert lifted.size_cap is None and lifted.keep_exif and lifted.refuse_same_format
    assert api_profile(Settings()) == API


# ---------------------------------------------------------------- 11.1 same format


def test_same_format_is_refused_only_by_the_api_profile():
    assert validate_request(["jpg"], None, "photo.jpg").operations[0] == "jpg"
    assert validate_request(["png"], None, "shot.PNG", profile=DESKTOP).operations[0] == "png"
    for name, text in (("photo.PNG", "Cannot convert png to png"), ("photo.jpeg", "Cannot convert jpeg to jpg")):
        op = "png" if "PNG" in name else "jpg"
        with pytest.raises(ValidationError) as exc:
            validate_request([op], None, name, profile=API)
        assert exc.value.detail == f"{text} - source and target formats are the same"
        with pytest.raises(ValidationError):
            validate_request([op], None, name, api_compatible=True)  # the old spelling still means the API


def test_same_format_jpeg_reencode_resizes_uprights_and_keeps_or_strips_exif(store, settings, exif_jpgs, tmp_path):
    src = exif_jpgs / "orientation" / "portrait_6.jpg"  # stored 600 x 450, upright 450 x 600
    params = {"jpg": {"quality": 70, "resize": {"width": 150}}}
    kept = _run(store, settings, src, ["jpg"], params, output_dir=str(tmp_path / "keep"))
    assert kept.status == JobStatus.COMPLETED, kept.error_message
    [out] = kept.outputs
    with Image.open(out.path) as im:
        assert im.format == "JPEG" and im.size == (150, 200)
        exif = im.getexif()
        assert exif.get(0x0112) == 1 and exif.get(0x011A) == 72.0  # upright, the source's tags kept
    assert (out.source_width, out.source_height, out.width, out.height) == (450, 600, 150, 200)
    stripped = _run(store, settings, src, ["jpg"], params, output_dir=str(tmp_path / "strip"), keep_metadata=False)
    with Image.open(stripped.outputs[0].path) as im:
        assert not im.getexif()


# ---------------------------------------------------------------- 10.2 / 15.2 resize semantics


def test_upstream_arithmetic_truncates():
    assert target_size(321, 481, 100, None) == (100, 149)  # ours rounded to 150
    assert target_size(321, 481, None, 100) == (66, 100)  # ours rounded to 67
    assert target_size(321, 481, 1, None) == (1, 1)  # never 0 pixels
    assert target_size(321, 481, 200, 50) == (200, 50)  # API: both given = exactly that


def test_desktop_fits_within_the_box_and_never_enlarges_unless_asked():
    box = {"width": 1920, "height": 1920}
    assert planned_size(100, 68, box, DESKTOP) == (100, 68)  # the Web preset on a small photo
    assert planned_size(100, 68, {**box, "enlarge": True}, DESKTOP) == (1920, 1305)
    assert planned_size(4000, 3000, box, DESKTOP) == (1920, 1440)
    assert planned_size(3000, 4000, box, DESKTOP) == (1440, 1920)
    assert planned_size(321, 481, {"width": 100, "height": 100}, DESKTOP) == (66, 100)
    assert planned_size(321, 481, {"width": 100}, DESKTOP) == (100, 149)
    assert planned_size(100, 68, {"width": 200}, DESKTOP) == (100, 68)
    # The API keeps upstream's semantics: exact box, enlarging, cap on each given side.
    assert planned_size(100, 68, box, API) == (1920, 1080)
    assert planned_size(321, 481, {"width": 4000}, API) == (1920, 2877)
    assert planned_size(321, 481, {"height": 1500}, API) == (720, 1080)


def test_enlarge_is_a_desktop_extra():
    req = validate_request(["webp"], {"webp": {"resize": {"width": 900, "enlarge": True}}}, None)
    assert req.params == {"webp": {"resize": {"width": 900, "enlarge": True}}}
    assert validate_request(["webp"], {"webp": {"resize": {"width": 9, "enlarge": False}}}, None).params == {
        "webp": {"resize": {"width": 9}}
    }
    with pytest.raises(ValidationError, match="enlarge must be true or false"):
        validate_request(["webp"], {"webp": {"resize": {"width": 9, "enlarge": "yes"}}}, None)
    api = validate_request(["webp"], {"webp": {"resize": {"width": 9, "enlarge": "yes"}}}, "a.png", profile=API)
    assert api.params == {"webp": {"resize": {"width": 9}}}  # upstream ignores unknown keys


def test_small_photo_through_the_web_preset_is_not_enlarged_and_sizes_are_recorded(
    store, settings, exif_jpgs, tmp_path
):
    src = exif_jpgs / "Canon_40D.jpg"  # 100 x 68
    job = _run(
        store,
        settings,
        src,
        ["webp", "png"],
        {
            "webp": {"quality": 80, "resize": {"width": 1920, "height": 1920}},
            "png": {"resize": {"width": 300, "enlarge": True}},
        },
        output_dir=str(tmp_path),
    )
    assert job.status == JobStatus.COMPLETED, job.error_message
    by_op = {o.op: o for o in job.outputs}
    with Image.open(by_op["webp"].path) as im:
        assert im.size == (100, 68)
    with Image.open(by_op["png"].path) as im:
        assert im.size == (300, 204)
    assert (by_op["webp"].source_width, by_op["webp"].source_height) == (100, 68)
    assert (by_op["png"].width, by_op["png"].height) == (300, 204)
    stored = store.get(job.id).outputs
    assert {(o.op, o.width, o.height) for o in stored} == {("webp", 100, 68), ("png", 300, 204)}


def test_local_engine_uses_upstream_arithmetic_and_no_cap(store, settings, cbsd68, tmp_path):
    job = _run(
        store,
        settings,
        cbsd68 / PORTRAIT,
        ["jpg", "webp", "avif"],
        {
            "jpg": {"resize": {"width": 100}},
            "webp": {"resize": {"height": 100}},
            "avif": {"resize": {"width": 2500, "enlarge": True}},
        },
        output_dir=str(tmp_path),
    )
    assert job.status == JobStatus.COMPLETED, job.error_message
    sizes = {o.op: Image.open(o.path).size for o in job.outputs}
    assert sizes == {"jpg": (100, 149), "webp": (66, 100), "avif": (2500, 3746)}


def test_api_profile_job_caps_strips_exif_and_shapes_metadata(store, settings, exif_jpgs, cbsd68, tmp_path):
    gps = exif_jpgs / "gps" / "DSCN0010.jpg"
    job = _run(
        store,
        settings,
        gps,
        ["webp", "metadata"],
        {"webp": {"resize": {"width": 4000}}},
        profile=API,
        output_dir=str(tmp_path / "a"),
    )
    assert job.status == JobStatus.COMPLETED, job.error_message
    with Image.open(job.outputs[0].path) as im:
        assert im.width == 1920 and not im.getexif()
    meta = job.metadata
    assert None not in meta.values() and "lens_model" not in meta
    assert meta["gps"] == {"latitude": round(43.46744833333334, 6), "longitude": round(11.885126666663888, 6)}
    assert meta["camera_model"] == "COOLPIX P6000" and meta["iso"] == 64  # richer than upstream: EXIF sub-IFD
    png = _run(store, settings, cbsd68 / PORTRAIT, ["metadata"], profile=API)
    assert png.metadata == {}
    local = _run(store, settings, cbsd68 / PORTRAIT, ["metadata"])
    assert set(local.metadata) == {
        "camera_make",
        "camera_model",
        "lens_model",
        "captured_at",
        "exposure_time",
        "aperture",
        "iso",
        "gps",
    }


# ---------------------------------------------------------------- 12.2 resize bombs, out of memory


def test_resize_bomb_is_a_clear_too_large_job_error_before_any_work(store, settings, tmp_path):
    src = tmp_path / "tiny.png"
    Image.new("RGB", (64, 48), (10, 20, 30)).save(src)
    bomb = {"jpg": {"resize": {"width": 20000, "height": 20000, "enlarge": True}}}
    job = _run(store, settings, src, ["jpg"], bomb, output_dir=str(tmp_path / "o"))
    assert job.status == JobStatus.FAILED and job.error_code == ErrorCode.TOO_LARGE
    # Fit within the 20000 x 20000 box: 20000 x 15000 = 300 MP, above the 250 MP limit.
    assert job.attempts == 1 and "20000 x 15000" in job.error_message and "250 megapixels" in job.error_message
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())
    # Without enlarge the desktop never makes it bigger: no bomb at all.
    ok = _run(
        store,
        settings,
        src,
        ["jpg"],
        {"jpg": {"resize": {"width": 20000, "height": 20000}}},
        output_dir=str(tmp_path / "p"),
    )
    assert ok.status == JobStatus.COMPLETED and Image.open(ok.outputs[0].path).size == (64, 48)


def test_output_size_check_in_the_validator():
    params = {"jpg": {"resize": {"width": 1920}}}
    check_output_size(params, (4000, 3000), max_pixels=250_000_000, profile=API)
    with pytest.raises(ValidationError) as exc:
        check_output_size(params, (1, 200), max_pixels=250_000_000, profile=API)  # 1920 x 384000
    assert exc.value.status_code == 422 and "operation_params['jpg'].resize" in exc.value.detail
    bomb = {"jpg": {"resize": {"width": 30000, "height": 30000}}}
    capped = validate_request(["jpg"], bomb, "a.png", profile=API, source_size=(64, 48), max_pixels=250_000_000)
    assert capped.params == bomb  # upstream's cap makes it 1920 x 1080: fine
    with pytest.raises(ValidationError, match="30000 x 30000"):
        validate_request(
            ["jpg"],
            bomb,
            "a.png",
            profile=api_profile(Settings(serve_size_cap=False)),
            source_size=(64, 48),
            max_pixels=250_000_000,
        )


def test_memory_error_is_not_retried(store, settings, cbsd68):
    def engine(job, ctx):
        raise MemoryError()

    [job] = store.add_jobs([NewJob(str(cbsd68 / PORTRAIT), ["png"], {}, OutputOptions(), "b", 1)])
    final = execute_job(store, store.claim_next("std"), settings, engine=engine)
    assert final.status == JobStatus.FAILED and final.error_code == ErrorCode.OUT_OF_MEMORY
    assert "Not enough memory" in final.error_message and final.not_before == 0


# ---------------------------------------------------------------- 13.5 error codes


def test_failures_carry_a_code_beside_the_message(store, settings, tmp_path, cbsd68):
    bad = tmp_path / "page.jpg"
    bad.write_text("<!DOCTYPE html><html>sign in</html>")
    cut = tmp_path / "cut.png"
    cut.write_bytes((cbsd68 / PORTRAIT).read_bytes()[:5000])
    codes = {}
    for path in (bad, cut, tmp_path / "gone.png"):
        [job] = store.add_jobs([NewJob(str(path), ["webp"], {}, OutputOptions(output_dir=str(tmp_path)), "b", 1)])
        codes[path.name] = execute_job(store, store.claim_next("std"), settings).error_code
    assert codes == {"page.jpg": "unsupported", "cut.png": "damaged", "gone.png": "missing_input"}
    [job] = store.add_jobs([NewJob(str(cut), ["webp"], {}, OutputOptions(), "b", 2)])
    store.request_cancel(job.id)
    assert store.get(job.id).error_code == "cancelled"
    store.retry_failed(job_ids=[job.id])
    assert store.get(job.id).error_code is None


def test_migration_30_adds_error_code_to_an_existing_database(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for m in MIGRATIONS:
        if m.version <= 10:
            for statement in m.apply.split(";"):
                if statement.strip():
                    conn.execute(statement)
    conn.execute("PRAGMA user_version = 10")
    conn.execute(
        "INSERT INTO jobs (id, input_path, operations, status, error_message, created_at, updated_at) "
        "VALUES ('j1', '/x.png', '[\"png\"]', 'FAILED', 'old failure', 't', 't')"
    )
    conn.close()
    with JobStore(path) as store:
        assert store.schema_version >= 30
        job = store.get("j1")
        assert job.error_message == "old failure" and job.error_code is None
        store.fail("j1", "The disk is full.", code=ErrorCode.DISK_FULL)
        assert store.get("j1").error_code == "disk_full"
    assert (tmp_path / "old.sqlite3.bak-v10").exists()


def test_cli_json_summary_has_the_code_and_same_format_reencodes(tmp_path, cbsd68, pixtools_home):
    import os
    import subprocess
    import sys

    src = tmp_path / "in"
    src.mkdir()
    Image.open(cbsd68 / PORTRAIT).save(src / "a.png")
    (src / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(30))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pixtools_desktop",
            "process",
            str(src / "a.png"),
            str(src / "b.png"),
            "--ops",
            "png",
            "--params",
            '{"png":{"resize":{"height":100}}}',
            "--out",
            str(tmp_path / "o"),
            "--json",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PIXTOOLS_HOME": str(pixtools_home)},
    )
    summary = json.loads(proc.stdout)
    by_name = {Path(j["input"]).name: j for j in summary["jobs"]}
    assert by_name["a.png"]["status"] == "COMPLETED" and by_name["a.png"]["error_code"] is None
    assert Image.open(by_name["a.png"]["outputs"][0]["path"]).size == (66, 100)
    assert by_name["b.png"]["status"] == "FAILED" and by_name["b.png"]["error_code"] == "damaged"
    assert proc.returncode == 1


def test_api_metadata_shape_is_only_for_the_api(exif_jpgs):
    from pixtools_desktop.core.imaging.metadata import api_metadata

    full = imaging.extract_metadata(exif_jpgs / "gps" / "DSCN0010.jpg")
    assert len(full) == 8 and full["lens_model"] is None
    shaped = api_metadata(full)
    assert "lens_model" not in shaped and shaped["gps"]["latitude"] == 43.467448
    assert api_metadata(dict.fromkeys(full)) == {}
