"""Every op through the real engine on real photos, with outputs opened and checked."""

from __future__ import annotations

import errno
import io
import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from pixtools_desktop.core import imaging
from pixtools_desktop.core.engine import EngineContext, run_job
from pixtools_desktop.core.errors import JobCancelled, ModelUnavailableError
from pixtools_desktop.core.executor import execute_job
from pixtools_desktop.core.jobs import JobStatus, OutputOptions, OverwritePolicy
from pixtools_desktop.core.ops import validate_request
from pixtools_desktop.core.profile import DESKTOP
from pixtools_desktop.core.store import NewJob


def _job(store, path, ops, params=None, **opts):
    req = validate_request(ops, params, Path(path).name)
    [job] = store.add_jobs(
        [NewJob(str(path), [o.value for o in req.operations], req.params, OutputOptions(**opts), "b", 1)]
    )
    return store.claim_next(job.params and "std" or "std") if "denoise" not in ops else store.claim_next("model")


def _run(store, settings, path, ops, params=None, **opts):
    job = _job(store, path, ops, params, **opts)
    return execute_job(store, job, settings)


def test_every_standard_op_on_a_cbsd68_png(store, settings, cbsd68, tmp_path):
    src = cbsd68 / "101085.png"
    w, h = Image.open(src).size
    job = _run(
        store,
        settings,
        src,
        ["jpg", "webp", "avif", "tiff", "metadata"],
        {"jpg": {"quality": 90}, "webp": {"resize": {"width": 200}}},
        output_dir=str(tmp_path / "out"),
    )
    assert job.status == JobStatus.COMPLETED, job.error_message
    by_op = {o.op: Path(o.path) for o in job.outputs}
    assert set(by_op) == {"jpg", "webp", "avif", "tiff"}
    expected = {
        "jpg": ("JPEG", (w, h)),
        "webp": ("WEBP", (200, int((200 / w) * h))),
        "avif": ("AVIF", (w, h)),
        "tiff": ("TIFF", (w, h)),
    }
    for op, (fmt, size) in expected.items():
        with Image.open(by_op[op]) as im:
            assert im.format == fmt and im.size == size, (op, im.format, im.size)
        assert by_op[op].name == f"101085_{op}.{'tiff' if op == 'tiff' else op}"
    assert job.metadata is not None and set(job.metadata) >= {"camera_make", "gps", "iso"}
    assert not list((tmp_path / "out").glob(".pixtools-tmp-*"))


def test_png_output_from_camera_jpeg_keeps_exif_and_is_upright(store, settings, exif_jpgs, tmp_path):
    src = exif_jpgs / "orientation" / "portrait_6.jpg"
    ref = imaging.load_image(exif_jpgs / "orientation" / "portrait_1.jpg").image.size
    job = _run(store, settings, src, ["png", "webp"], output_dir=str(tmp_path))
    assert job.status == JobStatus.COMPLETED, job.error_message
    for o in job.outputs:
        with Image.open(o.path) as im:
            assert im.size == ref, "orientation must be applied before every op"
            if o.op == "webp":
                exif = im.getexif()
                assert exif.get(0x0112, 1) == 1, "orientation tag reset"
                assert 0x0112 in exif or len(exif) > 0, "EXIF kept"


def test_keep_metadata_keeps_camera_exif(store, settings, exif_jpgs, tmp_path):
    job = _run(store, settings, exif_jpgs / "Canon_40D.jpg", ["webp", "png", "tiff"], output_dir=str(tmp_path))
    assert job.status == JobStatus.COMPLETED, job.error_message
    for o in job.outputs:
        with Image.open(o.path) as im:
            assert im.getexif().get(0x010F) == "Canon", f"{o.op} lost the camera make"


def test_strip_metadata_removes_exif(store, settings, exif_jpgs, tmp_path):
    job = _run(
        store, settings, exif_jpgs / "Canon_40D.jpg", ["webp", "png"], output_dir=str(tmp_path), keep_metadata=False
    )
    assert job.status == JobStatus.COMPLETED, job.error_message
    for o in job.outputs:
        with Image.open(o.path) as im:
            assert not im.getexif().get(0x010F), f"{o.op} still has EXIF"


def test_metadata_matches_camera(store, settings, exif_jpgs):
    job = _run(store, settings, exif_jpgs / "Canon_40D.jpg", ["metadata"])
    assert job.status == JobStatus.COMPLETED
    assert job.metadata["camera_make"] == "Canon" and job.metadata["camera_model"] == "Canon EOS 40D"
    assert job.outputs == []


def test_naming_template_and_overwrite_policies(store, settings, cbsd68, tmp_path):
    src = cbsd68 / "102061.png"
    out = tmp_path / "o"
    first = _run(store, settings, src, ["jpg"], output_dir=str(out), naming_template="{n}-{stem}.{ext}")
    assert Path(first.outputs[0].path).name == "1-102061.jpg"
    unique = _run(store, settings, src, ["jpg"], output_dir=str(out), naming_template="{n}-{stem}.{ext}")
    assert Path(unique.outputs[0].path).name == "1-102061 (2).jpg"
    before = (out / "1-102061.jpg").stat().st_mtime_ns
    skip = _run(
        store,
        settings,
        src,
        ["jpg"],
        output_dir=str(out),
        naming_template="{n}-{stem}.{ext}",
        overwrite=OverwritePolicy.SKIP,
    )
    assert skip.status == JobStatus.COMPLETED and skip.outputs[0].skipped
    assert (out / "1-102061.jpg").stat().st_mtime_ns == before
    over = _run(
        store,
        settings,
        src,
        ["jpg"],
        {"jpg": {"quality": 10}},
        output_dir=str(out),
        naming_template="{n}-{stem}.{ext}",
        overwrite=OverwritePolicy.OVERWRITE,
    )
    assert Path(over.outputs[0].path).name == "1-102061.jpg"
    assert len(list(out.iterdir())) == 2


def test_zip_bundle_uses_api_member_names(store, settings, cbsd68, tmp_path):
    job = _run(store, settings, cbsd68 / "103070.png", ["jpg", "webp"], output_dir=str(tmp_path), bundle_zip=True)
    bundle = next(o for o in job.outputs if o.op == "bundle")
    with zipfile.ZipFile(bundle.path) as zf:
        assert sorted(zf.namelist()) == ["pixtools_jpg_103070.jpg", "pixtools_webp_103070.webp"]
        Image.open(io.BytesIO(zf.read("pixtools_jpg_103070.jpg"))).verify()


def test_denoise_without_model_worker_fails_clearly(store, settings, cbsd68):
    job = _job(store, cbsd68 / "101085.png", ["denoise"])
    with pytest.raises(ModelUnavailableError):
        run_job(job, EngineContext(settings=settings))


def test_cancel_between_steps(store, settings, cbsd68, tmp_path):
    job = _job(store, cbsd68 / "101085.png", ["jpg", "webp"], output_dir=str(tmp_path))
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(JobCancelled):
        run_job(job, EngineContext(settings=settings, cancelled=cancelled))
    assert not list(tmp_path.glob(".pixtools-tmp-*"))


def test_resume_reuses_outputs_already_written(store, settings, cbsd68, tmp_path):
    """A job interrupted after its first output completes without writing it again."""
    tmp_path = tmp_path / "out"
    job = _job(store, cbsd68 / "101085.png", ["jpg", "webp"], output_dir=str(tmp_path))
    saved = []

    def cancelled():
        return len(saved) >= 2  # stop right after the jpg landed

    with pytest.raises(JobCancelled):
        run_job(
            job,
            EngineContext(
                settings=settings,
                cancelled=cancelled,
                save_outputs=lambda outs: (saved.append(list(outs)), store.save_outputs(job.id, outs)),
            ),
        )
    jpg = tmp_path / "101085_jpg.jpg"
    mtime = jpg.stat().st_mtime_ns
    store.requeue(job.id)
    again = store.claim_next("std")
    final = execute_job(store, again, settings)
    assert final.status == JobStatus.COMPLETED
    assert jpg.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["101085_jpg.jpg", "101085_webp.webp"]


def test_read_only_output_folder_fails_that_job_with_a_message(store, settings, cbsd68, readonly_dir):
    job = _run(store, settings, cbsd68 / "101085.png", ["jpg"], output_dir=str(readonly_dir / "sub"))
    assert job.status == JobStatus.FAILED
    assert "Cannot write to" in job.error_message or "could not be created" in job.error_message


def test_full_disk_is_transient_then_fails_after_retries(store, settings, cbsd68, tiny_disk, tmp_path, monkeypatch):
    """A full disk retries with backoff (bounded), then fails with a plain message; no partial file."""
    monkeypatch.setattr("pixtools_desktop.core.executor.BACKOFF_BASE_S", 0.0)
    if tiny_disk is not None:
        (tiny_disk / "filler").write_bytes(b"\0" * (2 * 1024 * 1024 - 64 * 1024))  # leave ~64 KB
        out = tiny_disk
    else:  # no mount allowed: simulate ENOSPC inside the encoder
        out = tmp_path / "full"

        def full(image, fp, fmt, **kw):
            fp.write(b"x" * 1000)
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(imaging, "save_image", full)
    settings.max_attempts = 2
    job = _run(store, settings, cbsd68 / "101085.png", ["tiff"], output_dir=str(out))
    assert job.status == JobStatus.PENDING and "disk is full" in job.error_message
    again = store.claim_next("std", now=9e12)
    final = execute_job(store, again, settings)
    assert final.status == JobStatus.FAILED and "disk is full" in final.error_message
    assert not list(Path(out).glob(".pixtools-tmp-*")) and not list(Path(out).glob("*.tiff"))


def test_same_names_from_many_folders_never_overwrite_each_other(store, settings, cbsd68, tmp_path):
    """photo.png from 16 folders into one output folder, 4 workers: 16 distinct files."""
    from pixtools_desktop.core.batch import plan_batch
    from pixtools_desktop.core.runner import LocalRunner

    files = []
    for i in range(16):
        d = tmp_path / "in" / f"card{i}"
        d.mkdir(parents=True)
        Image.open(cbsd68 / "101085.png").crop((i, 0, 100 + i, 80)).save(d / "photo.png")
        files.append(d / "photo.png")
    out = tmp_path / "out"
    plan = plan_batch(store, files, validate_request(["webp"], None, None), OutputOptions(output_dir=str(out)))
    with LocalRunner(store, settings, workers=4, batch_ids={plan.batch_id}) as runner:
        runner.submit(plan.new_jobs)
        assert runner.wait_idle(plan.batch_id, timeout=60)
    jobs = store.list_jobs(batch_id=plan.batch_id)
    assert all(j.status == JobStatus.COMPLETED for j in jobs)
    paths = {j.outputs[0].path for j in jobs}
    assert len(paths) == 16 and len(list(out.iterdir())) == 16
    sizes = {Image.open(p).size for p in paths}
    assert sizes == {(100, 80)}


def test_downscale_decodes_jpeg_at_reduced_scale_with_the_same_result(store, settings, exif_jpgs, tmp_path):
    """JPEG DCT-scaled decode for downscales: exact output size, pixels within noise of a full decode."""
    import numpy as np

    from pixtools_desktop.core.engine import _reduce_to

    src = exif_jpgs / "orientation" / "portrait_6.jpg"
    full = imaging.load_image(src)
    job = _job(store, src, ["webp"], {"webp": {"quality": 100, "resize": {"width": 150}}}, output_dir=str(tmp_path))
    reduced = imaging.load_image(src, reduce_to=_reduce_to(job, DESKTOP))
    assert reduced.original_size == full.image.size
    assert reduced.image.width < full.image.width, "the decode should have been reduced"
    final = execute_job(store, job, settings)
    with Image.open(final.outputs[0].path) as im:
        out = np.asarray(im.convert("RGB"), dtype=float)
    from pixtools_desktop.core.imaging.transform import target_size

    ref = imaging.resize(full.image, *target_size(*full.image.size, 150, None))
    assert out.shape[:2] == (ref.height, ref.width)
    assert np.abs(out - np.asarray(ref.convert("RGB"), dtype=float)).mean() < 3.0


def test_full_size_ops_are_never_reduced(store, settings, exif_jpgs):
    from pixtools_desktop.core.engine import _reduce_to

    job = _job(store, exif_jpgs / "Canon_40D.jpg", ["webp", "png"], {"webp": {"resize": {"width": 100}}})
    assert _reduce_to(job, DESKTOP) is None


def test_outputs_get_normal_file_permissions(store, settings, cbsd68, tmp_path):
    job = _run(store, settings, cbsd68 / "101085.png", ["jpg"], output_dir=str(tmp_path / "o"))
    mask = os.umask(0)
    os.umask(mask)
    assert (Path(job.outputs[0].path).stat().st_mode & 0o777) == 0o666 & ~mask
