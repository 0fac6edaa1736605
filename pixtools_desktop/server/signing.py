"""Expiring HMAC-signed download URLs, the server's stand-in for S3 presigned URLs.

The secret lives in the server's data dir (mode 0600) so URLs handed out
before a restart stay valid after it. A URL names the job, the output
(`jpg`, …, or `archive`) and an expiry; `signature` is HMAC-SHA256 over all
three, so changing any of them (or the path) gets a 403.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

SECRET_FILE = "url_signing.key"


def load_or_create_secret(data_dir: Path) -> bytes:
    path = data_dir / SECRET_FILE
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    except FileNotFoundError:
        pass
    data = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return data


class UrlSigner:
    def __init__(self, secret: bytes, ttl_s: int) -> None:
        self._secret = secret
        self.ttl_s = ttl_s

    def _sig(self, job_id: str, name: str, expires: int) -> str:
        msg = f"{job_id}\n{name}\n{expires}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()

    def sign(self, base_url: str, job_id: str, name: str, *, now: float | None = None) -> str:
        expires = int((now or time.time()) + self.ttl_s)
        query = urlencode({"expires": expires, "signature": self._sig(job_id, name, expires)})
        return f"{base_url.rstrip('/')}/api/files/{job_id}/{name}?{query}"

    def verify(self, job_id: str, name: str, expires: str | None, signature: str | None) -> bool:
        if not expires or not signature:
            return False
        try:
            exp = int(expires)
        except (ValueError, OverflowError):
            return False
        if exp < time.time() or not signature.isascii():  # compare_digest raises TypeError on non-ASCII str
            return False
        return hmac.compare_digest(self._sig(job_id, name, exp), signature)
