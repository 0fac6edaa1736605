"""CLI fixtures: run the real `pixtools` entry point in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_testdata


@pytest.fixture
def run_cli(pixtools_home):
    def run(*args: str, timeout: float = 120, env: dict | None = None, check: bool = False):
        e = {**os.environ, "PIXTOOLS_HOME": str(pixtools_home), **(env or {})}
        proc = subprocess.run([sys.executable, "-m", "pixtools_desktop", *args], capture_output=True, text=True,
                              timeout=timeout, env=e)
        if check and proc.returncode != 0:
            raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


@pytest.fixture
def photo_dir(tmp_path) -> Path:
    """A folder of real photos (CBSD68 crops) with a sub-folder."""
    from PIL import Image

    src = require_testdata("testsets", "CBSD68")
    d = tmp_path / "photos dir é"
    (d / "sub").mkdir(parents=True)
    for i, p in enumerate(sorted(src.glob("*.png"))[:6]):
        target = d / ("sub" if i >= 4 else "") / f"photo {i}.png"
        Image.open(p).crop((0, 0, 160, 120)).save(target)
    (d / "notes.txt").write_text("not an image")
    return d


def parse_json(stdout: str) -> dict:
    return json.loads(stdout)
