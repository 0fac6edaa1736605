"""Test-wide fixtures: isolated app dirs, the shared real data, leak checks.

Every test gets its own PIXTOOLS_HOME, so no test touches a real user's
settings, database or logs. Tests that need ../shared/data skip with a reason
where it is absent, except under CI (CI=true) where they fail.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parents[1]


def testdata_root() -> Path:
    return Path(os.environ.get("PIXTOOLS_TESTDATA", REPO_ROOT.parent / "shared" / "data"))


def require_testdata(*parts: str) -> Path:
    path = testdata_root().joinpath(*parts)
    if not path.exists():
        msg = f"shared test data missing: {path} (set PIXTOOLS_TESTDATA)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


# --- shared test data: say at the start what is missing and what it skips (area: cli / set-up)
SHARED_DATA = {
    ("weights",): "DnCNN weights: every denoise test (tests/ml, the CLI Ctrl+C test, serve's denoise)",
    ("testsets", "CBSD68"): "CBSD68 photos: most engine, CLI, server, remote, cloud and window tests",
    ("testsets", "Kodak24"): "Kodak24 photos: denoise quality, the CLI rerun and Ctrl+C tests",
    ("exif",): "camera JPEGs: EXIF metadata and orientation tests",
}
_skipped_for_data: list[str] = []


def missing_shared_data() -> list[tuple[Path, str]]:
    root = testdata_root()
    return [(root.joinpath(*parts), what) for parts, what in SHARED_DATA.items() if not root.joinpath(*parts).exists()]


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"shared test data: {testdata_root()}"] if not missing_shared_data() else []


def pytest_sessionstart(session: pytest.Session) -> None:
    """The banner is written even under -q (pytest's header is not)."""
    missing = missing_shared_data()
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if not missing or tr is None:
        return
    ci = os.environ.get("CI") == "true"
    tr.write_sep("!", "SHARED TEST DATA MISSING", red=True)
    tr.write_line(f"under {testdata_root()} (set PIXTOOLS_TESTDATA; see the README's 'Test data'):")
    for path, what in missing:
        tr.write_line(f"  missing {path}  ->  {what}", red=True)
    tr.write_line(
        "  CI=true: those tests FAIL." if ci else "  Those tests are SKIPPED: a green run does not cover them."
    )
    tr.write_sep("!", red=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests that share the PyInstaller build (~4 min; marked `xdist_group("bundle")`, so
    `./dev.sh test`'s `-n auto --dist loadgroup` keeps them on one worker) go first: the build
    then overlaps the rest of the suite on the other workers."""
    bundle = [i for i in items if i.get_closest_marker("xdist_group") is not None]
    first = set(map(id, bundle))
    items[:] = bundle + [i for i in items if id(i) not in first]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and isinstance(report.longrepr, tuple) and "shared test data missing" in str(report.longrepr[2]):
        _skipped_for_data.append(report.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if _skipped_for_data:
        terminalreporter.write_sep(
            "!", f"{len(_skipped_for_data)} tests SKIPPED because shared test data is missing (see the start)", red=True
        )


@pytest.fixture(scope="session", autouse=True)
def shared_data_untouched():
    """Fail the run if any test wrote into the shared data (outputs default to *next to the input*)."""
    root = testdata_root()
    before = {p for p in root.rglob("*")} if root.exists() else set()
    yield
    if root.exists():
        added = sorted(str(p) for p in set(root.rglob("*")) - before)
        for p in reversed(added):  # clean up so the next run starts from the real data
            (Path(p).rmdir if Path(p).is_dir() else Path(p).unlink)()
        assert not added, f"tests wrote into the shared data: {added}"


@pytest.fixture
def testdata() -> Path:
    return require_testdata()


@pytest.fixture(autouse=True)
def pixtools_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("pixtools_home")
    monkeypatch.setenv("PIXTOOLS_HOME", str(home))
    for name in list(os.environ):
        if name.startswith("PIXTOOLS_") and name not in (
            "PIXTOOLS_HOME",
            "PIXTOOLS_TESTDATA",
            "PIXTOOLS_UPDATE_SCREENSHOT",
        ):
            monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail a test that leaves a Python thread running (napari-style).

    Threads Python did not start (Qt's pool and QThreads, seen as `_DummyThread`s
    that never end) are skipped here: tests/ui/conftest.py checks those the Qt way."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while True:
        leaked = [
            t
            for t in threading.enumerate()
            if t not in before
            and t.is_alive()
            and not t.name.startswith(("ThreadPoolExecutor", "asyncio", "QDBus"))
            and not isinstance(t, threading._DummyThread)  # type: ignore[attr-defined]
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"test left threads running: {[t.name for t in leaked]}"


@pytest.fixture(scope="session")
def seaweed():
    """One real S3 server (SeaweedFS `weed mini`) on 127.0.0.1 for the whole run; removed at the end."""
    import shutil
    import tempfile

    from tests.cloud.cloud_servers import Seaweed

    root = Path(tempfile.mkdtemp(prefix="pixtools-weed-"))
    server = Seaweed(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Credentials only through the standard AWS_* variables; no ~/.aws, no instance metadata."""
    from pixtools_desktop.cloud import s3
    from tests.cloud.cloud_servers import ACCESS_KEY, SECRET_KEY

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    s3.clear_client_cache()
    yield
    s3.clear_client_cache()


@pytest.fixture
def receiver():
    """A real, scriptable webhook endpoint on 127.0.0.1 (tests/cloud/cloud_servers.py), stopped after the test."""
    from tests.cloud.cloud_servers import start_receiver, stop_receiver

    rec, server, thread = start_receiver()
    try:
        yield rec
    finally:
        stop_receiver(rec, server, thread)
