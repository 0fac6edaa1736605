"""A real `pixtools serve` child process for tests: own PIXTOOLS_HOME, free port, bounded start/stop.

Output goes to a log file (no reader threads to leak); stop() terminates
and, if needed, kills, so no test leaves a server behind.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import testdata_root

REPO = Path(__file__).resolve().parents[2]
WEIGHTS = testdata_root() / "weights"  # PIXTOOLS_TESTDATA, as every other test reads it
START_TIMEOUT_S = 40.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcess:
    def __init__(
        self,
        home: Path,
        *,
        api_key: str | None = None,
        port: int | None = None,
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.home = home
        self.api_key = api_key
        self.port = port or free_port()
        self.extra_args = extra_args or []
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = home / f"serve-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.home / "data" / "server"

    def start(self) -> ServeProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTOOLS_")}
        env.update(PIXTOOLS_HOME=str(self.home), PYTHONUNBUFFERED="1", PIXTOOLS_DENOISE_THREADS="2")
        if WEIGHTS.exists():
            env["PIXTOOLS_WEIGHTS"] = str(WEIGHTS)
        if self.api_key:
            env["PIXTOOLS_API_KEY"] = self.api_key
        env.update(self.extra_env)
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pixtools_desktop", "serve", "--port", str(self.port), *self.extra_args],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pixtools serve exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/api/livez", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"pixtools serve did not come up in {START_TIMEOUT_S} s:\n{self.log()}")

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        return proc.returncode

    def restart(self) -> ServeProcess:
        self.stop()
        return self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""
