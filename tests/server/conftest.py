"""Fixtures: real `pixtools serve` processes on 127.0.0.1 (see serve_proc.py)."""

from __future__ import annotations

import pytest

from tests.server.serve_proc import ServeProcess

API_KEY = "test-key-0123456789"
# Short backoff so retry tests take a second, not minutes (server/config.py reads these).
FAST_RETRY_ENV = {
    "PIXTOOLS_SERVE_WEBHOOK_RETRY_BASE_S": "0.1",
    "PIXTOOLS_SERVE_WEBHOOK_RETRY_CAP_S": "0.4",
    "PIXTOOLS_SERVE_WEBHOOK_ATTEMPTS": "4",
    "PIXTOOLS_SERVE_UPLOAD_RETRY_BASE_S": "0.1",
    "PIXTOOLS_SERVE_UPLOAD_RETRY_CAP_S": "0.4",
    "PIXTOOLS_SERVE_UPLOAD_ATTEMPTS": "3",
    "PIXTOOLS_SERVE_ALLOW_PRIVATE_WEBHOOKS": "1",  # the receivers are on 127.0.0.1
}


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory):
    """One shared server that requires API_KEY (most contract tests use it)."""
    server = ServeProcess(tmp_path_factory.mktemp("serve_keyed"), api_key=API_KEY, env=FAST_RETRY_ENV).start()
    yield server
    server.stop()


@pytest.fixture
def serve_factory(tmp_path_factory):
    """Start extra servers inside one test; all are stopped at teardown."""
    started: list[ServeProcess] = []

    def make(**kwargs) -> ServeProcess:
        kwargs["env"] = {**FAST_RETRY_ENV, **kwargs.get("env", {})}
        server = ServeProcess(tmp_path_factory.mktemp("serve"), **kwargs)
        started.append(server)
        return server.start()

    yield make
    for s in started:
        s.stop()
