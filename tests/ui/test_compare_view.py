"""Compare view: 1:1 zoom, the denoise estimate, and re-running one photo with nudged params."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from tests.conftest import require_testdata


def test_one_to_one_button_shows_actual_pixels(qtbot):
    from pixtools_desktop.ui.compare_view import CompareView

    view = CompareView()
    qtbot.addWidget(view)
    view.resize(400, 200)
    img = QImage(800, 400, QImage.Format.Format_RGB32)
    img.fill(QColor("#336699"))
    view.set_images(img, img)
    assert view.image_rect().width() == 400  # fitted
    view.zoom_actual_pixels()
    assert view.image_rect().width() == 800 and view.image_rect().height() == 400
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert view.image_rect().width() == 400
    qtbot.keyClick(view, Qt.Key.Key_1)
    assert view.image_rect().width() == 800
    small = QImage(100, 50, QImage.Format.Format_RGB32)
    small.fill(QColor("#000000"))
    view.set_images(small, small)
    view.zoom_actual_pixels()  # smaller than the view: 1:1 shrinks it back from the fit
    assert view.image_rect().width() == 100
    view.devicePixelRatioF = lambda: 2.0  # a HiDPI screen: 1:1 is one image pixel per device pixel
    view.set_images(img, img)
    view.zoom_actual_pixels()
    assert view.image_rect().width() == 400 and view.image_rect().height() == 200  # 800 x 400 device pixels


def _finished_denoise_job(store, photo, out, info):
    from pixtools_desktop.core.jobs import OutputOptions, OutputRecord
    from pixtools_desktop.core.ops import validate_request
    from pixtools_desktop.core.store import NewJob

    req = validate_request(["denoise"], {"denoise": {"model": "ffdnet"}}, photo.name)
    [job] = store.add_jobs(
        [NewJob(str(photo), ["denoise"], req.params, OutputOptions(output_dir=str(out.parent)), "b", 1)]
    )
    claimed = store.claim_next("model")
    assert claimed.id == job.id
    rec = OutputRecord(op="denoise", path=str(out), size=out.stat().st_size, mime="image/png", info=info)
    store.complete(job.id, outputs=[rec], metadata=None, warnings=[])
    return store.get(job.id)


def test_estimate_shown_and_rerun_replaces_the_job(qtbot, tmp_path):
    from pixtools_desktop.core.jobs import JobStatus, OverwritePolicy
    from pixtools_desktop.core.runner import LocalRunner
    from pixtools_desktop.core.settings import Settings
    from pixtools_desktop.core.store import JobStore
    from pixtools_desktop.ui.add_files import run_add
    from pixtools_desktop.ui.compare_view import CompareDialog

    src = require_testdata("testsets", "Kodak24", "kodim03.png")
    photo = tmp_path / "photo.png"
    Image.open(src).crop((0, 0, 128, 96)).save(photo)
    out = tmp_path / "photo_denoise.png"
    Image.open(photo).save(out)
    info = {
        "model": "ffdnet",
        "kept": True,
        "sigma_used": 1.2,
        "sigma_source": "auto",
        "strength": 0.0,
        "noise_map": "global",
        "estimate": {"sigma": 1.2, "block": 64, "map_min": 0.8, "map_max": 1.9},
        "note": "already clean - kept",
    }
    store = JobStore(tmp_path / "jobs.db")
    try:
        job = _finished_denoise_job(store, photo, out, info)
        assert job.outputs[0].info == info  # the result survives the store round trip
        dlg = CompareDialog(str(photo), str(out), None, job=job)
        qtbot.addWidget(dlg)
        qtbot.waitUntil(lambda: not dlg.view.after.isNull(), timeout=10_000)
        nudge = dlg.nudge
        assert nudge is not None
        assert "Estimated noise σ 1.2" in nudge.summary.text() and "already clean" in nudge.summary.text()
        start = nudge.sigma.value()
        plus = next(b for b in nudge.findChildren(type(nudge.rerun_btn)) if b.text() == "σ +")
        qtbot.mouseClick(plus, Qt.MouseButton.LeftButton)
        assert nudge.sigma.value() == start + 2.0
        assert nudge.params() == {"model": "ffdnet", "strength": 1.0, "sigma": round(start + 2.0, 1)}
        with qtbot.waitSignal(dlg.rerun_requested, timeout=5000) as sig:
            qtbot.mouseClick(nudge.rerun_btn, Qt.MouseButton.LeftButton)
        req = sig.args[0]
        assert req.replace_ids == [job.id] and req.paths == [str(photo)]
        assert req.options.overwrite == OverwritePolicy.OVERWRITE
        assert req.request.params["denoise"] == {"model": "ffdnet", "strength": 1.0, "sigma": round(start + 2.0, 1)}
        result = run_add(store, LocalRunner(store, Settings()), req)  # what the window's _start_add runs
        assert result.replaced == [job.id] and len(result.jobs) == 1
        assert store.get(job.id) is None
        new = store.get(result.jobs[0].id)
        assert new.status == JobStatus.PENDING and new.params["denoise"]["sigma"] == round(start + 2.0, 1)
        # auto sigma on a re-run forces the denoise (the user asked for it)
        nudge.auto.setChecked(True)
        assert nudge.params()["sigma"] == "auto" and nudge.params()["force"] is True
        assert not nudge.sigma.isEnabled()
    finally:
        store.close()


def test_plain_compare_has_no_nudge(qtbot, tmp_path):
    from pixtools_desktop.ui.compare_view import CompareDialog

    a = tmp_path / "a.png"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(a)
    dlg = CompareDialog(str(a), str(a), None)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: not dlg.view.after.isNull(), timeout=10_000)
    assert dlg.nudge is None and dlg.actual_btn.text() == "1:1"
