"""Seal secrets (webhook URLs with credentials) before they go into the database.

Why: a webhook URL may carry `user:password@` or `?token=`; the job database
is copied into backups and bug reports, so it keeps only a redacted copy in
clear and the full URL sealed with a key kept apart, in a 0600 file beside
the database. Stdlib only: HMAC-SHA256 in counter mode for the keystream,
then HMAC-SHA256 over nonce and ciphertext (encrypt-then-MAC).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path

KEY_FILE = "sealing.key"
_PREFIX = "sealed1:"
_lock = threading.Lock()
_keys: dict[Path, bytes] = {}


def key_for(folder: Path) -> bytes:
    """The folder's sealing key, made (0600) on first use."""
    path = Path(folder) / KEY_FILE
    with _lock:
        key = _keys.get(path)
        if key is not None:
            return key
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            key = b""
        if len(key) < 32:
            key = secrets.token_bytes(32)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key)
        _keys[path] = key
        return key


def _stream(key: bytes, nonce: bytes, n: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hmac.new(key, b"enc" + nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
    return bytes(out[:n])


def seal(text: str, key: bytes) -> str:
    data = text.encode("utf-8")
    nonce = secrets.token_bytes(16)
    ct = bytes(a ^ b for a, b in zip(data, _stream(key, nonce, len(data)), strict=True))
    tag = hmac.new(key, b"mac" + nonce + ct, hashlib.sha256).digest()[:16]
    return _PREFIX + base64.urlsafe_b64encode(nonce + tag + ct).decode("ascii")


def unseal(token: str, key: bytes) -> str:
    """The sealed text; ValueError when the token was altered or sealed with another key."""
    if not token.startswith(_PREFIX):
        raise ValueError("not a sealed value")
    raw = base64.urlsafe_b64decode(token[len(_PREFIX) :].encode("ascii"))
    nonce, tag, ct = raw[:16], raw[16:32], raw[32:]
    if not hmac.compare_digest(tag, hmac.new(key, b"mac" + nonce + ct, hashlib.sha256).digest()[:16]):
        raise ValueError("the sealed value does not match this key")
    return bytes(a ^ b for a, b in zip(ct, _stream(key, nonce, len(ct)), strict=True)).decode("utf-8")


def store_key(store) -> bytes:
    """The key kept beside a JobStore's database file."""
    return key_for(Path(store.path).parent)
