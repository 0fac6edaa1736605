"""The Cloud settings page, as a real widget (offscreen)."""

from __future__ import annotations

import re

import pytest

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.settings import Settings


def test_page_shows_and_applies_settings(qtbot, monkeypatch):
    from pixtools_desktop.ui import qt_settings_cloud

    monkeypatch.setenv("PIXTOOLS_WEBHOOK_SECRET", "do-not-save-me")
    s = Settings(s3_bucket="shots", s3_url_expiry=7200, webhook_url="https://h.example/x", webhook_fail_max=3)
    page = qt_settings_cloud.make_page(s)
    qtbot.addWidget(page)
    assert qt_settings_cloud.TITLE == "Cloud"
    assert page.bucket.text() == "shots" and page.expiry_hours.value() == 2 and page.fail_max.value() == 3
    assert "Signing: on" in page.secret_note.text()
    page.s3_enabled.setChecked(True)
    page.endpoint.setText(" http://127.0.0.1:8333 ")
    page.prefix.setText("/studio/")
    page.reset_timeout.setValue(30)
    page.on_failure.setChecked(True)
    out = Settings()
    page.apply(out)
    assert (out.s3_enabled, out.s3_endpoint_url, out.s3_prefix, out.s3_bucket) == (
        True,
        "http://127.0.0.1:8333",
        "studio",
        "shots",
    )
    assert (out.s3_url_expiry, out.webhook_url, out.webhook_on_failure, out.webhook_reset_timeout) == (
        7200,
        "https://h.example/x",
        True,
        30,
    )
    assert "do-not-save-me" not in repr(out.to_json())


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("webhook_url", "ftp://h.example/x", "webhook_url must be a valid http(s) URL"),
        ("endpoint", "s3.example", "The S3 endpoint must be an absolute http(s) URL"),
    ],
)
def test_page_rejects_bad_urls_without_writing(qtbot, field, value, message):
    from pixtools_desktop.ui import qt_settings_cloud

    page = qt_settings_cloud.make_page(Settings())
    qtbot.addWidget(page)
    getattr(page, field).setText(value)
    out = Settings(webhook_url="https://keep.example/")
    with pytest.raises(ValidationError, match=re.escape(message)):
        page.apply(out)
    assert page.error.text() == message
    assert out.webhook_url == "https://keep.example/" and out.s3_endpoint_url is None


def test_settings_dialog_loads_the_page(qtbot):
    from pixtools_desktop.ui.settings_dialog import load_optional_pages

    titles = [t for t, _ in load_optional_pages(Settings())]
    assert "Cloud" in titles
