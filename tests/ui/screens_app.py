"""Drive the real app in a real X window and photograph every kind of window it shows.

Run by tests/ui/test_screenshot_xvfb.py under Xvfb + openbox (QT_QPA_PLATFORM=xcb):
`python -m tests.ui.screens_app PHOTOS_DIR OUT_DIR THEME`. For each shot it
saves OUT_DIR/NAME.png, grabbed from the X server (what a person sees, window
frame included, so a transparent dialog shows up black as it would on
screen), and lists in OUT_DIR/shots.json the screen regions of the labels,
buttons and queue cells in it, for the contrast checks.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import QObject, QPoint, QRect, Qt, QTimer, Slot
from PySide6.QtWidgets import QAbstractButton, QApplication, QCheckBox, QLabel, QRadioButton, QTreeView, QWidget

SETTLE_S = 0.6


def _regions(top: QWidget, origin: QPoint) -> list[dict]:
    """Visible, enabled text widgets inside `top`, as rectangles relative to the shot."""
    out: list[dict] = []
    for w in top.findChildren(QWidget):
        if not w.isVisible() or not w.isEnabled() or w.window() is not top:
            continue
        if isinstance(w, QLabel):
            if not w.text().strip() or w.pixmap() is not None and not w.pixmap().isNull():
                continue
            inset = (0, 0, 0, 0)
        elif isinstance(w, (QCheckBox, QRadioButton)):
            if not w.text().strip():
                continue
            inset = (32, 1, 1, 1)  # the text, not the indicator
        elif isinstance(w, QAbstractButton):
            if not w.text().strip():
                continue
            inset = (8, 7, 11, 11)  # inside the ink border and its shadow
        else:
            continue
        vis = w.visibleRegion().boundingRect()
        r = vis.adjusted(inset[0], inset[1], -inset[2], -inset[3])
        if r.width() < 10 or r.height() < 8:
            continue
        g = QRect(w.mapToGlobal(r.topLeft()) - origin, r.size())
        out.append({"name": f"{type(w).__name__}:{w.text()[:40]}", "rect": [g.x(), g.y(), g.width(), g.height()]})
    return out


def _cell_regions(window, origin: QPoint) -> list[dict]:
    from pixtools_desktop.ui.queue_model import COL_FILE, COL_PROGRESS, COL_STATUS

    view = window.table
    out = []
    for row in range(min(view.model().rowCount(), 6)):
        for col in (COL_FILE, COL_STATUS, COL_PROGRESS):
            if view.isColumnHidden(col):
                continue
            r = view.visualRect(view.model().index(row, col))
            if col == COL_FILE:
                r = r.adjusted(56, 4, 0, -4)  # past the thumbnail box
            elif col == COL_PROGRESS:
                r = r.adjusted(12, 12, -12, -12)
            r = r.intersected(view.viewport().rect())
            if r.width() < 10 or r.height() < 8:
                continue
            g = QRect(view.viewport().mapToGlobal(r.topLeft()) - origin, r.size())
            out.append({"name": f"cell:{row}:{col}", "rect": [g.x(), g.y(), g.width(), g.height()]})
    bar = window.overall
    g = QRect(bar.mapToGlobal(QPoint(6, 6)) - origin, bar.size() - bar.size().__class__(12, 12))
    out.append({"name": "overall", "rect": [g.x(), g.y(), g.width(), g.height()]})
    return out


def _menu_regions(menu):
    def get(origin: QPoint) -> list[dict]:
        out = []
        for act in menu.actions():
            r = menu.actionGeometry(act).adjusted(10, 3, -10, -3)
            if act.isEnabled() and not act.isSeparator() and r.width() > 10:
                g = QRect(menu.mapToGlobal(r.topLeft()) - origin, r.size())
                out.append({"name": f"menu:{act.text()}", "rect": [g.x(), g.y(), g.width(), g.height()]})
        return out

    return get


def _view_regions(view):
    def get(origin: QPoint) -> list[dict]:
        out = []
        for row in range(view.model().rowCount()):
            r = view.visualRect(view.model().index(row, 0)).adjusted(2, 1, -2, -1)
            g = QRect(view.viewport().mapToGlobal(r.topLeft()) - origin, r.size())
            out.append({"name": f"item:{row}", "rect": [g.x(), g.y(), g.width(), g.height()]})
        return out

    return get


def _cut_labels(panel) -> list[str]:
    """The result card's labels whose text does not fit them (wrapped height, or past the panel's edge)."""
    from PySide6.QtWidgets import QLabel

    cut = []
    for lbl in panel.findChildren(QLabel):
        if not lbl.isVisibleTo(panel) or not lbl.text():
            continue
        right = lbl.mapTo(panel, QPoint(lbl.width(), 0)).x()
        needs = lbl.heightForWidth(lbl.width()) if lbl.wordWrap() else lbl.sizeHint().height()
        too_wide = (lbl.minimumSizeHint() if lbl.wordWrap() else lbl.sizeHint()).width() > lbl.width()
        shown = lbl.visibleRegion().boundingRect()  # what a scroll area's viewport leaves visible
        hidden = shown.width() < lbl.width() or shown.height() < lbl.height()
        if right > panel.width() or needs > lbl.height() or too_wide or hidden:
            cut.append(
                f"{lbl.text()!r} ({lbl.width()}x{lbl.height()}, needs {needs} high, right edge {right}, "
                f"visible {shown.width()}x{shown.height()})"
            )
    return cut


def exposed(top: QWidget):
    """A condition: the window is mapped and exposed (under load a fixed settle grabbed unpainted frames)."""
    return lambda: top.isVisible() and top.windowHandle() is not None and top.windowHandle().isExposed()


class Driver(QObject):
    def __init__(self, window, photos: Path, out: Path) -> None:
        super().__init__(window)
        self.w, self.photos, self.out = window, photos, out
        self.shots: dict[str, dict] = {}
        self.deadline = time.monotonic() + 120
        self.steps = iter(self.plan())
        self.wait_until = 0.0
        self.settle = 0.0
        self.condition = None
        self.timer = QTimer(self)
        self.timer.setInterval(50)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    # Each step returns (condition or None, settle seconds) to wait before the next one.
    def plan(self):
        w = self.w
        yield (lambda: w.model.rowCount() >= 9), 0
        w.start()
        yield (lambda: not w.run.active and w.model.unfinished() == 0), 0
        done = next(r for r in range(w.model.rowCount()) if w.model.status_of(w.model.job_id(r)) == "COMPLETED")
        w.table.selectRow(done)
        w.table.setFocus()
        yield None, 1.0
        self.shoot("main_1600", w, cells=True)
        w.resize(1024, 640)
        yield None, 1.0
        self.shoot("main_1024", w, cells=True)
        scroll = w.left_scroll
        self.shots["main_1024"]["left_panel"] = {
            "panel_width": w.ops_panel.width(),
            "viewport_width": scroll.viewport().width(),
            "bar_visible": scroll.verticalScrollBar().isVisible(),
            "window_width": w.frameGeometry().width(),
            "min_width": w.minimumSizeHint().width(),
            "table_hscroll": w.table.horizontalScrollBar().isVisible(),
            "folded": w.header.folded(),
            "result_text_cut": _cut_labels(w.results),
        }
        w.header.menu.popup(w.header.more.mapToGlobal(QPoint(0, 40)))
        yield exposed(w.header.menu), SETTLE_S
        self.shoot("menu", w.header.menu, extra=_menu_regions(w.header.menu))
        w.header.menu.hide()
        combo = w.ops_panel.preset_combo
        combo.showPopup()
        yield exposed(combo.view().window()), SETTLE_S
        self.shoot("combo_popup", combo.view().window(), regions=False, extra=_view_regions(combo.view()))
        combo.hidePopup()
        w.resize(1280, 860)
        yield None, 0.3
        dlg = w.file_dialog("files")
        dlg.setDirectory(str(self.photos))
        dlg.open()
        yield exposed(dlg), 1.0
        self.shoot("file_dialog", dlg)
        tree = dlg.findChild(QTreeView, "treeView")
        header = tree.header()
        widths = {c: (header.sectionSize(c), tree.sizeHintForColumn(c)) for c in (1, 2, 3)}
        self.shots["file_dialog"]["columns"] = widths
        self.shots["file_dialog"]["squeezed_columns"] = [
            f"{header.model().headerData(c, Qt.Orientation.Horizontal)}: {have} < {need}"
            for c, (have, need) in widths.items()
            if have < need
        ]
        dlg.reject()
        box = w.big_folder_box(str(self.photos), 612)
        box.open()
        yield exposed(box), SETTLE_S
        self.shoot("message_box", box)
        box.reject()
        w.open_settings()
        settings = w._settings_dialog
        yield exposed(settings), SETTLE_S
        self.shoot("settings", settings)
        settings.reject()
        w.open_health()
        from pixtools_desktop.ui.health_panel import HealthDialog

        health = next(d for d in w.findChildren(HealthDialog) if d.isVisible())
        yield (lambda: health.report is not None and exposed(health)()), 0.4
        self.shoot("health", health)
        health.accept()
        job = w.store.get(w.model.job_id(done))
        w.open_compare(job.input_path, job.outputs[0].path)
        from pixtools_desktop.ui.compare_view import CompareDialog, CompareView

        compare = next(d for d in w.findChildren(CompareDialog) if d.isVisible())
        yield exposed(compare), 1.5
        self.shoot("compare", compare)
        view = compare.findChild(CompareView)
        if view is not None:  # the photo canvas is not chrome: left out of the "mostly black" check
            g = QRect(view.mapToGlobal(QPoint(0, 0)) - compare.frameGeometry().topLeft(), view.size())
            self.shots["compare"]["canvas"] = [g.x(), g.y(), g.width(), g.height()]
        compare.reject()
        yield None, 0.2
        from PySide6.QtWidgets import QInputDialog

        ask = QInputDialog(w.ops_panel)  # what "Save as…" opens (QInputDialog.getText builds the same)
        ask.setWindowTitle("Save preset")
        ask.setLabelText("Name for this preset:")
        ask.open()
        yield exposed(ask), SETTLE_S
        self.shoot("input_dialog", ask)
        ask.reject()

    def shoot(self, name: str, top: QWidget, *, cells: bool = False, regions: bool = True, extra=None) -> None:
        top.raise_()
        QApplication.processEvents()
        frame = top.frameGeometry()
        screen = top.screen() or QApplication.primaryScreen()
        pix = screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
        path = self.out / f"{name}.png"
        pix.save(str(path))
        origin = frame.topLeft()
        regs = _regions(top, origin) if regions else []
        if cells:
            regs += _cell_regions(self.w, origin)
        if extra is not None:
            regs += extra(origin)
        self.shots[name] = {"file": path.name, "size": [frame.width(), frame.height()], "regions": regs}

    @Slot()
    def tick(self) -> None:
        now = time.monotonic()
        if now > self.deadline:
            print("timed out", file=sys.stderr)
            return self.finish(2)
        if self.condition is not None:
            if not self.condition():
                return
            self.condition = None
            self.wait_until = now + self.settle  # the settle counts from when the condition holds
        if now < self.wait_until:
            return
        try:
            cond, settle = next(self.steps)
        except StopIteration:
            return self.finish(0)
        self.condition, self.settle, self.wait_until = cond, settle, time.monotonic() + settle

    def finish(self, code: int) -> None:
        self.timer.stop()
        (self.out / "shots.json").write_text(json.dumps(self.shots, indent=1))
        QApplication.instance().exit(code)


def main() -> int:
    photos, out, theme = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    from pixtools_desktop.core.settings import load_settings
    from pixtools_desktop.ui.main_window import MainWindow

    settings = load_settings()
    settings.theme = theme
    settings.notifications = False
    w = MainWindow(settings)
    w.move(0, 0)
    w.resize(1600, 1000)
    w.show()
    panel = w.ops_panel
    panel.preset_combo.setCurrentText("Web (WebP 80, 1920 px)")
    panel.op_checks["metadata"].setChecked(True)
    w.add_paths([str(photos)])
    driver = Driver(w, photos, out)
    code = app.exec()
    w.shutdown()
    print(f"platform={QApplication.platformName()} shots={len(driver.shots)}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
