"""Issue 12 against real `pixtools serve` processes.

Host headers, 500s, idempotency, start-up, file modes, leftovers of a kill, non-ASCII download names.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.ops import validate_request
from tests.server.conftest import API_KEY
from tests.server.serve_proc import REPO, free_port
from tests.server.test_contract import KEY, png_bytes, post, wait_done

DEEP = 50_000


def test_result_urls_come_from_the_public_url_never_the_host_header(serve_factory, receiver):
    public = "https://pix.example.org:8443"
    server = serve_factory(api_key=API_KEY, extra_args=["--public-url", public])
    evil = {"Host": "attacker.invalid:8443"}
    a = post(server, headers=evil, webhook=receiver.url).json()["job_id"]  # client A lies about the host
    b = post(server).json()["job_id"]  # client B is honest
    for job_id in (a, b):
        job = wait_done(server, job_id)
        for headers in ({}, {"Host": "other.invalid"}):
            view = httpx.get(f"{server.url}/api/jobs/{job_id}", headers={**KEY, **headers}, timeout=10).json()
            assert view["result_urls"] and all(
                u.startswith(f"{public}/api/files/{job_id}/") for u in view["result_urls"].values()
            ), view
        assert job["status"].startswith("COMPLETED")
    assert receiver.wait_for(1, timeout=20)
    body = json.loads(receiver.requests[0].body)
    assert all(u.startswith(public + "/") for u in body["result_urls"].values()), body


def test_default_public_base_is_the_bound_address(serve_factory):
    server = serve_factory(api_key=API_KEY)
    job_id = post(server, headers={"Host": "attacker.invalid"}).json()["job_id"]
    job = wait_done(server, job_id)
    assert all(u.startswith(f"{server.url}/api/files/") for u in job["result_urls"].values())
    assert "attacker" not in json.dumps(job)


def test_non_ascii_signature_is_403_not_500(keyed_server):
    job_id = post(keyed_server).json()["job_id"]
    url = wait_done(keyed_server, job_id)["result_urls"]["jpg"]
    base, _, _ = url.partition("&signature=")
    for sig in ("%C3%A9", "%00", "%E2%82%AC" * 30):
        r = httpx.get(f"{base}&signature={sig}", timeout=10)
        assert r.status_code == 403, (sig, r.status_code, r.text)
    r = httpx.get(url.replace("expires=", "expires=9" * 400 + "0"), timeout=10)
    assert r.status_code == 403
    assert httpx.get(url, timeout=10).status_code == 200  # the real link still works


@pytest.mark.parametrize("field", ["operations", "operation_params"])
def test_deeply_nested_fields_are_422(keyed_server, field):
    for depth, why in ((DEEP, "is too large"), (1000, "nested too deeply")):  # size is checked first, then depth
        deep = "[" * depth + "]" * depth
        form = {"operations": deep} if field == "operations" else {"operations": '["jpg"]', "operation_params": deep}
        r = httpx.post(
            f"{keyed_server.url}/api/process",
            data=form,
            files={"file": ("p.png", png_bytes(), "image/png")},
            headers=KEY,
            timeout=30,
        )
        assert r.status_code == 422 and why in r.json()["detail"] and field in r.json()["detail"], r.text
    assert httpx.get(f"{keyed_server.url}/api/livez", timeout=5).status_code == 200


def test_cli_params_go_through_the_same_guard(tmp_path):
    with pytest.raises(ValidationError, match="too large"):
        validate_request(["jpg"], "{" * DEEP + "}" * DEEP, None)
    with pytest.raises(ValidationError, match="nested too deeply"):
        validate_request(["jpg"], '{"a":' * 5000 + "1" + "}" * 5000, None)
    src = tmp_path / "a.png"
    src.write_bytes(png_bytes())
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pixtools_desktop",
            "process",
            str(src),
            "--ops",
            "jpg",
            "--params",
            '{"jpg":' * 2000 + "1" + "}" * 2000,
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 2 and "nested too deeply" in proc.stderr and "Traceback" not in proc.stderr


def test_idempotency_key_length_and_conflicting_body(keyed_server):
    r = post(keyed_server, headers={"Idempotency-Key": "k" * 256})
    assert r.status_code == 422 and "at most 255" in r.json()["detail"]
    key = f"ok-{time.time_ns()}" + "x" * 200
    first = post(keyed_server, headers={"Idempotency-Key": key})
    assert first.status_code == 202 and "X-Idempotency-Conflict" not in first.headers
    same = post(keyed_server, headers={"Idempotency-Key": key})
    assert same.json()["job_id"] == first.json()["job_id"] and "X-Idempotency-Conflict" not in same.headers
    other = post(keyed_server, headers={"Idempotency-Key": key}, ops='["webp"]', data=png_bytes(color=(1, 2, 3)))
    assert other.status_code == 202 and other.json()["job_id"] == first.json()["job_id"]  # the contract's answer
    assert "first job" in other.headers["X-Idempotency-Conflict"]
    assert wait_done(keyed_server, first.json()["job_id"])["operations"] == ["jpg"]


def _serve_cmd(*args: str, home: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTOOLS_")}
    env["PIXTOOLS_HOME"] = str(home)
    return subprocess.Popen(
        [sys.executable, "-m", "pixtools_desktop", "serve", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_port_in_use_exits_1_with_our_sentence(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = _serve_cmd("--port", str(port), home=tmp_path)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert f"pixtools serve: cannot listen on 127.0.0.1:{port}: the port is already in use" in err


def test_ipv6_loopback_in_brackets(tmp_path):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    port = free_port()
    proc = _serve_cmd("--host", "[::1]", "--port", str(port), home=tmp_path)
    try:
        deadline = time.monotonic() + 40
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                r = httpx.get(f"http://[::1]:{port}/api/livez", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert r.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert f"PixTools API on http://[::1]:{port}" in err


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_server_files_are_private(serve_factory):
    server = serve_factory(api_key=API_KEY)
    job_id = post(server).json()["job_id"]
    wait_done(server, job_id, archive=True)
    data = server.data_dir
    dirs = [data, *[p for p in data.rglob("*") if p.is_dir()]]
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name.startswith("input.") for p in files) and any(p.suffix == ".jpg" for p in files)
    assert any(p.name == "server.sqlite3" for p in files)
    assert {str(p): oct(_mode(p)) for p in dirs if _mode(p) != 0o700} == {}
    assert {str(p): oct(_mode(p)) for p in files if _mode(p) != 0o600} == {}
    logs = list(server.home.rglob("pixtools.log*"))
    assert logs and all(_mode(p) == 0o600 for p in logs)


def test_archive_leftovers_of_a_kill_are_swept_at_start(serve_factory, tmp_path):
    server = serve_factory(api_key=API_KEY)
    server.stop()
    folder = server.data_dir / "outputs" / "killed-job"
    folder.mkdir(parents=True)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(16 * 1024 * 1024))
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys; from pathlib import Path; from pixtools_desktop.core.outputs import write_bundle\n"
                "members = [(f'a{i}.bin', Path(sys.argv[2])) for i in range(16)]\n"
                "write_bundle(Path(sys.argv[1]) / 'bundle.zip', members, tag='killed')"
            ),
            str(folder),
            str(big),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        deadline = time.monotonic() + 60
        while not list(folder.glob(".pixtools-tmp-*")):
            assert writer.poll() is None and time.monotonic() < deadline, "the archive writer ended too soon"
            time.sleep(0.01)
    finally:
        writer.kill()  # SIGKILL mid-write: no cleanup runs
        writer.wait(10)
    assert list(folder.glob(".pixtools-tmp-*")) and not (folder / "bundle.zip").exists()
    server.start()
    assert not list(folder.glob(".pixtools-tmp-*"))


def test_serve_keeps_non_ascii_names(keyed_server):
    job_id = post(keyed_server, name="Ürlaub 東京.png").json()["job_id"]
    job = wait_done(keyed_server, job_id)
    r = httpx.get(job["result_urls"]["jpg"], timeout=10)
    cd = r.headers["content-disposition"]
    assert "filename*=UTF-8''" in cd
    assert unquote(cd.split("filename*=UTF-8''")[1]) == "pixtools_jpg_Ürlaub 東京.jpg"
