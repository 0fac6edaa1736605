"""API keys for remote servers: environment first, else a 0600 file — never settings.json or the job DB.

`PIXTOOLS_API_KEY` wins (scripts, CI). The window's settings page saves a
key per server URL in `<config>/remote_keys.json`, readable only by the user.
"""

from __future__ import annotations

import json
import os
import tempfile

from pixtools_desktop.core import paths

KEYS_FILE = "remote_keys.json"


def _path():
    return paths.config_dir() / KEYS_FILE


def _read() -> dict[str, str]:
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return (
        {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(data, dict) else {}
    )


def resolve_api_key(base_url: str | None, explicit: str | None = None) -> str | None:
    """The key to use for a server: explicit, else PIXTOOLS_API_KEY, else the saved one."""
    if explicit:
        return explicit
    env = os.environ.get("PIXTOOLS_API_KEY")
    if env:
        return env
    if not base_url:
        return None
    return _read().get(base_url) or None


def save_api_key(base_url: str, key: str | None) -> None:
    """Remember (or, with an empty key, forget) the key for one server URL; file mode 0600."""
    data = _read()
    if key:
        data[base_url] = key
    else:
        data.pop(base_url, None)
    folder = _path().parent
    fd, tmp = tempfile.mkstemp(prefix=".remote_keys-", dir=folder)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, _path())
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
