"""What a `pixtools serve` process is configured with (flags, env, defaults)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_UPLOAD_MB = 10
URL_TTL_S = 86_400  # presigned URLs live 24 h upstream
RETENTION_S = 86_400  # jobs are deleted 24 h after creation upstream
IDEMPOTENCY_TTL_S = 86_400


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
