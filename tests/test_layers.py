"""The layer contract in pyproject.toml ([tool.importlinter]) holds for the whole package."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "import-linter is not installed (it is in the `test` extra)"
    return exe


def _run(config: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    args = [_lint_imports(), "--no-cache"] + (["--config", str(config)] if config else [])
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


def test_the_layer_contract_is_kept():
    out = _run()
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 kept, 0 broken" in out.stdout


def test_the_contract_covers_every_subpackage():
    import tomllib

    layers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]["layers"]
    named = {m.strip().removeprefix("pixtools_desktop.") for layer in layers for m in layer.split("|")}
    package = ROOT / "pixtools_desktop"
    present = {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    present |= {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    assert present <= named, f"not placed in a layer: {sorted(present - named)}"


def test_a_broken_contract_fails(tmp_path):
    """The same check reports an upward import: core must not import cli (it does not; ml -> core does)."""
    config = tmp_path / "contract.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "pixtools_desktop"\n\n'
        '[[tool.importlinter.contracts]]\nname = "upside down"\ntype = "layers"\n'
        'layers = ["pixtools_desktop.core", "pixtools_desktop.ml"]\n'
    )
    out = _run(config)
    assert out.returncode != 0
    assert "BROKEN" in out.stdout or "broken" in out.stdout
