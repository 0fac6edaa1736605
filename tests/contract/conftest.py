"""Contract fixtures: a real store per test (the backends and the serve process are in the test module)."""

from __future__ import annotations

import pytest

from pixtools_desktop.core.store import JobStore


@pytest.fixture
def store(tmp_path):
    s = JobStore(tmp_path / "jobs.sqlite3")
    yield s
    s.close()
