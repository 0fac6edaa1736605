"""Issue 12.5: planted secrets never reach a log or a database file (server and client side).

Real processes: a `pixtools serve` in S3 mode against SeaweedFS (presigned
URLs), one without S3 (our HMAC-signed URLs), a webhook URL carrying
`user:password@` and `?token=`, and a `pixtools process --backend` client
that downloads the presigned results. Afterwards every log and database file
under their homes is searched for each secret.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

from tests.remote.helpers import make_png
from tests.server.conftest import API_KEY
from tests.server.serve_proc import REPO
from tests.server.test_contract import post, wait_done
from tests.server.test_s3_mode import poll_until_final, s3_env

HOOK_PASSWORD = "Hook-Pass-7731q"
HOOK_TOKEN = "Tok-99XyZ-secret"


def _secret_files(home: Path) -> list[Path]:
    found = [
        p
        for p in home.rglob("*")
        if p.is_file() and (".log" in p.name or "sqlite" in p.name or p.suffix in (".db", ".json"))
    ]
    assert any("sqlite" in p.name for p in found) and any(".log" in p.name for p in found), found
    return found


def test_no_secret_in_any_log_or_database(serve_factory, seaweed, receiver, tmp_path):
    s3_home = tmp_path / "s3home"
    s3 = serve_factory(api_key=API_KEY, env=s3_env(s3_home, seaweed.endpoint))
    plain = serve_factory(api_key=API_KEY)
    port = receiver.url.split(":")[2].split("/")[0]
    hook = f"http://hookuser:{HOOK_PASSWORD}@127.0.0.1:{port}/hooks/pixtools?token={HOOK_TOKEN}"

    r = post(s3, webhook=hook, ops='["jpg","webp"]')
    assert r.status_code == 202, r.text
    job, _ = poll_until_final(s3, r.json()["job_id"], archive=True)
    secrets = {HOOK_PASSWORD, HOOK_TOKEN}
    for url in [*job["result_urls"].values(), job["archive_url"]]:
        secrets.add(parse_qs(urlparse(url).query)["X-Amz-Signature"][0])
    assert receiver.wait_for(1, timeout=30)
    sent = receiver.requests[0]
    assert sent.path.endswith(f"token={HOOK_TOKEN}") and sent.headers["Authorization"].startswith("Basic ")

    plain_job = wait_done(plain, post(plain, webhook=hook).json()["job_id"])
    signed = plain_job["result_urls"]["jpg"]
    secrets.add(parse_qs(urlparse(signed).query)["signature"][0])
    assert httpx.get(signed, timeout=10).status_code == 200
    assert receiver.wait_for(2, timeout=30)

    client_home = tmp_path / "client"
    src = make_png(tmp_path / "pic.png")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTOOLS_")}
    env.update(PIXTOOLS_HOME=str(client_home), PIXTOOLS_API_KEY=API_KEY, PIXTOOLS_POLL_INTERVAL="0.05")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pixtools_desktop",
            "-v",
            "process",
            str(src),
            "--ops",
            "jpg,webp",
            "--backend",
            s3.url,
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    secrets.add(API_KEY)
    s3.stop()
    plain.stop()

    leaks = {}
    for home in (s3.home, plain.home, client_home):
        for path in _secret_files(home):
            data = path.read_bytes()
            hits = sorted(s for s in secrets if s.encode() in data)
            if hits:
                leaks[str(path)] = hits
    assert leaks == {}
