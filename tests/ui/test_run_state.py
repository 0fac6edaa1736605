"""Honest run state in the real window on real photos: the run button, auto-start, cancel counts,
the summary, the ETA's learned rate and which buttons can act (issue 10 item 4 and 8)."""

from __future__ import annotations

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from pixtools_desktop.core.settings import load_settings
from pixtools_desktop.core.store import work_rates
from tests.ui.conftest import choose, wait_idle


def _add(qtbot, w, folder, n: int) -> None:
    w.add_paths([str(folder)])
    qtbot.waitUntil(lambda: w.model.rowCount() == n, timeout=10000)


def test_run_button_says_start_pause_resume_and_new_files_wait_for_start(make_window, qtbot, photos, tmp_path):
    settings = load_settings()
    settings.workers = 1
    w = make_window(settings=settings)
    button = w.buttons["start"]
    on_gui_thread = []
    gui = QApplication.instance().thread()
    w.bridge.finished.connect(lambda *a: on_gui_thread.append(QThread.currentThread() is gui))
    choose(w, ["avif", "jpg"])
    _add(qtbot, w, photos, 8)
    assert button.text() == "Start" and not w.running
    qtbot.wait(1200)  # longer than the runner's idle poll: added files do not start by themselves
    assert w.model.counts["PENDING"] == 8 and w.backend.busy == 0
    w.start()
    assert button.text() == "Pause" and w.running
    qtbot.waitUntil(lambda: w.model.counts["COMPLETED"] >= 1, timeout=30000)
    w.pause()
    assert button.text() == "Resume" and "Paused" in w.eta_label.text()
    w.toggle_running()
    assert button.text() == "Pause"
    wait_idle(qtbot, w, timeout=90000)
    assert button.text() == "Start" and not w.running  # never "Pause" with nothing running
    assert w.eta_label.text() == "Last batch: 8 done"
    assert on_gui_thread and all(on_gui_thread)  # the bridge delivers the runner's callbacks on the GUI thread
    more = tmp_path / "more"
    more.mkdir()
    (more / "extra.png").write_bytes(next(photos.glob("*.png")).read_bytes())
    _add(qtbot, w, more, 9)
    qtbot.wait(1200)
    assert w.model.counts["PENDING"] == 1 and button.text() == "Start"  # after a batch, new files wait too


def test_auto_start_setting_runs_new_files(make_window, qtbot, photos):
    settings = load_settings()
    assert settings.auto_start is False  # off by default
    settings.auto_start = True
    w = make_window(settings=settings)
    choose(w, ["jpg"])
    _add(qtbot, w, photos, 8)
    wait_idle(qtbot, w)
    assert w.model.counts["COMPLETED"] == 8 and w.last_summary.text == "8 done"
    assert w.buttons["start"].text() == "Start"


def test_cancelling_waiting_jobs_counts_them_finished(make_window, qtbot, photos):
    settings = load_settings()
    settings.workers = 1
    settings.notifications = False
    w = make_window(settings=settings)
    choose(w, ["avif", "jpg"])
    _add(qtbot, w, photos, 8)
    w.start()
    qtbot.waitUntil(lambda: w.model.counts["PROCESSING"] == 1, timeout=30000)
    waiting = w.model.ids_with_status("PENDING")
    assert len(waiting) >= 5
    sel = w.table.selectionModel()
    w.table.clearSelection()
    for job_id in waiting[:5]:
        sel.select(w.model.index(w.model.row_of(job_id), 0), sel.SelectionFlag.Select | sel.SelectionFlag.Rows)
    w.cancel_selected()
    qtbot.waitUntil(lambda: w.model.counts["CANCELLED"] == 5, timeout=5000)
    qtbot.waitUntil(lambda: len(w.run.finished) >= 5)
    n_done = len(w.run.finished)
    assert w.eta_label.text().startswith(f"{n_done} of 8") and "5 cancelled" in w.eta_label.text()
    running = w.model.ids_with_status("PROCESSING")  # and the one at work now, between its steps
    w.table.clearSelection()
    for job_id in running:
        sel.select(w.model.index(w.model.row_of(job_id), 0), sel.SelectionFlag.Select | sel.SelectionFlag.Rows)
    w.cancel_selected()
    wait_idle(qtbot, w, timeout=60000)
    final = [w.store.get(w.model.job_id(r)).status.value for r in range(8)]
    s = w.last_summary
    assert s.cancelled == final.count("CANCELLED") >= 5
    assert s.done == final.count("COMPLETED") and s.done + s.cancelled == 8
    assert "cancelled" in w.eta_label.text() and w.overall.value() == 1000


def test_buttons_are_disabled_when_they_cannot_act(make_window, qtbot, photos):
    w = make_window()
    b = w.buttons
    assert not any(b[k].isEnabled() for k in ("start", "cancel", "remove", "retry"))
    (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not a png")
    choose(w, ["jpg"])
    _add(qtbot, w, photos, 9)
    assert b["start"].isEnabled() and not b["cancel"].isEnabled() and not b["remove"].isEnabled()
    w.table.selectRow(0)
    assert b["cancel"].isEnabled() and b["remove"].isEnabled() and w.act_cancel.isEnabled()
    # The unreadable file is flagged failed as soon as it is added, so it can be retried before any run.
    qtbot.waitUntil(lambda: w.model.counts.get("FAILED", 0) == 1, timeout=10000)
    assert b["retry"].isEnabled()
    w.table.clearSelection()
    w.start()
    wait_idle(qtbot, w)
    assert b["retry"].isEnabled() and w.act_retry.isEnabled()  # the broken file can be retried
    w.table.selectRow(0)
    assert not b["cancel"].isEnabled() and b["remove"].isEnabled()  # finished rows: nothing to cancel
    assert not b["start"].isEnabled()  # nothing waits


def test_the_learned_rate_is_kept_and_gives_an_eta_after_a_restart(make_window, qtbot, photos):
    settings = load_settings()
    settings.workers = 1
    w = make_window(settings=settings)
    choose(w, ["webp"])
    _add(qtbot, w, photos, 8)
    w.start()
    assert "estimating…" in w.eta_label.text()  # no basis yet on a fresh machine
    wait_idle(qtbot, w)
    rates = work_rates.load(w.store)
    assert rates["local:webp"] > 0 and rates["local:lane:std"] > 0
    w.shutdown()
    w.close()
    w2 = make_window(settings=settings)
    assert w2.run.eta.rates["webp"] == rates["local:webp"]  # loaded from the store
    choose(w2, ["webp"])
    (photos / "sub").mkdir()
    for f in sorted(photos.glob("*.png"))[:3]:
        (photos / "sub" / f.name).write_bytes(f.read_bytes())
    _add(qtbot, w2, photos / "sub", 11)
    new = w2.model.ids_with_status("PENDING")
    qtbot.waitUntil(lambda: set(new) <= set(w2.run.work), timeout=10000)  # megapixels read off the GUI thread
    w2.start()
    assert "ETA" in w2.eta_label.text() and "estimating" not in w2.eta_label.text()  # a basis from the start
    wait_idle(qtbot, w2)
