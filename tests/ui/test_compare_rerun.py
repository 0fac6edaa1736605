"""The compare dialog's "Re-run this photo" in the real window: the job is replaced and the output made again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from pixtools_desktop.core.jobs import JobStatus
from tests.conftest import require_testdata
from tests.ui.conftest import choose, wait_idle


def test_rerun_from_compare_replaces_the_job_and_writes_the_output_again(make_window, qtbot, tmp_path, monkeypatch):
    weights = require_testdata("weights")
    try:
        import pixtools_desktop.ml  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"ML layer missing: {exc}")
    monkeypatch.setenv("PIXTOOLS_WEIGHTS", str(weights))
    from pixtools_desktop.ui.compare_view import CompareDialog

    src = require_testdata("testsets", "Kodak24", "kodim03.png")
    with Image.open(src) as im:
        clean = np.asarray(im.convert("RGB").crop((200, 150, 296, 222)), dtype=np.float32)
    noisy = clean + np.random.default_rng(3).normal(0, 25, clean.shape)  # visibly noisy: not "already clean"
    photo = tmp_path / "photo.png"
    Image.fromarray(np.clip(noisy + 0.5, 0, 255).astype(np.uint8)).save(photo)

    w = make_window()
    choose(w, ["denoise"])
    w.ops_panel.output_dir.setText(str(tmp_path / "out"))
    assert w.add_paths([str(photo)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=10000)
    w.start()
    wait_idle(qtbot, w, timeout=180000)
    first = w.store.get(w.model.job_id(0))
    assert first.status == JobStatus.COMPLETED, first.error_message
    out = Path(first.outputs[0].path)
    assert out.exists()

    w.table.selectRow(0)
    qtbot.waitUntil(
        lambda: (
            w.results.job is not None
            and w.results.compare_btn is not None
            and w.results.compare_btn.isVisibleTo(w.results)
        ),
        timeout=10000,
    )
    qtbot.mouseClick(w.results.compare_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in w.findChildren(CompareDialog)), timeout=10000)
    [dlg] = [d for d in w.findChildren(CompareDialog) if d.isVisible()]
    assert dlg.nudge is not None
    qtbot.waitUntil(lambda: not dlg.view.after.isNull(), timeout=10000)
    out.unlink()  # the re-run must make it again
    nudge = dlg.nudge
    nudge.model.setCurrentIndex(nudge.model.findData("ffdnet"))
    nudge.auto.setChecked(False)
    nudge.sigma.setValue(20.0)
    qtbot.mouseClick(nudge.rerun_btn, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: w.model.rowCount() == 1 and w.model.job_id(0) != first.id, timeout=10000)
    assert w.store.get(first.id) is None  # replaced, not added beside it
    qtbot.waitUntil(lambda: w.model.status_of(w.model.job_id(0)) == "COMPLETED", timeout=180000)
    wait_idle(qtbot, w, timeout=30000)
    again = w.store.get(w.model.job_id(0))
    assert again.params["denoise"]["model"] == "ffdnet" and again.params["denoise"]["sigma"] == 20.0
    assert Path(again.outputs[0].path) == out and out.exists()  # same name, overwritten in place
    with Image.open(out) as im:
        assert im.size == (96, 72)
    assert again.outputs[0].info["model"] == "ffdnet"
