"""Parts of the window: the 10,000-job model, compare view, theme, presets, settings, denoise lane."""

from __future__ import annotations

import http.server
import json
import re
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from tests.conftest import require_testdata
from tests.ui.conftest import choose, wait_idle


def test_ten_thousand_jobs_update_by_row_without_reset(qtbot, tmp_path):
    from pixtools_desktop.core.store import JobStore, NewJob
    from pixtools_desktop.ui.queue_model import COL_STATUS, QueueModel
    from pixtools_desktop.ui.queue_view import QueueView

    with JobStore(tmp_path / "jobs.sqlite3") as store:
        store.add_jobs([NewJob(f"/photos/img_{i:05d}.jpg", ["webp"], seq=i) for i in range(10_000)])
        model = QueueModel(store)
        view = QueueView()
        qtbot.addWidget(view)
        view.setModel(model)
        view.resize(900, 600)
        view.show()
        assert model.rowCount() == 10_000
        assert [model.data(model.index(r, 0)) for r in range(3)] == ["img_00000.jpg", "img_00001.jpg", "img_00002.jpg"]
        resets, changes = [], []
        model.modelReset.connect(lambda: resets.append(1))
        model.dataChanged.connect(lambda a, b, roles=(): changes.append((a.row(), b.row())))
        target = model.job_id(5000)
        for i in range(200):  # a flood of progress for one job and a finish for another
            model.apply_progress(target, i / 200)
        model.queue_update(model.job_id(5001), status="COMPLETED", progress=1.0)
        qtbot.waitUntil(lambda: bool(changes))
        assert resets == []
        assert changes == [(5000, 5001)]  # coalesced into one contiguous run
        assert model.data(model.index(5001, COL_STATUS)) == "Done"
        assert model.counts["COMPLETED"] == 1 and model.counts["PENDING"] == 9_999
        model.remove_ids([model.job_id(0), model.job_id(9_999)])
        assert model.rowCount() == 9_998 and resets == []
        assert model.row_of(target) == 4999
        model.stop()


def test_compare_view_paints_before_left_and_after_right(qtbot):
    from pixtools_desktop.ui.compare_view import CompareView

    before = QImage(200, 100, QImage.Format.Format_RGB32)
    before.fill(QColor("#FF0000"))
    after = QImage(200, 100, QImage.Format.Format_RGB32)
    after.fill(QColor("#0000FF"))
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(400, 200)
    view.set_images(before, after)
    img = view.grab().toImage()
    assert img.pixelColor(60, 150).name() == "#ff0000"
    assert img.pixelColor(340, 150).name() == "#0000ff"
    view.set_split(0.9)
    assert view.grab().toImage().pixelColor(300, 150).name() == "#ff0000"
    view.setFocus()
    from PySide6.QtTest import QTest

    QTest.keyClick(view, Qt.Key.Key_Plus)
    assert view.zoom == pytest.approx(1.25)
    QTest.keyClick(view, Qt.Key.Key_0)
    assert view.zoom == 1.0


def test_theme_fills_every_token_and_meets_aa_contrast():
    from pixtools_desktop.ui import theme

    for name in theme.THEMES:
        css = theme.stylesheet(name)
        assert "@" not in css.replace("@palette", ""), f"unfilled token in {name}"
        p = theme.palette(name)
        for fg, bg in (
            ("text", "bg"),
            ("text", "surface"),
            ("text", "alt"),
            ("muted", "bg"),
            ("muted", "surface"),
            ("accent_text", "accent"),
            ("danger_text", "danger"),
            ("select_text", "select"),
            ("bg", "ink"),
            ("text", "fail_row"),
            ("fail_text", "fail_row"),
            ("text", "track"),
            ("status_text", "status_bg"),
            ("disabled_text", "disabled_bg"),
        ):
            assert theme.contrast_ratio(p[fg], p[bg]) >= 4.5, (name, fg, bg)
        for fill in ("lime", "cyan", "pink", "warn", "accent"):  # dark ink on every bright fill, both themes
            assert theme.contrast_ratio("#111111", p[fill]) >= 4.5, (name, fill)
        assert theme.contrast_ratio(p["focus"], p["bg"]) >= 3.0, name  # a focus ring you can see (WCAG 1.4.11)
        # Arrows and check marks are real images, present in resources/.
        urls = re.findall(r'url\("([^"]+)"\)', css)
        assert urls and all(Path(u).is_file() for u in urls), urls
        for rule in (
            "QComboBox::down-arrow",
            "QSpinBox::up-arrow",
            "QLineEdit:disabled",
            "QPushButton:disabled",
            "QCheckBox::indicator:disabled",
            "QMessageBox",
            "QFileDialog",
            "QMenu",
            "QToolTip",
            "QComboBox QAbstractItemView",
            "QStatusBar",
        ):
            assert rule in css, rule
        # The catch-all transparent rule comes before the opaque top-level ones (X11 draws transparent black).
        assert css.index("QWidget { background: transparent; }") < css.index("QMainWindow, QDialog, QMessageBox")
    assert theme.stylesheet("light") != theme.stylesheet("dark")


def test_presets_saved_edited_deleted_and_restored(make_window):
    w = make_window()
    panel = w.ops_panel
    names = [panel.preset_combo.itemText(i) for i in range(panel.preset_combo.count())]
    assert {"Web (WebP 80, 1920 px)", "Denoise", "Archive (PNG + metadata)"} <= set(names)
    choose(w, ["jpg", "metadata"], quality=67)
    assert panel.preset_combo.currentText() == "(custom)"
    assert panel.save_current_as("Small JPG")
    panel.quality.setValue(55)
    panel.preset_combo.setCurrentText("Small JPG")  # reselect, then edit
    panel.quality.setValue(58)
    panel.save_current_as("Small JPG")
    w.shutdown()
    w.close()

    w2 = make_window()
    p2 = w2.ops_panel
    p2.preset_combo.setCurrentText("Small JPG")
    assert p2.op_checks["jpg"].isChecked() and p2.op_checks["metadata"].isChecked()
    assert p2.quality.value() == 58
    assert p2.delete_preset_btn.isEnabled()
    p2.delete_preset_btn.click()
    assert p2.preset_combo.findText("Small JPG") == -1
    p2.preset_combo.setCurrentText("Denoise")
    assert not p2.delete_preset_btn.isEnabled()  # shipped presets stay


def test_settings_dialog_one_processing_page_saves_what_was_chosen(make_window, qtbot):
    """One page for "where jobs run"; Test connection probes a real server; OK saves exactly what was set."""
    from pixtools_desktop.core.settings import load_settings
    from pixtools_desktop.ui.settings_dialog import SettingsDialog

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"status": "healthy", "dependencies": {"database": "ok"}}).encode()
            self.send_response(200 if self.path == "/api/health" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    t = threading.Thread(target=server.serve_forever, name="health-server", daemon=True)
    t.start()
    try:
        w = make_window()
        w.open_settings()  # as Ctrl+, does
        [dlg] = [d for d in w.findChildren(SettingsDialog) if d.isVisible()]
        titles = [dlg.tabs.tabText(i) for i in range(dlg.tabs.count())]
        assert titles[:4] == ["Output", "Processing", "Denoise", "Appearance"]
        assert "Backend" not in titles and "Remote" not in titles  # one page for one choice
        page = dlg.page("Processing")
        url = f"http://127.0.0.1:{server.server_port}"
        page.url.setText(url)
        page.test_button.click()
        qtbot.waitUntil(lambda: page.test_button.isEnabled(), timeout=15000)
        assert page.result.text() == "Connected: the server is healthy."
        dlg.naming.setText("{nope}")
        dlg.accept()
        assert "unknown placeholder" in dlg.naming_error.text() and dlg.isVisible()
        dlg.naming.setText("{stem}_{op}_{n}.{ext}")
        dlg.theme.setCurrentText("dark")
        dlg.device.setCurrentText("cpu")
        dlg.threads.setValue(3)
        dlg.notifications.setChecked(False)
        page.remote_radio.setChecked(True)
        dlg.accept()
        qtbot.waitUntil(lambda: not [d for d in w.findChildren(SettingsDialog) if d.isVisible()])
        s = load_settings()  # what was saved, read back from settings.json
        assert (s.naming_template, s.theme, s.denoise_device, s.denoise_threads, s.notifications) == (
            "{stem}_{op}_{n}.{ext}",
            "dark",
            "cpu",
            3,
            False,
        )
        assert (s.backend, s.backend_url) == ("remote", url)
        assert w.ops_panel.naming.text() == "{stem}_{op}_{n}.{ext}"
        # Switching back to this computer on the same page is saved too (nothing else overrides it).
        w.open_settings()
        [dlg] = [d for d in w.findChildren(SettingsDialog) if d.isVisible()]
        assert dlg.page("Processing").remote_radio.isChecked()
        dlg.page("Processing").local_radio.setChecked(True)
        dlg.accept()
        qtbot.waitUntil(lambda: not [d for d in w.findChildren(SettingsDialog) if d.isVisible()])
        assert load_settings().backend == "local"
    finally:
        server.shutdown()
        server.server_close()
        t.join(5)


def test_health_dialog_reports_off_the_gui_thread(make_window, qtbot):
    from pixtools_desktop.ui.health_panel import HealthDialog

    w = make_window()
    dlg = HealthDialog(w.settings, w)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.report is not None, timeout=60000)
    assert dlg.report["dependencies"]["database"] == "ok"
    assert dlg.tree.topLevelItemCount() == len(dlg.report["dependencies"])
    dlg.accept()


def test_denoise_runs_on_the_model_thread(make_window, qtbot, tmp_path, monkeypatch):
    weights = require_testdata("weights")
    try:
        import pixtools_desktop.ml  # noqa: F401 - only asks whether the ML layer imports
    except ImportError as exc:
        pytest.skip(f"ML layer missing: {exc}")
    monkeypatch.setenv("PIXTOOLS_WEIGHTS", str(weights))
    from PIL import Image

    src = sorted(require_testdata("testsets", "CBSD68").glob("*.png"))[0]
    small = tmp_path / "noisy.png"
    with Image.open(src) as im:
        im.crop((0, 0, 160, 120)).save(small)
    import threading

    from pixtools_desktop.core.runner import LocalRunner
    from pixtools_desktop.core.settings import load_settings
    from pixtools_desktop.wiring import denoiser_factory as real_denoiser_factory

    threads = []

    def factory(settings):
        threads.append(threading.current_thread())
        return real_denoiser_factory(settings)

    settings = load_settings()
    settings.denoise_tile = 64  # several tiles: per-tile progress
    w = make_window(settings=settings)
    w.backend.stop()
    sched = LocalRunner(w.store, settings, denoiser_factory=factory)
    w.queue.install_backend(sched)
    sched.pause()
    progress = []
    w.bridge.progress.connect(lambda jid, f: progress.append(f))
    sched.start()
    choose(w, ["denoise"])
    w.add_paths([str(small)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=10000)
    w.start()
    wait_idle(qtbot, w, timeout=120000)
    job = w.store.get(w.model.job_id(0))
    assert job.status.value == "COMPLETED", job.error_message
    out = Path(job.outputs[0].path)
    assert out.exists() and Image.open(out).size == (160, 120)
    assert threads and all(t is sched.model_thread for t in threads)  # loaded and run on the model thread
    assert threading.main_thread() not in threads
    assert len(set(progress)) >= 3
    w.table.selectRow(0)
    qtbot.waitUntil(
        lambda: (
            w.results.job is not None
            and w.results.compare_btn is not None
            and w.results.compare_btn.isVisibleTo(w.results)
        )
    )
    assert w.results.denoise_pair() == (job.input_path, str(out))
