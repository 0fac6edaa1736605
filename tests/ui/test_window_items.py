"""Issue 10's window items, each with real files: the output subfolder, no re-ingesting of our own
outputs, the watch folder, Clear finished, one banner at a time, the folding header, result-card text."""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt

from tests.ui.conftest import choose, wait_idle


def _run(w, qtbot, folder: Path) -> None:
    assert w.add_paths([str(folder)])
    qtbot.waitUntil(lambda: not w.queue._tasks, timeout=20000)
    w.start()
    wait_idle(qtbot, w, timeout=60000)


def test_outputs_go_to_a_subfolder_and_are_never_queued_again(make_window, qtbot, photos):
    w = make_window()
    w.settings.notifications = False
    choose(w, ["webp"])
    assert w.ops_panel.output_dir.text() == "" and "PixTools/" in w.ops_panel.output_dir.placeholderText()
    _run(w, qtbot, photos)
    made = sorted((photos / "PixTools").glob("*_webp.webp"))
    assert len(made) == 8 and not list(photos.glob("*_webp.webp"))  # not beside the photos
    # Outputs written beside the photos on purpose (the old default) are known to the store too.
    choose(w, ["jpg"])
    w.ops_panel.output_dir.setText(str(photos))
    _run(w, qtbot, photos)
    assert len(list(photos.glob("*_jpg.jpg"))) == 8
    rows = w.model.rowCount()
    choose(w, ["avif"])
    w.ops_panel.output_dir.setText("")
    assert w.add_paths([str(photos)])
    qtbot.waitUntil(lambda: not w.queue._tasks, timeout=20000)
    assert w.model.rowCount() == rows + 8  # the 8 photos only: no *_jpg.jpg, nothing from PixTools/
    added = [w.model.data(w.model.index(r, 0)) for r in range(rows, rows + 8)]
    assert all(name.endswith(".png") for name in added)
    ours = [Path(p).name for p, why in w.skipped if "written by PixTools" in why]
    assert len(ours) == 16  # 8 JPGs beside the photos, 8 WebPs in PixTools/
    # A file named explicitly is always tried, even one we wrote.
    w.pause()
    assert w.add_paths([str(made[0])])
    qtbot.waitUntil(lambda: w.model.rowCount() == rows + 9, timeout=10000)


def test_outputs_stay_known_after_clear_finished(make_window, qtbot, photos):
    """Clearing history used to forget what the app wrote: the next folder add queued its outputs."""
    w = make_window()
    w.settings.notifications = False
    choose(w, ["jpg"])
    w.ops_panel.output_dir.setText(str(photos / "converted"))  # a chosen folder inside the photos' folder
    _run(w, qtbot, photos)
    assert len(list((photos / "converted").glob("*_jpg.jpg"))) == 8
    w.buttons["clear"].click()
    assert w.model.rowCount() == 0 and w.store.list_jobs() == []
    choose(w, ["webp"])
    assert w.add_paths([str(photos)])
    qtbot.waitUntil(lambda: not w.queue._tasks, timeout=20000)
    added = sorted(w.model.data(w.model.index(r, 0)) for r in range(w.model.rowCount()))
    assert len(added) == 8 and all(name.endswith(".png") for name in added), added
    assert len([p for p, why in w.skipped if "written by PixTools" in why]) == 8


def test_the_store_knows_output_paths(tmp_path, monkeypatch):
    from pixtools_desktop.core.jobs import OutputRecord
    from pixtools_desktop.core.store import JobStore, NewJob

    with JobStore(tmp_path / "jobs.sqlite3") as store:
        [job, other] = store.add_jobs(
            [NewJob(str(tmp_path / "a.png"), ["webp"]), NewJob(str(tmp_path / "b.png"), ["jpg"])]
        )
        out = str(tmp_path / "PixTools" / "a_webp.webp")
        store.save_outputs(job.id, [OutputRecord("webp", out, 10, "image/webp")])
        monkeypatch.chdir(tmp_path)  # a relative path is recorded as the absolute file it names
        store.save_outputs(other.id, [OutputRecord("jpg", "out/b_jpg.jpg", 10, "image/jpeg")])
        monkeypatch.chdir("/")
        assert store.known_output_paths([out, str(tmp_path / "a.png")]) == {out}
        assert store.known_output_paths([tmp_path / "out" / "b_jpg.jpg"]) == {str(tmp_path / "out" / "b_jpg.jpg")}
        assert store.known_output_paths([]) == set()
        assert store.delete([job.id, other.id]) == 2
        assert store.known_output_paths([out]) == {out}  # the jobs are gone, the files stay known


def test_watch_folder_queues_finished_copies_once_and_survives_a_restart(make_window, qtbot, tmp_path, photos):
    watch = tmp_path / "watch"
    watch.mkdir()
    src = sorted(photos.glob("*.png"))
    shutil.copy(src[2], watch / "already_there.png")
    w = make_window()
    w.settings.notifications = False
    choose(w, ["jpg"])
    w.settings.watch_enabled, w.settings.watch_folder = True, str(watch)
    w.watcher.apply_settings()
    assert w.watcher.timer.isActive()
    assert w.watcher.scan() == [] and w.watcher.scan() == []  # what was there when watching began stays
    assert "1 photo(s) already there are left alone" in w.statusBar().currentMessage()
    data = src[0].read_bytes()
    arriving = watch / "arriving.png"
    arriving.write_bytes(data[: len(data) // 2])  # still being copied
    assert w.watcher.scan() == []
    with open(arriving, "ab") as fh:
        fh.write(data[len(data) // 2 :])
    assert w.watcher.scan() == []  # it grew since the last look: not yet
    assert w.watcher.scan() == [str(arriving)]  # held still: taken, once
    assert w.watcher.scan() == []
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=10000)
    w.start()
    wait_idle(qtbot, w)
    assert (watch / "PixTools" / "arriving_jpg.jpg").exists()
    assert w.watcher.scan() == [] and w.watcher.scan() == []  # its output is never taken
    w.buttons["clear"].click()  # history cleared: the watch folder still knows what it took
    assert w.model.rowCount() == 0
    w.shutdown()
    w.close()

    shutil.copy(src[1], watch / "while_closed.png")  # lands while the app is closed
    w2 = make_window()
    assert w2.settings.watch_enabled and w2.watcher.timer.isActive()
    assert w2.watcher.scan() == []
    assert [Path(p).name for p in w2.watcher.scan()] == ["while_closed.png"]
    qtbot.waitUntil(lambda: w2.model.rowCount() == 1, timeout=10000)
    assert w2.model.data(w2.model.index(0, 0)) == "while_closed.png"
    shutil.copy(src[3], watch / "already_there.png")  # replaced by another photo: it arrives again
    w2.watcher.scan()
    assert [Path(p).name for p in w2.watcher.scan()] == ["already_there.png"]
    qtbot.waitUntil(lambda: w2.model.rowCount() == 2 and not w2.queue._tasks, timeout=10000)


def test_clear_finished_keeps_failed_jobs(make_window, qtbot, photos):
    (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not a png at all")
    w = make_window()
    w.settings.notifications = False
    choose(w, ["jpg"])
    w.ops_panel.output_dir.setText(str(photos.parent / "out"))
    _run(w, qtbot, photos)
    assert w.model.counts["COMPLETED"] == 8 and w.model.counts["FAILED"] == 1
    w.buttons["clear"].click()
    assert w.model.rowCount() == 1 and w.model.counts["FAILED"] == 1
    assert len(w.store.list_jobs()) == 1
    assert len(list((photos.parent / "out").glob("*.jpg"))) == 8  # the files stay


def test_one_banner_at_a_time(make_window):
    w = make_window()
    choose(w, ["jpg"])
    w.show()
    w.show_problem("Something to say")
    assert w.banners.showing() is w.summary_card
    problem = w.summary_card.grab().toImage().pixelColor(12, 12).name()
    w.model_banner.show()  # "model missing" wants to show: it takes the one place
    assert w.banners.showing() is w.model_banner and not w.summary_card.isVisibleTo(w)
    missing = w.model_banner.grab().toImage().pixelColor(12, 12).name()
    assert problem != missing, "a failure and a missing model must not share one colour"
    w.model_banner.hide()
    assert w.banners.showing() is w.summary_card  # the problem card comes back
    w.summary_card.hide()
    assert w.banners.showing() is None and not w.banners.isVisibleTo(w)


def test_header_folds_into_a_menu_when_narrow(make_window, qtbot):
    w = make_window()
    w.resize(1600, 900)  # the offscreen screen is small: the first-start size fits it (and folds)
    qtbot.waitUntil(lambda: w.width() >= 1600)
    header = w.header
    header.fit(2400)
    assert header.folded() == [] and not header.more.isVisibleTo(w)
    header.fit(760)
    folded = header.folded()
    assert folded and folded[-1] == "health" and header.more.isVisibleTo(w)
    assert all(w.buttons[k].isVisibleTo(w) for k in ("add_files", "add_folder", "start"))
    header._fill_menu()
    texts = [a.text() for a in header.menu.actions()]
    assert "Settings" in texts and "Health" in texts
    next(a for a in header.menu.actions() if a.text() == "Settings").trigger()
    from pixtools_desktop.ui.settings_dialog import SettingsDialog

    [dlg] = [d for d in w.findChildren(SettingsDialog) if d.isVisible()]
    dlg.reject()


def test_result_card_dimensions_metadata_and_open_without_a_launcher(make_window, qtbot, tmp_path):
    photo = tmp_path / "in" / "gps.jpg"
    photo.parent.mkdir()
    exif = Image.Exif()
    exif[0x010F] = "PixCam"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (51.0, 30.0, 2.6244), 3: "W", 4: (0.0, 7.0, 39.9)})
    Image.new("RGB", (64, 48), (10, 120, 200)).save(photo, exif=exif)
    w = make_window()
    w.settings.notifications = False
    choose(w, ["webp", "metadata"])
    _run(w, qtbot, photo.parent)
    w.table.selectRow(0)
    qtbot.waitUntil(lambda: w.results.job is not None and w.results.job.status.value == "COMPLETED")
    tree = w.results.meta_tree
    fields = {tree.topLevelItem(i).text(0): tree.topLevelItem(i).text(1) for i in range(tree.topLevelItemCount())}
    assert fields["Camera make"] == "PixCam"
    assert fields["Location"] == "51° 30.044′ N, 0° 07.665′ W"
    assert "openstreetmap.org/?mlat=51.500729&mlon=-0.127750" in w.results.map_label.text()
    from PySide6.QtWidgets import QLabel, QPushButton

    sizes = [
        lbl.text()
        for lbl in w.results.outputs_box.findChildren(QLabel)
        if lbl.accessibleName() == "Size and dimensions"
    ]
    assert sizes and "→" in sizes[0]  # before → after (— where the engine did not record it)
    w.results.open_url = lambda url: False  # a system with no program for the file
    opener = next(b for b in w.results.outputs_box.findChildren(QPushButton) if b.text() == "Open")
    opener.click()
    assert w.results.notice.isVisibleTo(w) and "No program is set up to open" in w.results.notice.text()


def test_metadata_formatting():
    from pixtools_desktop.ui.metadata_view import display_rows, dms, format_gps, map_url, size_text

    assert dms(-33.8568, "N", "S") == "33° 51.408′ S"
    assert dms(12.99999999, "E", "W") == "13° 00.000′ E"
    assert format_gps({"latitude": 48.8584, "longitude": 2.2945}) == "48° 51.504′ N, 2° 17.670′ E"
    assert format_gps(None) is None and map_url("nonsense") is None
    rows = display_rows({"camera_make": None, "iso": 200, "gps": None})
    assert rows == [("Camera make", "—", None), ("ISO", "200", None), ("Location", "—", None)]
    assert size_text((4000, 3000), (1920, 1440)) == "4000 × 3000 → 1920 × 1440"
    assert size_text(None, (10, 10)) == "— → 10 × 10"


def test_environment_overrides_do_not_outlive_the_window(make_window, monkeypatch, tmp_path):
    import json

    from pixtools_desktop.core.settings import settings_path

    monkeypatch.setenv("PIXTOOLS_WORKERS", "1")
    monkeypatch.setenv("PIXTOOLS_OUTPUT_DIR", str(tmp_path / "once"))
    w = make_window()
    assert w.settings.workers == 1 and w.ops_panel.output_dir.text() == str(tmp_path / "once")
    w.ops_panel.naming.setText("{stem}-{op}.{ext}")  # something the user did set
    w.shutdown()
    w.close()
    saved = json.loads(settings_path().read_text())
    assert "workers" not in saved and "output_dir" not in saved, saved
    assert saved["naming_template"] == "{stem}-{op}.{ext}" and saved["schema_version"] >= 1


def test_file_names_line_up_whatever_the_thumbnail_shape(make_window, qtbot, photos):
    """A portrait and a landscape thumbnail: the names start at the same x (the box is fixed)."""
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

    from pixtools_desktop.ui.queue_model import COL_FILE

    w = make_window()
    w.show()
    assert w.add_paths([str(photos)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 8 and not w.queue._tasks, timeout=10000)
    view = w.table

    def thumb(row):
        return w.model.data(w.model.index(row, COL_FILE), Qt.ItemDataRole.DecorationRole)

    for row in range(8):
        thumb(row)  # ask for every thumbnail
    qtbot.waitUntil(lambda: all(thumb(r) is not None for r in range(8)), timeout=20000)
    shapes = {(thumb(r).width() > thumb(r).height()): r for r in range(8)}
    assert set(shapes) == {True, False}, "the photos hold a portrait and a landscape one"
    delegate = view.itemDelegateForColumn(COL_FILE)
    text_x = {}
    for landscape, row in shapes.items():
        option = QStyleOptionViewItem()
        option.rect = view.visualRect(w.model.index(row, COL_FILE))
        delegate.initStyleOption(option, w.model.index(row, COL_FILE))
        text_x[landscape] = view.style().subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, view).x()
    assert text_x[True] == text_x[False], text_x
