"""Fixtures: real `pixtools serve` processes on 127.0.0.1 (see serve_proc.py)."""

from __future__ import annotations

import pytest
from tests.server.serve_proc import ServeProcess

API_KEY = "test-key-0123456789"


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory):
    """One shared server that requires API_KEY (most contract tests use it)."""
    server = ServeProcess(tmp_path_factory.mktemp("serve_keyed"), api_key=API_KEY).start()
    yield server
    server.stop()


@pytest.fixture
def serve_factory(tmp_path_factory):
    """Start extra servers inside one test; all are stopped at teardown."""
    started: list[ServeProcess] = []

    def make(**kwargs) -> ServeProcess:
        server = ServeProcess(tmp_path_factory.mktemp("serve"), **kwargs)
        started.append(server)
        return server.start()

    yield make
    for s in started:
        s.stop()
