"""The real window, offscreen: drops, a batch on real photos, cancel/retry, pause/resume, restart."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import choose, wait_idle

REPO = Path(__file__).resolve().parents[2]


def _drop(window, paths: list[Path]) -> None:
    """Drag over the queue, then drop (Qt only routes a synthetic Drop inside a real drag,
    so the drop goes to the handler the window installs, as pytest-qt's docs suggest)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    target = window.table.viewport()
    pos = target.mapTo(window, QPoint(target.width() // 2, target.height() // 2))
    enter = QDragEnterEvent(
        pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted(), "the window must accept file drags anywhere"
    drop = QDropEvent(
        QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(drop)
    assert drop.isAccepted()


def test_window_appears_before_torch_is_imported(tmp_path):
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from pixtools_desktop.ui.main_window import MainWindow\n"
        "w = MainWindow(); w.show(); app.processEvents()\n"
        "print('visible', w.isVisible(), 'torch', 'torch' in sys.modules)\n"
        "w.shutdown()\n"
    )
    env = {"PIXTOOLS_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert "visible True torch False" in out.stdout, out.stdout + out.stderr


def test_drop_files_and_a_folder_lists_skipped(make_window, qtbot, photos, tmp_path):
    w = make_window()
    sub = tmp_path / "more" / "nested"
    sub.mkdir(parents=True)
    for f in sorted(photos.glob("*.png"))[:3]:
        shutil.copy(f, sub / f.name)
    (tmp_path / "more" / "notes.txt").write_text("not a photo")
    files = sorted(photos.glob("*.png"))[:2]
    _drop(w, [*files, tmp_path / "more"])
    qtbot.waitUntil(lambda: w.model.rowCount() == 5, timeout=10000)
    names = {w.model.data(w.model.index(r, 0)) for r in range(5)}
    assert {f.name for f in files} <= names
    assert any(Path(p).name == "notes.txt" and "not an image" in why for p, why in w.skipped)
    assert w.skipped_btn.isVisibleTo(w)
    assert w.model.counts["PENDING"] == 5  # the queue starts paused: nothing ran


def test_big_folder_asks_first(make_window, qtbot, tmp_path):
    big = tmp_path / "big"
    big.mkdir()
    img = Image.new("RGB", (8, 8), (200, 30, 30))
    for i in range(501):
        img.save(big / f"p{i:03d}.png")
    w = make_window()
    asked = []
    w.confirm_big_folder = lambda folder, n: asked.append(n) or False
    assert w.add_paths([str(big)]) is False
    assert asked == [501] and w.model.rowCount() == 0
    w.confirm_big_folder = lambda folder, n: True
    assert w.add_paths([str(big)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 501, timeout=20000)


def test_batch_of_real_photos_runs_to_completion(make_window, qtbot, photos, tmp_path):
    w = make_window()
    out = tmp_path / "out"
    choose(w, ["webp", "metadata"], quality=70)
    w.ops_panel.output_dir.setText(str(out))
    assert w.add_paths([str(photos)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 8, timeout=10000)
    w.start()
    wait_idle(qtbot, w)
    assert w.last_summary is not None and w.last_summary.text == "8 done"
    assert w.summary_card.isVisibleTo(w) and "8 done" in w.summary_label.text()
    assert w.overall.value() == 1000
    for src in photos.glob("*.png"):
        dst = out / f"{src.stem}_webp.webp"
        with Image.open(dst) as im:
            assert im.format == "WEBP" and im.size == Image.open(src).size
    assert w.notifications_sent and "8 done" in w.notifications_sent[-1][1]
    # The result card shows the selected job's outputs and metadata.
    w.table.selectRow(0)
    qtbot.waitUntil(lambda: w.results.job is not None and w.results.job.status.value == "COMPLETED")
    assert w.results.outputs_layout.count() >= 1
    assert w.results.meta_tree.topLevelItemCount() > 0


def test_cancel_retry_and_a_bad_file(make_window, qtbot, photos):
    (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    w = make_window()
    w.settings.notifications = False
    choose(w, ["jpg"])
    w.add_paths([str(photos)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 9, timeout=10000)
    # An unreadable file is flagged as soon as it is added, with its reason, and looks different.
    qtbot.waitUntil(lambda: w.model.counts["FAILED"] == 1)
    [bad] = w.model.ids_with_status("FAILED")
    row = w.model.row_of(bad)
    assert w.model.data(w.model.index(row, 0)) == "broken.png"
    assert w.model.data(w.model.index(row, 2)).startswith("\u26a0")  # "⚠ Failed", not "Waiting"
    assert "broken.png" in w.model.data(w.model.index(row, 1), Qt.ItemDataRole.ToolTipRole)
    assert w.model.data(w.model.index(row, 0), Qt.ItemDataRole.BackgroundRole) is not None
    w.table.selectRow(0)
    w.table.selectionModel().select(
        w.model.index(1, 0), w.table.selectionModel().SelectionFlag.Select | w.table.selectionModel().SelectionFlag.Rows
    )
    cancelled = w.selected_ids()
    assert len(cancelled) == 2
    w.cancel_selected()
    qtbot.waitUntil(lambda: w.model.counts["CANCELLED"] == 2)
    w.start()
    wait_idle(qtbot, w)
    s = w.last_summary
    assert s.text == "6 done"  # jobs cancelled before Start, or failed at add, are not part of the run
    assert w.store.get(bad).error_message  # a reason a person can read
    assert w.notifications_sent == []  # turned off
    w.retry_failed()
    wait_idle(qtbot, w)
    assert w.model.counts["COMPLETED"] == 8 and w.model.counts["FAILED"] == 1
    for job_id in cancelled:
        assert w.store.get(job_id).status.value == "COMPLETED"


def test_pause_and_resume(make_window, qtbot, photos):
    from pixtools_desktop.core.settings import load_settings

    settings = load_settings()
    settings.workers = 1  # one job at a time, so a pause lands mid-batch
    w = make_window(settings=settings)
    sched = w.backend
    choose(w, ["avif", "jpg"])
    w.add_paths([str(photos)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 8, timeout=10000)
    w.start()
    qtbot.waitUntil(lambda: w.model.counts["COMPLETED"] >= 1, timeout=30000)
    w.pause()
    assert "Paused" in w.eta_label.text() and "ETA paused" in w.eta_label.text()
    qtbot.waitUntil(lambda: w.model.counts["PROCESSING"] == 0 and sched.running_threads == 0, timeout=30000)
    done = w.model.counts["COMPLETED"]
    assert done < 8
    qtbot.wait(600)  # longer than the scheduler's poll: nothing new may start while paused
    assert w.model.counts["COMPLETED"] == done and w.model.counts["PROCESSING"] == 0
    eta_before = w.run.eta.active_seconds()
    qtbot.wait(300)
    assert w.run.eta.active_seconds() == eta_before  # the ETA clock stopped too
    w.toggle_running()
    assert w.running
    wait_idle(qtbot, w, timeout=60000)
    assert w.model.counts["COMPLETED"] == 8


def test_queue_settings_and_geometry_survive_a_restart(make_window, qtbot, photos, pixtools_home):
    from pixtools_desktop.core.settings import load_settings

    w = make_window()
    choose(w, ["webp"])
    w.add_paths([str(photos)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 8, timeout=10000)
    w.ops_panel.naming.setText("{stem}-{n}.{ext}")
    w.ops_panel.quality.setValue(63)
    w.splitter.setSizes([400, 700, 330])
    splitter_state = w.splitter.saveState()
    geometry = w.saveGeometry()
    w.settings.theme = "dark"
    w.shutdown()
    w.close()
    assert load_settings().naming_template == "{stem}-{n}.{ext}"

    w2 = make_window()
    assert w2.model.rowCount() == 8 and w2.model.counts["PENDING"] == 8
    assert w2.ops_panel.naming.text() == "{stem}-{n}.{ext}"
    assert w2.settings.theme == "dark"
    # The offscreen screen is 800 px wide and clamps the window to its minimum, so check what was saved
    # (test_screenshot_xvfb::test_window_geometry_comes_back_after_a_restart checks the real window).
    assert w2.qsettings.value("window/geometry") == geometry
    assert w2.qsettings.value("window/splitter") == splitter_state
    assert not w2.running
    # The panel comes back to the exact choice, not to the first preset.
    p2 = w2.ops_panel
    assert p2.preset_combo.currentText() == "(custom)"
    assert [op for op, cb in p2.op_checks.items() if cb.isChecked()] == ["webp"] and p2.quality.value() == 63
    p2.preset_combo.setCurrentText("Denoise")
    w2.shutdown()
    w2.close()
    w3 = make_window()
    assert w3.ops_panel.preset_combo.currentText() == "Denoise" and w3.ops_panel.op_checks["denoise"].isChecked()


def test_jobs_running_at_quit_resume_on_restart(make_window, qtbot, photos):
    from pixtools_desktop.core.jobs import OutputOptions
    from pixtools_desktop.core.paths import default_db_path
    from pixtools_desktop.core.store import JobStore, NewJob

    with JobStore(default_db_path()) as store:
        [job] = store.add_jobs([NewJob(str(next(photos.glob("*.png"))), ["jpg"], options=OutputOptions())])
        store.claim_next("std")
        # As if the process that claimed it had died mid-job (kill -9, power cut).
        store.query("UPDATE jobs SET claimed_by = ? WHERE id = ?", (f"{socket.gethostname()}:99999999", job.id))
        assert store.get(job.id).status.value == "PROCESSING"
    from PySide6.QtCore import QSettings

    from pixtools_desktop.core.paths import config_dir

    qs = QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)
    qs.setValue("queue/running", True)
    qs.sync()
    w = make_window()
    wait_idle(qtbot, w)
    assert w.store.get(job.id).status.value == "COMPLETED"


def test_single_instance_hands_files_to_the_running_window(make_window, qtbot, photos, pixtools_home):
    from pixtools_desktop.ui.single_instance import InstanceServer

    w = make_window()
    choose(w, ["jpg"])
    server = InstanceServer(parent=w)
    assert server.listen()
    server.filesReceived.connect(w.receive_files)
    f = next(photos.glob("*.png"))
    env = {"PIXTOOLS_HOME": str(pixtools_home), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pixtools_desktop.ui.app import run_app; sys.exit(run_app(sys.argv[1:]))",
            str(f),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=30000)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
    assert proc.returncode == 0
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=10000)
    assert w.model.data(w.model.index(0, 0)) == f.name
    server.close()


def test_keyboard_reaches_the_main_actions(make_window, qtbot, photos):
    from PySide6.QtTest import QTest

    w = make_window()
    choose(w, ["jpg"])
    w.add_paths([str(photos)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 8, timeout=10000)
    w.pause()
    w.table.setFocus()
    w.table.selectRow(3)
    QTest.keyClick(w.table, Qt.Key.Key_Delete)
    assert w.model.rowCount() == 7
    QTest.keyClick(w.table, Qt.Key.Key_Space)
    assert not w.running  # Space in the queue is too easy to hit: it no longer starts the queue
    QTest.keyClick(w, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert w.running
    QTest.keyClick(w, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert not w.running
    QTest.keyClick(w, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    from pixtools_desktop.ui.settings_dialog import SettingsDialog

    dialogs = [d for d in w.findChildren(SettingsDialog) if d.isVisible()]
    assert len(dialogs) == 1
    dialogs[0].reject()
    wait_idle_or_paused = w.model.counts["PROCESSING"]
    qtbot.waitUntil(lambda: w.backend.running_threads == 0, timeout=30000)
    del wait_idle_or_paused


def test_paste_file_urls_adds_them(make_window, qtbot, photos):
    from PySide6.QtGui import QGuiApplication

    w = make_window()
    choose(w, ["jpg"])
    mime = QMimeData()
    files = sorted(photos.glob("*.png"))[:3]
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    QGuiApplication.clipboard().setMimeData(mime)
    w.act_paste.trigger()
    qtbot.waitUntil(lambda: w.model.rowCount() == 3, timeout=10000)
    QGuiApplication.clipboard().clear()


def test_no_operation_chosen_is_explained_not_crashed(make_window, photos):
    w = make_window()
    choose(w, [])
    assert w.add_paths([str(photos)]) is False
    assert w.summary_card.isVisibleTo(w) and "Choose at least one operation" in w.summary_label.text()
    assert w.model.rowCount() == 0
