"""The remote backend's precheck speaks the API profile: same-format refused, desktop resize translated."""

from __future__ import annotations

import pytest
from PIL import Image

from pixtools_desktop.core.errors import ErrorCode, JobError
from pixtools_desktop.core.jobs import Job, OutputOptions
from pixtools_desktop.core.ops import api_params_for_desktop_job, validate_request
from pixtools_desktop.remote.precheck import prepare_upload
from tests.conftest import require_testdata


def _job(path, ops, params=None) -> Job:
    req = validate_request(ops, params, None)  # what the window and the CLI build: the desktop profile
    return Job(
        id="j",
        input_path=str(path),
        operations=[o.value for o in req.operations],
        params=req.params,
        options=OutputOptions(),
    )


def test_same_format_is_refused_as_upstream_would(tmp_path):
    path = tmp_path / "shot.png"
    Image.new("RGB", (40, 30)).save(path)
    with pytest.raises(JobError) as exc:
        prepare_upload(_job(path, ["png"]))
    assert str(exc.value) == (
        "The server would reject this job: Cannot convert png to png - source and target formats are the same"
    )
    assert exc.value.code == ErrorCode.REJECTED


def test_an_unwanted_enlargement_is_left_out():
    canon = require_testdata("exif", "jpg", "Canon_40D.jpg")  # 100 x 68
    upload = prepare_upload(_job(canon, ["webp"], {"webp": {"quality": 80, "resize": {"width": 1920, "height": 1920}}}))
    assert upload.params == {"webp": {"quality": 80}}
    asked = prepare_upload(_job(canon, ["webp"], {"webp": {"resize": {"width": 300, "enlarge": True}}}))
    assert asked.params == {"webp": {"resize": {"width": 300}}}  # enlarging was asked for: sent, without the extra


def test_a_desktop_box_becomes_its_limiting_side():
    portrait = require_testdata("testsets", "CBSD68", "101085.png")  # 321 x 481
    upload = prepare_upload(_job(portrait, ["jpg"], {"jpg": {"resize": {"width": 200, "height": 200}}}))
    assert upload.params == {"jpg": {"resize": {"height": 200}}}  # upstream then gives 133 x 200, as we would
    assert api_params_for_desktop_job({"jpg": {"resize": {"width": 200, "height": 200}}}, (481, 321)) == {
        "jpg": {"resize": {"width": 200}}
    }
    assert api_params_for_desktop_job({"jpg": {"resize": {"width": 50}}}, None) == {"jpg": {"resize": {"width": 50}}}
