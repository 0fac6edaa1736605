"""RemoteBackend against a real `pixtools serve` process: every operation, files downloaded and opened."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from PIL import Image

from pixtools_desktop.core.backend import Backend
from pixtools_desktop.core.jobs import JobStatus, OverwritePolicy
from pixtools_desktop.core.store import JobStore
from pixtools_desktop.remote.backend import RemoteBackend
from tests.conftest import require_testdata
from tests.remote.conftest import API_KEY
from tests.remote.helpers import fast_settings, make_png, new_job, run_jobs


@pytest.fixture
def store(tmp_path):
    with JobStore(tmp_path / "jobs.sqlite3") as s:
        yield s


def test_implements_backend_protocol(store, server):
    b = RemoteBackend(store, fast_settings(), base_url=server.url + "/api/")
    try:
        assert isinstance(b, Backend) and b.base_url == server.url
    finally:
        b.stop()


def test_conversions_resize_quality_and_archive(store, server, tmp_path):
    src = make_png(tmp_path / "pic.png", size=(120, 90))
    out = tmp_path / "out"
    events: list[str] = []
    settings = fast_settings(download_archive=True)
    nj = new_job(
        src,
        ["jpg", "webp", "avif", "metadata"],
        out,
        params={"jpg": {"quality": 60, "resize": {"width": 60}}, "avif": {"resize": {"height": 30}}},
    )
    backend = RemoteBackend(store, settings, base_url=server.url, api_key=API_KEY)
    backend.add_listener(lambda ev, jid, payload: events.append(ev))
    finished = []
    backend.add_finish_hook(finished.append)
    backend.start()
    try:
        [job] = backend.submit([nj])
        assert backend.wait_idle(timeout=60)
    finally:
        backend.stop()
    job = store.get(job.id)
    assert job.status == JobStatus.COMPLETED, job.error_message
    assert job.backend == server.url and job.remote_job_id
    by_op = {o.op: o for o in job.outputs}
    assert set(by_op) == {"jpg", "webp", "avif", "bundle"}
    jpg = Image.open(by_op["jpg"].path)
    assert jpg.format == "JPEG" and jpg.size == (60, 45) and Path(by_op["jpg"].path).name == "pic_jpg.jpg"
    assert Image.open(by_op["webp"].path).format == "WEBP"
    avif = Image.open(by_op["avif"].path)
    assert avif.format == "AVIF" and avif.size == (40, 30)
    assert all(Path(o.path).stat().st_size == o.size for o in job.outputs)
    members = sorted(zipfile.ZipFile(by_op["bundle"].path).namelist())
    assert members == ["pixtools_avif_pic.avif", "pixtools_jpg_pic.jpg", "pixtools_webp_pic.webp"]
    assert isinstance(job.metadata, dict) and "camera_make" in job.metadata
    assert events[0] == "started" and events[-1] == "finished" and "progress" in events
    assert [j.id for j in finished] == [job.id]
    assert not list(out.glob(".pixtools-tmp-*"))


def test_png_and_exif_metadata_from_a_real_camera_file(store, server, tmp_path):
    src = require_testdata("exif", "jpg", "Canon_40D.jpg")
    [job] = run_jobs(
        store, fast_settings(), server.url, [new_job(src, ["png", "metadata"], tmp_path / "o")], api_key=API_KEY
    )
    assert job.status == JobStatus.COMPLETED, job.error_message
    png = Image.open(job.outputs[0].path)
    assert png.format == "PNG"
    with Image.open(src) as original:
        assert png.size == original.size or png.size == original.size[::-1]
    assert job.metadata["camera_make"] == "Canon" and job.metadata["camera_model"] == "Canon EOS 40D"


def test_denoise_runs_on_the_server(store, server, tmp_path):
    require_testdata("weights")
    noisy = Image.effect_noise((64, 48), 40).convert("RGB")
    src = tmp_path / "noisy.png"
    noisy.save(src)
    [job] = run_jobs(
        store,
        fast_settings(),
        server.url,
        [new_job(src, ["denoise"], tmp_path / "o", params={"denoise": {"resize": {"width": 32}}})],
        api_key=API_KEY,
        timeout=120,
    )
    assert job.status == JobStatus.COMPLETED, job.error_message
    out = Image.open(job.outputs[0].path)
    assert out.format == "PNG" and out.size == (32, 24) and Path(job.outputs[0].path).name == "noisy_denoise.png"


def test_overwrite_policy_and_naming_template(store, server, tmp_path):
    src = make_png(tmp_path / "a.png")
    out = tmp_path / "o"
    out.mkdir()
    (out / "a-webp.webp").write_bytes(b"old")
    (out / "a-jpg.jpg").write_bytes(b"keep me")
    [unique] = run_jobs(
        store,
        fast_settings(),
        server.url,
        [new_job(src, ["webp"], out, naming_template="{stem}-{op}.{ext}")],
        api_key=API_KEY,
    )
    assert Path(unique.outputs[0].path).name == "a-webp (2).webp"
    [skip] = run_jobs(
        store,
        fast_settings(),
        server.url,
        [new_job(src, ["jpg"], out, naming_template="{stem}-{op}.{ext}", overwrite=OverwritePolicy.SKIP)],
        api_key=API_KEY,
    )
    assert skip.status == JobStatus.COMPLETED and skip.outputs[0].skipped
    assert (out / "a-jpg.jpg").read_bytes() == b"keep me" and "already exists" in skip.warnings[0]


@pytest.mark.parametrize(
    "ops, params, make, message",
    [
        (["tiff"], {}, "png", "TIFF output is a desktop-only operation"),
        (["denoise"], {"denoise": {"mode": "max"}}, "png", "Denoise mode is a desktop-only option"),
        (
            ["png"],
            {},
            "png",
            "The server would reject this job: Cannot convert png to png - source and target formats are the same",
        ),
        (
            ["jpg"],
            {},
            "text",
            "PixTools servers accept only JPEG, PNG, WebP and AVIF files; this file is a web page (HTML)",
        ),
        (["jpg"], {}, "big", "PixTools servers accept at most 10 MB per file"),
        (["jpg"], {}, "gone", "no longer exists"),
    ],
)
def test_local_prechecks_fail_at_once_without_upload(store, server, tmp_path, ops, params, make, message):
    path = tmp_path / "in.png"
    if make == "png":
        make_png(path)
    elif make == "text":
        path.write_text("<!DOCTYPE html><html>nope</html>")
    elif make == "big":
        make_png(path)
        with open(path, "ab") as fh:
            fh.truncate(10 * 1024 * 1024 + 1)
    [job] = run_jobs(
        store, fast_settings(), server.url, [new_job(path, ops, tmp_path / "o", params=params)], api_key=API_KEY
    )
    assert job.status == JobStatus.FAILED and message in job.error_message
    assert job.remote_job_id is None  # nothing was sent


def test_cancel_pending_job(store, server, tmp_path):
    backend = RemoteBackend(store, fast_settings(), base_url=server.url, api_key=API_KEY)
    try:
        backend.pause()  # not started and paused: nothing gets uploaded
        [job] = backend.submit([new_job(make_png(tmp_path / "c.png"), ["jpg"], tmp_path / "o")])
        backend.cancel(job.id)
        assert store.get(job.id).status == JobStatus.CANCELLED
    finally:
        backend.stop()
