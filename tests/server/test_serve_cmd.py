"""`pixtools serve` refuses unsafe configurations before binding anything."""

from __future__ import annotations

import os
import subprocess
import sys

from pixtools_desktop.server.config import is_loopback


def _serve(*args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "PIXTOOLS_API_KEY"}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "pixtools_desktop", "serve", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_non_loopback_without_key_is_refused():
    proc = _serve("--host", "0.0.0.0", "--port", "1")
    assert proc.returncode == 2
    assert "refusing to listen on 0.0.0.0 without an API key" in proc.stderr


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and is_loopback("127.5.0.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.com")
