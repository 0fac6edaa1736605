"""What a `pixtools serve` process is configured with (flags, env, defaults)."""

from __future__ import annotations

import ipaddress
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from pixtools_desktop.cloud.config import RetryPolicy
from pixtools_desktop.core.profile import API_MAX_UPLOAD_MB

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_MB = API_MAX_UPLOAD_MB
URL_TTL_S = 86_400  # presigned URLs live 24 h upstream
RETENTION_S = 86_400  # jobs are deleted 24 h after creation upstream
IDEMPOTENCY_TTL_S = 86_400

# A client is polling while results upload, so S3 gets a short budget (~30 s of
# backoff); nobody waits on a webhook, so it gets the desktop outbox's (~10 min).
UPLOAD_RETRY = RetryPolicy(base=1.0, cap=30.0, max_attempts=5)
WEBHOOK_RETRY = RetryPolicy(base=5.0, cap=900.0, max_attempts=8)


def retry_from_env(lane: str, default: RetryPolicy) -> RetryPolicy:
    """PIXTOOLS_SERVE_{LANE}_RETRY_BASE_S / _RETRY_CAP_S / _ATTEMPTS override a lane's policy (tests, ops)."""
    prefix = f"PIXTOOLS_SERVE_{lane.upper()}_"
    try:
        return RetryPolicy(
            base=max(0.0, float(os.environ.get(prefix + "RETRY_BASE_S", default.base))),
            cap=max(0.0, float(os.environ.get(prefix + "RETRY_CAP_S", default.cap))),
            max_attempts=max(1, int(os.environ.get(prefix + "ATTEMPTS", default.max_attempts))),
        )
    except ValueError:
        log.warning("ignoring a malformed retry setting", extra={"lane": lane})
        return default


@dataclass
class ServerConfig:
    data_dir: Path
    db_path: Path
    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str | None = None
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    url_ttl_s: int = URL_TTL_S
    retention_s: int = RETENTION_S
    workers: int | None = None
    webhook_timeout_s: float = 10.0
    public_url: str | None = None  # --public-url: the base of result URLs; None: the bound address
    allow_private_webhooks: bool = False  # operator opt-in: webhooks to loopback/private/link-local hosts
    webhook_concurrency: int = 8  # deliveries in flight at once (one lane per receiving host)
    upload_retry: RetryPolicy = field(default_factory=lambda: retry_from_env("upload", UPLOAD_RETRY))
    webhook_retry: RetryPolicy = field(default_factory=lambda: retry_from_env("webhook", WEBHOOK_RETRY))

    @property
    def public_base(self) -> str:
        """Where clients reach this server: --public-url, else the bound address; never a request header."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host.strip("[]")
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    def __repr__(self) -> str:  # never print the key
        key = "set" if self.api_key else "none"
        return f"ServerConfig(host={self.host!r}, port={self.port}, api_key={key}, data_dir={str(self.data_dir)!r})"


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
