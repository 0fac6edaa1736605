"""Shared test data for the imaging tests.

The real files live beside the project (never in it): `PIXTOOLS_TESTDATA`, or
`../shared/data` from the repository root. Missing data skips these tests on
a developer machine but fails them under CI (`CI=true`), so a CI run can
never go green by silently testing nothing. Each file is checked against its
folder's SHA256SUMS before a test trusts it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


def testdata_dir() -> Path:
    override = os.environ.get("PIXTOOLS_TESTDATA")
    return Path(override) if override else (REPO_ROOT / ".." / "shared" / "data").resolve()


@cache
def _checksums(root: Path) -> dict[Path, str]:
    """Every SHA256SUMS under `root`, keyed by resolved file path. Entries are
    relative to the SHA256SUMS folder or to the data root: accept both."""
    sums: dict[Path, str] = {}
    for listing in root.glob("*/SHA256SUMS"):
        for line in listing.read_text().splitlines():
            if not line.strip():
                continue
            digest, name = line.split(maxsplit=1)
            name = name.lstrip("*")
            for base in (listing.parent, root):
                candidate = (base / name).resolve()
                if candidate.exists():
                    sums[candidate] = digest
                    break
    return sums


@pytest.fixture(scope="session")
def testdata() -> Path:
    root = testdata_dir()
    if not (root / "exif").is_dir():
        message = f"shared test data not found at {root} (set PIXTOOLS_TESTDATA)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def data_file(testdata: Path) -> Callable[[str], Path]:
    """`data_file("exif/jpg/Canon_40D.jpg")`: the path, checksum-verified."""
    verified: set[Path] = set()

    def get(relative: str) -> Path:
        path = (testdata / relative).resolve()
        if path not in verified:
            expected = _checksums(testdata).get(path)
            assert expected is not None, f"{relative} is not listed in any SHA256SUMS"
            actual = hashlib.sha256(path.read_bytes()).hexdigest()
            assert actual == expected, f"{relative} does not match its SHA256SUMS entry"
            verified.add(path)
        return path

    return get
