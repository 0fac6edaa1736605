"""Settings page "Cloud": S3 upload and webhook options (loaded by the settings dialog).

Only non-secret values live here: AWS credentials come from boto3's chain
(AWS_* variables, a named profile) and the webhook secret from
PIXTOOLS_WEBHOOK_SECRET, so the page only says whether one is present.
`apply` validates before writing, so a bad URL never reaches settings.json.
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget

from pixtools_desktop.cloud.config import WEBHOOK_SECRET_ENV
from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.ops import validate_webhook_url
from pixtools_desktop.core.settings import Settings

TITLE = "Cloud"


class CloudSettingsPage(QWidget):
    """Form over the s3_* and webhook_* settings."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        f = QFormLayout(self)
        self.s3_enabled = QCheckBox("Upload every finished job's outputs to S3")
        self.s3_enabled.setChecked(settings.s3_enabled)
        f.addRow(self.s3_enabled)
        self.endpoint = QLineEdit(settings.s3_endpoint_url or "")
        self.endpoint.setPlaceholderText("AWS (leave empty) or e.g. https://s3.studio.example")
        f.addRow("Endpoint URL", self.endpoint)
        self.region = QLineEdit(settings.s3_region or "")
        self.region.setPlaceholderText("us-east-1")
        f.addRow("Region", self.region)
        self.bucket = QLineEdit(settings.s3_bucket)
        f.addRow("Bucket", self.bucket)
        self.prefix = QLineEdit(settings.s3_prefix)
        self.prefix.setPlaceholderText("optional, e.g. studio/shoots")
        f.addRow("Key prefix", self.prefix)
        self.profile = QLineEdit(settings.s3_profile or "")
        self.profile.setPlaceholderText("default credentials (AWS_* variables or ~/.aws)")
        f.addRow("AWS profile", self.profile)
        self.expiry_hours = QSpinBox()
        self.expiry_hours.setRange(1, 168)  # SigV4 presigned URLs last at most 7 days
        self.expiry_hours.setSuffix(" h")
        self.expiry_hours.setValue(max(1, min(168, round(settings.s3_url_expiry / 3600))))
        f.addRow("Links valid for", self.expiry_hours)

        self.webhook_url = QLineEdit(settings.webhook_url or "")
        self.webhook_url.setPlaceholderText("https://hooks.example/pixtools (empty: no webhook)")
        f.addRow("Webhook URL", self.webhook_url)
        self.on_failure = QCheckBox("Also announce failed jobs")
        self.on_failure.setChecked(settings.webhook_on_failure)
        f.addRow(self.on_failure)
        self.fail_max = QSpinBox()
        self.fail_max.setRange(1, 100)
        self.fail_max.setValue(settings.webhook_fail_max)
        f.addRow("Pause a failing host after", self.fail_max)
        self.reset_timeout = QSpinBox()
        self.reset_timeout.setRange(1, 3600)
        self.reset_timeout.setSuffix(" s")
        self.reset_timeout.setValue(settings.webhook_reset_timeout)
        f.addRow("…and try it again after", self.reset_timeout)
        has_secret = bool(os.environ.get(WEBHOOK_SECRET_ENV))
        self.secret_note = QLabel(
            f"Signing: {'on' if has_secret else 'off'} — set {WEBHOOK_SECRET_ENV} in the environment to sign "
            "webhooks (the secret is never saved by PixTools)."
        )
        self.secret_note.setWordWrap(True)
        f.addRow(self.secret_note)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        f.addRow(self.error)

    def apply(self, settings: Settings) -> None:
        """Validate, then write into `settings`; raises ValidationError (and shows it) on a bad URL."""
        url = self.webhook_url.text().strip()
        endpoint = self.endpoint.text().strip()
        try:
            validate_webhook_url(url)
            if endpoint:
                try:
                    validate_webhook_url(endpoint)  # same rule: an absolute http(s) URL
                except ValidationError:
                    raise ValidationError("The S3 endpoint must be an absolute http(s) URL") from None
            if self.s3_enabled.isChecked() and not self.bucket.text().strip():
                raise ValidationError("Choose a bucket to upload to")
        except ValidationError as exc:
            self.error.setText(exc.detail)
            raise
        self.error.setText("")
        settings.s3_enabled = self.s3_enabled.isChecked()
        settings.s3_endpoint_url = endpoint or None
        settings.s3_region = self.region.text().strip() or None
        settings.s3_bucket = self.bucket.text().strip() or settings.s3_bucket
        settings.s3_prefix = self.prefix.text().strip().strip("/")
        settings.s3_profile = self.profile.text().strip() or None
        settings.s3_url_expiry = self.expiry_hours.value() * 3600
        settings.webhook_url = url or None
        settings.webhook_on_failure = self.on_failure.isChecked()
        settings.webhook_fail_max = self.fail_max.value()
        settings.webhook_reset_timeout = self.reset_timeout.value()


def make_page(settings: Settings) -> QWidget:
    return CloudSettingsPage(settings)
