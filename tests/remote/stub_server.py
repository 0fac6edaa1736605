"""A loopback PixTools API stub that accepts jobs and never finishes them (upstream's lost-job case)."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StallingServer:
    """POST /api/process answers 202; GET /api/jobs/{id} answers `status` forever; /api/health is healthy."""

    def __init__(self, status: str = "PENDING") -> None:
        self.status = status
        self.keys: list[str | None] = []
        self.polls = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with stub._lock:
                    stub.keys.append(self.headers.get("Idempotency-Key"))
                self._json(202, {"job_id": str(uuid.uuid4()), "status": "PENDING"})

            def do_GET(self) -> None:
                if self.path.startswith("/api/jobs/"):
                    with stub._lock:
                        stub.polls += 1
                    job_id = self.path.rsplit("/", 1)[1]
                    self._json(
                        200,
                        {
                            "job_id": job_id,
                            "status": stub.status,
                            "operations": ["jpg"],
                            "result_urls": {},
                            "archive_url": None,
                            "metadata": {},
                            "error_message": None,
                            "created_at": "2026-01-01T00:00:00Z",
                        },
                    )
                elif self.path.startswith("/api/health"):
                    self._json(200, {"status": "healthy", "dependencies": {"database": "ok"}})
                else:
                    self._json(404, {"detail": "Not Found"})

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-stalling-server"
        )

    def __enter__(self) -> StallingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
