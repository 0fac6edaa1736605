"""Operations panel and settings controls added after the merge: denoise model/sigma/noise map,
"Enlarge small photos", the Web preset's 1920 px box, auto-start in Settings, a running job's note."""

from __future__ import annotations

import threading
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt

from pixtools_desktop.core.jobs import JobStatus
from tests.ui.conftest import choose, wait_idle


def _select(panel, name: str) -> None:
    panel.preset_combo.setCurrentText(name)
    assert panel.preset_combo.currentText() == name


def test_denoise_model_sigma_and_noise_map_reach_the_queued_job(make_window, qtbot, photos):
    w = make_window()
    panel = w.ops_panel
    d = panel.denoise
    _select(panel, "Denoise")
    # The shipped preset's values show as the controls' state, and the panel still counts as that preset.
    assert (d.model.currentData(), d.sigma_auto.isChecked()) == ("auto", True)
    assert not d.sigma.isEnabled() and not d.noise_map.isEnabled()  # auto sigma; noise map is FFDNet's
    assert panel.current_request().params["denoise"]["sigma"] == "auto"
    assert panel._matches(panel.current_preset("x"), *panel.current_ops_params())
    assert panel.preset_combo.currentText() == "Denoise"

    d.model.setCurrentIndex(d.model.findData("ffdnet"))
    assert panel.preset_combo.currentText() == "(custom)"  # no longer the preset's values
    assert d.noise_map.isEnabled()
    d.sigma_auto.setChecked(False)
    assert d.sigma.isEnabled()
    d.sigma.setValue(30)
    d.noise_map.setCurrentIndex(d.noise_map.findData("local"))
    params = panel.current_request().params["denoise"]
    assert (params["model"], params["sigma"], params["noise_map"]) == ("ffdnet", 30.0, "local")

    one = sorted(Path(photos).glob("*.png"))[0]
    assert w.add_paths([str(one)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=10000)
    job = w.store.get(w.model.job_id(0))
    assert {k: job.params["denoise"][k] for k in ("model", "sigma", "noise_map")} == {
        "model": "ffdnet",
        "sigma": 30.0,
        "noise_map": "local",
    }

    # Back to the preset: every control returns to its values (auto sigma, auto model, no noise map sent).
    _select(panel, "Denoise")
    assert d.sigma_auto.isChecked() and d.model.currentData() == "auto"
    assert "noise_map" not in panel.current_request().params["denoise"]


def test_enlarge_tick_and_the_web_preset_box(make_window, qtbot, tmp_path):
    """Web fits a 1920 box (tall photos too) and never enlarges; the tick sends resize.enlarge."""
    tall, small = tmp_path / "tall.png", tmp_path / "small.png"
    Image.new("RGB", (1200, 3000), (120, 90, 60)).save(tall)
    Image.new("RGB", (100, 68), (20, 140, 60)).save(small)
    w = make_window()
    panel = w.ops_panel
    _select(panel, "Web (WebP 80, 1920 px)")
    assert (panel.resize_w.value(), panel.resize_h.value()) == (1920, 1920)
    assert not panel.resize_enlarge.isChecked() and panel.resize_enlarge.isEnabled()
    panel.output_dir.setText(str(tmp_path / "out"))
    assert w.add_paths([str(tall), str(small)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 2, timeout=10000)
    w.start()
    wait_idle(qtbot, w, timeout=60000)
    sizes = {}
    for job in w.store.list_jobs():
        assert job.status == JobStatus.COMPLETED, job.error_message
        with Image.open(job.outputs[0].path) as im:
            sizes[Path(job.input_path).name] = im.size
    assert sizes == {"tall.png": (768, 1920), "small.png": (100, 68)}

    panel.resize_enlarge.setChecked(True)
    assert panel.preset_combo.currentText() == "(custom)"
    assert panel.current_request().params["webp"]["resize"] == {"width": 1920, "height": 1920, "enlarge": True}
    panel.resize_check.setChecked(False)
    assert not panel.resize_enlarge.isEnabled()


def test_settings_dialog_saves_auto_start_and_default_model(make_window, qtbot):
    import json

    from pixtools_desktop.core import paths
    from pixtools_desktop.ui.settings_dialog import SettingsDialog

    w = make_window()
    w.open_settings()
    [dlg] = [x for x in w.findChildren(SettingsDialog) if x.isVisible()]
    assert dlg.auto_start.text() == "Start new photos at once" and not dlg.auto_start.isChecked()
    assert dlg.model.currentData() == "auto"
    dlg.auto_start.setChecked(True)
    dlg.model.setCurrentIndex(dlg.model.findData("ffdnet"))
    dlg.accept()
    qtbot.waitUntil(lambda: not [x for x in w.findChildren(SettingsDialog) if x.isVisible()])
    saved = json.loads((paths.config_dir() / "settings.json").read_text())
    assert saved["auto_start"] is True and saved["denoise_model"] == "ffdnet"
    w.open_settings()  # and it loads back
    [dlg] = [x for x in w.findChildren(SettingsDialog) if x.isVisible()]
    assert dlg.auto_start.isChecked() and dlg.model.currentData() == "ffdnet"
    dlg.reject()
    qtbot.waitUntil(lambda: not [x for x in w.findChildren(SettingsDialog) if x.isVisible()])


def test_running_job_shows_the_servers_stall_note(make_window, qtbot, photos):
    """The remote backend writes "Waiting on the server at …" into a running job and emits a status event."""
    w = make_window()
    choose(w, ["png"])
    one = sorted(Path(photos).glob("*.png"))[0]
    assert w.add_paths([str(one)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=10000)
    jid = w.model.job_id(0)
    note = "Waiting on the server at http://127.0.0.1:9: not finished after 2 min (stops waiting after 5 min)."
    w.store.set_status(jid, JobStatus.PROCESSING)
    w.store.update_fields(jid, error_message=note)
    t = threading.Thread(target=w.bridge.listener, args=("status", jid, w.store.get(jid)), name="fake-remote-worker")
    t.start()  # from a worker thread, as the backend does
    t.join()
    qtbot.waitUntil(lambda: w.model.status_of(jid) == "PROCESSING", timeout=5000)
    row = w.model.row_of(jid)
    tips = {w.model.data(w.model.index(row, c), Qt.ItemDataRole.ToolTipRole) for c in range(w.model.columnCount())}
    assert tips == {f"{one.name}: {note}"}
    shown = [w.model.data(w.model.index(row, c)) for c in range(w.model.columnCount())]
    assert note in shown
