"""`pixtools serve` speaks with upstream's rules (the API profile), against a real server process.

Sizes (truncating arithmetic, the 1920x1080 cap), metadata shape, EXIF
stripped from outputs, resize bombs refused at submit; and the operator
settings that lift the cap and keep EXIF.
"""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from tests.conftest import require_testdata
from tests.server.conftest import API_KEY
from tests.server.test_contract import KEY, png_bytes, post, wait_done


@pytest.fixture(scope="module")
def portrait() -> bytes:
    return (require_testdata("testsets", "CBSD68") / "101085.png").read_bytes()  # 321 x 481


def _output(server, body: dict, op: str) -> Image.Image:
    r = httpx.get(body["result_urls"][op], timeout=30)
    assert r.status_code == 200
    im = Image.open(io.BytesIO(r.content))
    im.load()
    return im


def _sizes(server, data: bytes, params: str, ops='["jpg","webp"]', name="photo.png", ctype="image/png") -> dict:
    r = post(server, data=data, name=name, ctype=ctype, ops=ops, params=params)
    assert r.status_code == 202, r.text
    body = wait_done(server, r.json()["job_id"])
    assert body["status"] == "COMPLETED", body
    return {op: _output(server, body, op).size for op in body["result_urls"]}


def test_resize_uses_upstream_truncation_and_cap(keyed_server, portrait):
    assert _sizes(keyed_server, portrait, '{"jpg":{"resize":{"width":100}},"webp":{"resize":{"height":100}}}') == {
        "jpg": (100, 149),
        "webp": (66, 100),
    }
    assert _sizes(keyed_server, portrait, '{"jpg":{"resize":{"width":4000}},"webp":{"resize":{"height":1500}}}') == {
        "jpg": (1920, 2877),
        "webp": (720, 1080),
    }
    # Both sides: the exact box, as upstream (enlarging, aspect not kept), capped per side.
    assert _sizes(
        keyed_server, png_bytes((64, 48)), '{"jpg":{"resize":{"width":20000,"height":20000}}}', ops='["jpg"]'
    ) == {"jpg": (1920, 1080)}


def test_metadata_has_only_the_keys_found(keyed_server):
    exif_dir = require_testdata("exif", "jpg")
    r = post(keyed_server, data=png_bytes(), ops='["metadata"]')
    assert wait_done(keyed_server, r.json()["job_id"])["metadata"] == {}
    r = post(
        keyed_server,
        data=(exif_dir / "gps" / "DSCN0010.jpg").read_bytes(),
        name="DSCN0010.jpg",
        ctype="image/jpeg",
        ops='["metadata"]',
    )
    meta = wait_done(keyed_server, r.json()["job_id"])["metadata"]
    assert None not in meta.values() and "lens_model" not in meta
    assert meta["gps"] == {"latitude": 43.467448, "longitude": 11.885127}
    assert meta["camera_model"] == "COOLPIX P6000" and meta["exposure_time"] == "1/75s" and meta["iso"] == 64


def test_outputs_carry_no_exif_but_keep_icc(keyed_server):
    canon = require_testdata("exif", "jpg", "Canon_40D.jpg")
    r = post(keyed_server, data=canon.read_bytes(), name="Canon_40D.jpg", ctype="image/jpeg", ops='["png","webp"]')
    body = wait_done(keyed_server, r.json()["job_id"])
    for op in ("png", "webp"):
        im = _output(keyed_server, body, op)
        assert not im.getexif(), f"{op} output still has EXIF"
        assert im.info.get("icc_profile"), f"{op} output lost its ICC profile"


def test_resize_bomb_is_a_422_at_submit(keyed_server):
    r = post(keyed_server, data=png_bytes((1, 200)), ops='["jpg"]', params='{"jpg":{"resize":{"width":1920}}}')
    assert r.status_code == 422
    assert r.json()["detail"].startswith("operation_params['jpg'].resize: the result would be 1920 x 384000 pixels")


def test_operator_settings_lift_the_cap_and_keep_exif(serve_factory, portrait):
    server = serve_factory(api_key=API_KEY, env={"PIXTOOLS_SERVE_SIZE_CAP": "0", "PIXTOOLS_SERVE_KEEP_EXIF": "1"})
    assert _sizes(server, portrait, '{"jpg":{"resize":{"width":2500}}}', ops='["jpg"]') == {"jpg": (2500, 3746)}
    r = post(
        server, data=png_bytes((64, 48)), ops='["jpg"]', params='{"jpg":{"resize":{"width":20000,"height":20000}}}'
    )
    assert r.status_code == 422 and "20000 x 20000" in r.json()["detail"]
    canon = require_testdata("exif", "jpg", "Canon_40D.jpg")
    r = post(server, data=canon.read_bytes(), name="Canon_40D.jpg", ctype="image/jpeg", ops='["webp"]')
    im = _output(server, wait_done(server, r.json()["job_id"]), "webp")
    assert im.getexif().get(0x0110) == "Canon EOS 40D"
    assert httpx.get(f"{server.url}/api/livez", headers=KEY).status_code == 200
