"""Fixtures for RemoteBackend tests: the real `pixtools serve` helpers of tests/server."""

from __future__ import annotations

import pytest

from tests.server.serve_proc import ServeProcess

API_KEY = "remote-test-key-42"


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One shared keyed server for the remote backend tests."""
    s = ServeProcess(tmp_path_factory.mktemp("remote_serve"), api_key=API_KEY).start()
    yield s
    s.stop()


@pytest.fixture
def serve_factory(tmp_path_factory):
    started: list[ServeProcess] = []

    def make(**kwargs) -> ServeProcess:
        s = ServeProcess(tmp_path_factory.mktemp("serve"), **kwargs)
        started.append(s)
        return s.start()

    yield make
    for s in started:
        s.stop()
