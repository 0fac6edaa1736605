"""`pixtools process --backend URL` end to end, and the remote line of the health report."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from PIL import Image

from pixtools_desktop.core.settings import Settings
from pixtools_desktop.remote.health import check_remote
from pixtools_desktop.remote.secrets import resolve_api_key, save_api_key
from pixtools_desktop.wiring import health_report
from tests.remote.conftest import API_KEY
from tests.remote.helpers import make_png
from tests.server.serve_proc import free_port


def _cli(args, home, **env):
    e = {k: v for k, v in os.environ.items() if not k.startswith("PIXTOOLS_")}
    e.update(PIXTOOLS_HOME=str(home), PIXTOOLS_POLL_INTERVAL="0.05", **env)
    return subprocess.run(
        [sys.executable, "-m", "pixtools_desktop", *args], capture_output=True, text=True, timeout=120, env=e
    )


def test_process_with_backend_json(server, tmp_path):
    a = make_png(tmp_path / "one.png")
    b = make_png(tmp_path / "two.png", color=(250, 10, 10))
    bad = tmp_path / "three.png"
    bad.write_text("<html>not a photo</html>")
    out = tmp_path / "out"
    proc = _cli(
        [
            "process",
            str(a),
            str(b),
            str(bad),
            "--ops",
            "webp,metadata",
            "--backend",
            server.url,
            "--out",
            str(out),
            "--json",
        ],
        tmp_path / "home",
        PIXTOOLS_API_KEY=API_KEY,
    )
    assert proc.returncode == 1, proc.stderr  # one file failed: same exit code as a local run
    summary = json.loads(proc.stdout)
    assert summary["done"] == 2 and summary["failed"] == 1
    by_name = {os.path.basename(j["input"]): j for j in summary["jobs"]}
    assert by_name["three.png"]["status"] == "FAILED"
    assert "this file is a web page (HTML)" in by_name["three.png"]["error_message"]
    for name in ("one.png", "two.png"):
        j = by_name[name]
        assert j["status"] == "COMPLETED" and j["backend"] == server.url and j["remote_job_id"]
        assert Image.open(j["outputs"][0]["path"]).format == "WEBP" and j["metadata"] is not None
    assert sorted(p.name for p in out.iterdir()) == ["one_webp.webp", "two_webp.webp"]


def test_process_backend_from_env_and_wrong_key(server, tmp_path):
    a = make_png(tmp_path / "x.png")
    proc = _cli(
        ["process", str(a), "--ops", "jpg", "--api-key", "nope"], tmp_path / "home", PIXTOOLS_BACKEND_URL=server.url
    )
    assert proc.returncode == 1
    assert "The server rejected the API key (401)" in proc.stdout
    assert "nope" not in proc.stdout + proc.stderr


def test_health_reports_remote(server, tmp_path, pixtools_home):
    assert check_remote(Settings()) == {"remote": "not configured"}
    save_api_key(server.url, API_KEY)
    assert oct((pixtools_home / "config" / "remote_keys.json").stat().st_mode & 0o777) == "0o600"
    assert resolve_api_key(server.url) == API_KEY
    s = Settings(backend="remote", backend_url=server.url + "/")
    assert check_remote(s) == {"remote": "ok"}
    report = health_report(s)
    assert report["dependencies"]["remote"] == "ok"
    down = Settings(backend="remote", backend_url=f"http://127.0.0.1:{free_port()}")
    assert check_remote(down)["remote"].startswith("unhealthy: Cannot reach the server at http://127.0.0.1:")
    assert health_report(down)["status"] == "unhealthy"
