"""Remote outputs carry their pixel sizes, as local ones do: the result card says "W x H -> W x H px"."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pytest
from PIL import Image

from pixtools_desktop.core.jobs import JobStatus
from pixtools_desktop.core.store import JobStore
from pixtools_desktop.remote.results import download_results
from pixtools_desktop.ui.metadata_view import output_dimensions
from tests.remote.conftest import API_KEY
from tests.remote.helpers import fast_settings, make_png, new_job, run_jobs


@pytest.fixture
def store(tmp_path):
    with JobStore(tmp_path / "jobs.sqlite3") as s:
        yield s


def _rotated_jpeg(path: Path) -> Path:
    """Stored 120 x 90 with EXIF Orientation 6: upright it is 90 x 120."""
    img = make_png(path.with_suffix(".png"), size=(120, 90))
    exif = Image.Exif()
    exif[0x0112] = 6
    with Image.open(img) as im:
        im.save(path, "JPEG", quality=90, exif=exif)
    return path


def test_remote_outputs_record_output_and_source_sizes(store, server, tmp_path):
    src = _rotated_jpeg(tmp_path / "turned.jpg")
    [job] = run_jobs(
        store,
        fast_settings(download_archive=True),
        server.url,
        [
            new_job(
                src,
                ["avif", "webp", "png"],
                tmp_path / "o",
                params={"avif": {"resize": {"width": 45}}, "webp": {"resize": {"height": 40}}},
            )
        ],
        api_key=API_KEY,
    )
    assert job.status == JobStatus.COMPLETED, job.error_message
    job = store.get(job.id)  # what the store kept, as the window reads it
    by_op = {o.op: o for o in job.outputs}
    assert set(by_op) == {"avif", "webp", "png", "bundle"}
    for op in ("avif", "webp", "png"):
        rec = by_op[op]
        with Image.open(rec.path) as out:
            assert (rec.width, rec.height) == out.size, op
        assert (rec.source_width, rec.source_height) == (90, 120), op  # upright, as the engine records it
        assert output_dimensions(job, rec) == ((90, 120), out.size)
    assert (by_op["avif"].width, by_op["avif"].height) == (45, 60)
    assert (by_op["webp"].width, by_op["webp"].height) == (30, 40)
    assert (by_op["png"].width, by_op["png"].height) == (90, 120)
    bundle = by_op["bundle"]  # a zip has no pixel size
    assert bundle.width is None and bundle.source_width is None


class _FakeApi:
    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def download(self, url: str, fh: BinaryIO) -> None:
        fh.write(self.payload)


def test_undecodable_remote_output_leaves_sizes_unset(store, tmp_path):
    src = make_png(tmp_path / "pic.png")
    [job] = store.add_jobs([new_job(src, ["jpg"], tmp_path / "o")])
    body = {"result_urls": {"jpg": "http://127.0.0.1:1/r/pic.jpg"}}
    outputs, warnings = download_results(
        _FakeApi(b"\xff\xd8\xff not really a jpeg"), store, job, body, archive=False, progress=lambda f: None
    )
    [rec] = outputs
    assert Path(rec.path).read_bytes().startswith(b"\xff\xd8") and rec.size > 0 and not warnings
    assert (rec.width, rec.height, rec.source_width, rec.source_height) == (None, None, None, None)
    assert store.get(job.id).outputs == outputs


def test_unreadable_input_leaves_source_size_unset(store, tmp_path):
    src = make_png(tmp_path / "gone.png")
    [job] = store.add_jobs([new_job(src, ["png"], tmp_path / "o")])
    payload = src.read_bytes()
    src.unlink()  # the input was moved away while the server worked
    outputs, _ = download_results(
        _FakeApi(payload),
        store,
        job,
        {"result_urls": {"png": "http://x/r/gone.png"}},
        archive=False,
        progress=lambda f: None,
    )
    [rec] = outputs
    assert (rec.width, rec.height) == (80, 60)
    assert rec.source_width is None and rec.source_height is None
