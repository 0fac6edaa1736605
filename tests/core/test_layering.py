"""The core must stay importable without Qt widgets or torch (DESIGN.md: arrows point down)."""

import subprocess
import sys

CHECK = """
import sys
import pixtools_desktop
import pixtools_desktop.core.engine, pixtools_desktop.core.runner, pixtools_desktop.core.store
import pixtools_desktop.core.imaging, pixtools_desktop.core.batch, pixtools_desktop.core.health
import pixtools_desktop.cli
bad = [m for m in ("torch", "PySide6.QtWidgets", "PySide6.QtGui", "pixtools_desktop.ui") if m in sys.modules]
print(",".join(bad))
"""


def test_core_imports_no_qt_widgets_and_no_torch():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core pulled in: {out.stdout.strip()}"


def test_core_modules_do_not_import_ui_or_ml_at_module_level():
    import ast
    from pathlib import Path

    core = Path(__file__).resolve().parents[2] / "pixtools_desktop" / "core"
    offenders = []
    for py in core.rglob("*.py"):
        tree = ast.parse(py.read_text())
        for node in tree.body:  # module level only: lazy imports inside functions are the point
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for n in names:
                if n.startswith(("PySide6", "torch", "pixtools_desktop.ui", "pixtools_desktop.ml")):
                    offenders.append(f"{py.name}: {n}")
    assert not offenders, offenders
