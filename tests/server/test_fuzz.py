"""Issue 12.12: fuzz `serve` the way API users' tools do, and the job-parameter validator by property.

- schemathesis (the maintained OpenAPI fuzzer) against a real `pixtools serve`
  and its own /openapi.json: bounded (10 examples per operation and phase,
  45 s), checks: no 5xx, answers match the documented schemas, status codes
  and content types; the server is alive afterwards.
- hypothesis: any JSON (or any text) for `operations` / `operation_params`
  gives a ValidationError (a 422) or a valid request, never another exception.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.ops import API_OPERATIONS, OperationRequest, validate_request
from tests.server.conftest import API_KEY

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def test_schemathesis_finds_no_5xx_and_no_schema_violation(serve_factory, tmp_path):
    if not SCHEMATHESIS.exists() and not shutil.which("schemathesis"):
        pytest.skip("schemathesis is not installed (pip install -e .[test])")
    server = serve_factory(api_key=API_KEY)
    exe = str(SCHEMATHESIS) if SCHEMATHESIS.exists() else shutil.which("schemathesis")
    proc = subprocess.run(
        [
            exe,
            "run",
            f"{server.url}/openapi.json",
            "-H",
            f"X-API-Key: {API_KEY}",
            "-c",
            CHECKS,
            "-n",
            "10",
            "--phases",
            "coverage,fuzzing",
            "--max-time",
            "45",
            "--request-timeout",
            "10",
            "--seed",
            "20261203",
            "--generation-database",
            "none",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    summary = proc.stdout[-3000:]
    assert proc.returncode == 0, summary
    generated = [line for line in proc.stdout.splitlines() if " generated, " in line]
    assert generated and "passed" in generated[-1] and "failed" not in generated[-1], summary
    assert int(generated[-1].split()[0]) >= 100, summary  # it really sent a few hundred requests
    assert httpx.get(f"{server.url}/api/livez", timeout=5).status_code == 200
    assert server.proc is not None and server.proc.poll() is None


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from([op.value for op in API_OPERATIONS] + ["resize", "quality", "width", "height", "tiff"]),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.sampled_from([op.value for op in API_OPERATIONS] + ["resize", "quality", "width", "height", "x"])
            | st.text(max_size=6),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


def _check(operations, params, name) -> None:
    try:
        req = validate_request(operations, params, name, api_compatible=True)
    except ValidationError as exc:
        assert exc.status_code in (400, 422) and isinstance(exc.detail, str) and exc.detail
        return
    assert isinstance(req, OperationRequest) and req.operations
    assert all(op in API_OPERATIONS for op in req.operations)
    for op, p in req.params.items():
        assert op in {o.value for o in req.operations} and set(p) <= {"quality", "resize"}
        if "quality" in p:
            assert 1 <= p["quality"] <= 100
        for v in p.get("resize", {}).values():
            assert isinstance(v, int) and v > 0
    json.dumps(req.to_json())


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=json_values, params=json_values, name=st.sampled_from([None, "a.png", "a.jpg", "x", "b.webp"]))
def test_any_json_is_a_422_or_a_valid_job(ops, params, name):
    _check(json.dumps(ops), json.dumps(params), name)


@settings(max_examples=300, deadline=None, database=None)
@given(ops=st.text(max_size=40), params=st.text(max_size=40))
def test_any_text_is_a_422_or_a_valid_job(ops, params):
    _check(ops, params, "a.png")


@settings(max_examples=200, deadline=None, database=None)
@given(depth=st.integers(min_value=1, max_value=200_000), opener=st.sampled_from(["[", '{"a":', '[{"jpg":']))
def test_nesting_of_any_depth_never_raises_anything_else(depth, opener):
    closer = {"[": "]", '{"a":': "}", '[{"jpg":': "}]"}[opener]
    text = opener * depth + "1" + closer * depth
    _check('["jpg"]', text, "a.png")
    _check(text, None, "a.png")
