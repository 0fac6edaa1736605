"""User settings: a JSON file in the config directory plus `PIXTOOLS_*` overrides.

One flat dataclass so every front end (window, CLI, server) reads the same
values. Secrets are *not* settings: S3 credentials come from boto3's own
chain or a named profile, API keys and webhook secrets from the environment
or the OS keyring-free `secrets.json` (mode 0600) — never the job database.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pixtools_desktop.core import paths

SETTINGS_FILE = "settings.json"


@dataclass
class Settings:
    # --- output (engine core)
    output_dir: str | None = None
    naming_template: str = "{stem}_{op}.{ext}"
    overwrite: str = "unique"
    keep_metadata: bool = True
    bundle_zip: bool = False
    max_pixels: int = 250_000_000  # decompression-bomb guard (24 MP photos are ~10x below)
    workers: int = 0  # 0: one per core
    isolate_jobs: bool = True  # standard ops in worker processes (parallel, crash-proof)
    max_attempts: int = 3  # transient failures retried with backoff
    db_path: str | None = None  # None: user data dir
    # --- denoise (ml)
    weights_path: str | None = None
    denoise_device: str = "auto"  # auto / cpu / cuda
    denoise_threads: int = 4
    denoise_mode: str = "default"  # default / fast / max
    denoise_strength: float = 1.0
    denoise_tile: int = 0  # 0: chosen from the memory budget
    # denoise (ml, issue 14): the model a desktop denoise uses when the job does not name one
    denoise_model: str = "dncnn"  # dncnn / ffdnet
    # --- ui
    theme: str = "light"
    notifications: bool = True
    presets: list[dict[str, Any]] = field(default_factory=list)
    # --- cloud sinks
    s3_enabled: bool = False
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_bucket: str = "pixtools-images"
    s3_prefix: str = ""
    s3_profile: str | None = None
    s3_url_expiry: int = 86_400
    webhook_url: str | None = None
    webhook_on_failure: bool = False
    webhook_fail_max: int = 5
    webhook_reset_timeout: int = 60
    # --- remote backend
    backend: str = "local"  # "local" or "remote"
    backend_url: str | None = None
    poll_interval: float = 2.0
    download_archive: bool = False

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_ENV_PREFIX = "PIXTOOLS_"
# Environment names that are not plain upper-cased field names.
_ENV_ALIASES = {"PIXTOOLS_BACKEND_URL": "backend_url", "PIXTOOLS_WEIGHTS": "weights_path", "PIXTOOLS_DB": "db_path"}


def _coerce(value: str, target: Any) -> Any:
    if isinstance(target, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(target, int):
        return int(value)
    if isinstance(target, float):
        return float(value)
    if isinstance(target, list):
        return json.loads(value)
    return value


def settings_path() -> Path:
    return paths.config_dir() / SETTINGS_FILE


def load_settings(path: Path | None = None, *, env: bool = True) -> Settings:
    """Read the settings file (missing or corrupt: defaults), then apply env overrides."""
    path = path or settings_path()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}  # a corrupt settings file must never stop the app
    defaults = Settings()
    known = {f.name: getattr(defaults, f.name) for f in dataclasses.fields(Settings)}
    clean = {k: v for k, v in data.items() if k in known}
    settings = Settings(**clean)
    if env:
        for f in dataclasses.fields(Settings):
            name = _ENV_PREFIX + f.name.upper()
            aliases = [k for k, v in _ENV_ALIASES.items() if v == f.name]
            for env_name in [name, *aliases]:
                if env_name in os.environ:
                    try:
                        setattr(settings, f.name, _coerce(os.environ[env_name], known[f.name] if known[f.name] is not None else ""))
                    except (ValueError, TypeError):
                        pass
    return settings


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically: a crash mid-save keeps the previous file."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(settings.to_json(), fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
