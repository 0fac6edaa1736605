"""The window's "Remote" settings page: backend switch, URL validation, key kept out of settings, Test connection."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6.QtWidgets")

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.settings import Settings, load_settings, save_settings
from pixtools_desktop.remote.secrets import resolve_api_key
from pixtools_desktop.ui import qt_settings_remote
from tests.remote.conftest import API_KEY
from tests.server.serve_proc import free_port


def _page(qtbot, settings):
    page = qt_settings_remote.make_page(settings)
    qtbot.addWidget(page)
    return page


def test_test_connection_off_the_gui_thread(qtbot, server):
    page = _page(qtbot, Settings())
    assert qt_settings_remote.TITLE == "Processing"
    page.url.setText(server.url + "/api")
    page.api_key.setText(API_KEY)
    page.test_button.click()
    assert not page.test_button.isEnabled()  # the click returned at once; the probe runs on the pool
    qtbot.waitUntil(lambda: page.test_button.isEnabled(), timeout=15000)
    assert page.result.text() == "Connected: the server is healthy."
    page.url.setText(f"http://127.0.0.1:{free_port()}")
    page.test_button.click()
    qtbot.waitUntil(lambda: page.test_button.isEnabled(), timeout=15000)
    assert page.result.text().startswith("unhealthy: Cannot reach the server at http://127.0.0.1:")
    assert page.wait_for_tasks()


def test_apply_switches_backend_and_keeps_key_out_of_settings(qtbot, server, pixtools_home):
    settings = Settings()
    page = _page(qtbot, settings)
    page.remote_radio.setChecked(True)
    page.url.setText("ftp://nope")
    with pytest.raises(ValidationError):
        page.apply(settings)
    assert "not an http:// or https:// address" in page.error.text() and settings.backend == "local"
    page.url.setText(server.url + "/")
    page.api_key.setText(API_KEY)
    page.archive.setChecked(True)
    page.poll.setValue(3.0)
    page.apply(settings)
    assert (settings.backend, settings.backend_url, settings.poll_interval, settings.download_archive) == (
        "remote",
        server.url,
        3.0,
        True,
    )
    save_settings(settings)
    text = (pixtools_home / "config" / "settings.json").read_text()
    assert API_KEY not in text and json.loads(text)["backend"] == "remote"
    assert resolve_api_key(server.url) == API_KEY
    assert load_settings().backend_url == server.url
    # a fresh page shows the stored state
    again = _page(qtbot, settings)
    assert again.mode_value() == "remote" and again.api_key.text() == API_KEY
