"""The Settings dialog's refusals: each problem is shown beside its field on its own tab, and nothing
reaches the live Settings unless every tab is valid and OK was pressed (Cancel leaves them as they were)."""

from __future__ import annotations

import copy
import dataclasses

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout

from pixtools_desktop.core.settings import Settings, load_settings
from pixtools_desktop.ui.settings_dialog import SettingsDialog

BAD_URL_MESSAGE = "not an http:// or https:// address"
WATCH_MESSAGE = "Choose an existing folder to watch"


def _dialog(qtbot, settings: Settings) -> SettingsDialog:
    dlg = SettingsDialog(settings)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def _press(dlg: SettingsDialog, which: QDialogButtonBox.StandardButton) -> None:
    [box] = dlg.findChildren(QDialogButtonBox)
    box.button(which).click()


def _ok(dlg: SettingsDialog) -> None:
    _press(dlg, QDialogButtonBox.StandardButton.Ok)


def _current_tab(dlg: SettingsDialog) -> str:
    return dlg.tabs.tabText(dlg.tabs.currentIndex())


def _row(widget) -> int:
    form = widget.parentWidget().layout()
    assert isinstance(form, QFormLayout)
    row, _role = form.getWidgetPosition(widget)
    return row


def test_bad_server_url_is_shown_under_the_url_on_the_processing_tab(qtbot):
    settings = Settings()
    dlg = _dialog(qtbot, settings)
    page = dlg.page("Processing")
    page.remote_radio.setChecked(True)
    page.url.setText("not a url")
    dlg.tabs.setCurrentIndex(dlg.tabs.count() - 1)  # somewhere else
    _ok(dlg)
    assert dlg.isVisible() and dlg.result() != QDialog.DialogCode.Accepted
    assert _current_tab(dlg) == "Processing"
    assert BAD_URL_MESSAGE in page.error.text() and page.error.isVisible()
    assert page.isAncestorOf(page.error)
    assert _row(page.error) == _row(page.url) + 1  # the row right under the field at fault
    assert dlg.focusWidget() is page.url
    assert dlg.naming_error.text() == "" and dlg.watch_error.text() == ""  # nothing blamed on the Output tab
    assert (settings.backend, settings.backend_url) == ("local", None)
    # Fixed: OK goes through, the message is gone and the choice lands in the same Settings object.
    page.url.setText("http://127.0.0.1:8000/api")
    _ok(dlg)
    assert not dlg.isVisible() and dlg.result() == QDialog.DialogCode.Accepted
    assert page.error.text() == ""
    assert (settings.backend, settings.backend_url) == ("remote", "http://127.0.0.1:8000")


def test_a_refused_ok_then_cancel_leaves_the_settings_exactly_as_they_were(qtbot):
    settings = Settings(theme="light", workers=2, notifications=True)
    before = copy.deepcopy(dataclasses.asdict(settings))
    applied = []
    dlg = _dialog(qtbot, settings)
    dlg.applied.connect(lambda: applied.append(True))
    dlg.theme.setCurrentText("dark")
    dlg.workers.setValue(9)
    dlg.notifications.setChecked(False)
    dlg.naming.setText("{stem}_x.{ext}")
    page = dlg.page("Processing")
    page.remote_radio.setChecked(True)
    page.url.setText("not a url")
    _ok(dlg)
    assert dlg.isVisible() and _current_tab(dlg) == "Processing"
    assert dataclasses.asdict(settings) == before  # the refused OK wrote nothing
    _press(dlg, QDialogButtonBox.StandardButton.Cancel)
    assert not dlg.isVisible() and dlg.result() == QDialog.DialogCode.Rejected
    assert dataclasses.asdict(settings) == before
    assert applied == []


def test_cancel_after_a_refused_ok_saves_nothing_at_shutdown(make_window, qtbot):
    """The window saves its Settings at shutdown: a cancelled dialog must not have touched them."""
    w = make_window()
    before = (w.settings.theme, w.settings.workers, w.settings.backend)
    w.open_settings()
    [dlg] = [d for d in w.findChildren(SettingsDialog) if d.isVisible()]
    dlg.theme.setCurrentText("dark" if before[0] == "light" else "light")
    dlg.workers.setValue(before[1] + 5)
    dlg.page("Processing").remote_radio.setChecked(True)
    dlg.page("Processing").url.setText("not a url")
    _ok(dlg)
    assert dlg.isVisible()
    _press(dlg, QDialogButtonBox.StandardButton.Cancel)
    qtbot.waitUntil(lambda: not [d for d in w.findChildren(SettingsDialog) if d.isVisible()])
    w.shutdown()
    s = load_settings()
    assert (s.theme, s.workers, s.backend) == before


def test_bad_watch_folder_is_shown_beside_the_watch_folder_on_its_tab(qtbot, tmp_path):
    settings = Settings()
    dlg = _dialog(qtbot, settings)
    dlg.workers.setValue(5)
    dlg.watch.enabled.setChecked(True)
    dlg.watch.folder.setText(str(tmp_path / "not-there"))
    dlg.tabs.setCurrentIndex(dlg.tabs.count() - 1)
    _ok(dlg)
    assert dlg.isVisible() and dlg.result() != QDialog.DialogCode.Accepted
    output = dlg.tabs.widget(dlg.tabs.currentIndex())
    assert _current_tab(dlg) == "Output" and output.isAncestorOf(dlg.watch.folder)
    assert WATCH_MESSAGE in dlg.watch_error.text() and dlg.watch_error.isVisible()
    assert output.isAncestorOf(dlg.watch_error)
    assert _row(dlg.watch_error) == _row(dlg.watch) + 1  # right under the watch-folder box
    assert dlg.naming_error.text() == ""  # not blamed on the naming template
    assert dlg.focusWidget() is dlg.watch.folder
    assert (settings.watch_enabled, settings.workers) == (False, 0)
    dlg.watch.folder.setText(str(tmp_path))
    _ok(dlg)
    assert dlg.result() == QDialog.DialogCode.Accepted and dlg.watch_error.text() == ""
    assert (settings.watch_enabled, settings.watch_folder, settings.workers) == (True, str(tmp_path), 5)


def test_every_problem_is_shown_and_the_first_tab_with_one_is_opened(qtbot):
    settings = Settings()
    dlg = _dialog(qtbot, settings)
    dlg.naming.setText("{nope}")
    page = dlg.page("Processing")
    page.remote_radio.setChecked(True)
    page.url.setText("ftp://nope")
    cloud = dlg.page("Cloud")
    cloud.webhook_url.setText("not a url")
    dlg.tabs.setCurrentWidget(cloud)
    _ok(dlg)
    assert _current_tab(dlg) == "Output" and dlg.focusWidget() is dlg.naming
    assert "unknown placeholder" in dlg.naming_error.text()
    assert BAD_URL_MESSAGE in page.error.text()
    assert cloud.error.text()
    dlg.naming.setText("{stem}.{ext}")
    _ok(dlg)
    assert _current_tab(dlg) == "Processing" and dlg.naming_error.text() == ""
    page.local_radio.setChecked(True)
    page.url.clear()
    _ok(dlg)
    assert _current_tab(dlg) == "Cloud" and page.error.text() == "" and cloud.error.text()
    assert dataclasses.asdict(settings) == dataclasses.asdict(Settings())
    cloud.webhook_url.clear()
    _ok(dlg)
    assert dlg.result() == QDialog.DialogCode.Accepted and settings.naming_template == "{stem}.{ext}"
