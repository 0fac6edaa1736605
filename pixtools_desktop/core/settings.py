"""User settings: a JSON file in the config directory plus `PIXTOOLS_*` overrides.

One flat dataclass so every front end (window, CLI, server) reads the same
values. Secrets are *not* settings: S3 credentials come from boto3's own
chain or a named profile, API keys and webhook secrets from the environment
or `remote_keys.json` (mode 0600, API keys per server URL) — never the job database.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pixtools_desktop.core import paths

SETTINGS_FILE = "settings.json"
SCHEMA_VERSION = 1
_VERSION_KEY = "schema_version"


def _migrate_0_to_1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (no version key): blank strings meant "unset", and a backend name could be capitalised."""
    for key in ("output_dir", "backend_url", "weights_path", "db_path", "webhook_url", "s3_endpoint_url"):
        if isinstance(data.get(key), str) and not data[key].strip():
            data[key] = None
    if isinstance(data.get("backend"), str):
        data["backend"] = "remote" if data["backend"].strip().lower() == "remote" else "local"
    return data


# MIGRATIONS[n] turns a version-n dict into version n+1. Append, never edit a released one.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _migrate_0_to_1}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a settings dict from its recorded schema version up to SCHEMA_VERSION."""
    data = dict(data)
    try:
        version = int(data.pop(_VERSION_KEY, 0))
    except (TypeError, ValueError):
        version = 0
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    return data


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
    # --- engine profiles (engine): what `pixtools serve` does beyond upstream's defaults
    serve_size_cap: bool = True  # cap each given resize side at 1920x1080, as upstream
    serve_keep_exif: bool = False  # upstream strips EXIF/XMP from outputs (ICC is kept)
    # --- denoise (ml)
    weights_path: str | None = None
    denoise_device: str = "auto"  # auto / cpu / cuda
    denoise_threads: int = 4
    denoise_mode: str = "default"  # default / fast / max
    denoise_strength: float = 1.0
    denoise_tile: int = 0  # 0: chosen from the memory budget
    # denoise (ml, issue 14): the model a desktop denoise uses when the job does not name one
    denoise_model: str = "auto"  # auto / dncnn / ffdnet (auto: README "Denoising real photos")
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
    # --- server/remote hardening (server helper): serve's public URL and webhook policy, remote stall limits
    serve_public_url: str | None = None  # base of result URLs (default: the bound address)
    serve_allow_private_webhooks: bool = False  # webhooks to loopback/private hosts (tests, lab setups)
    remote_stall_pending_s: float = 300.0  # a remote job not started for this long fails
    remote_stall_processing_s: float = 900.0  # a started one with no news for this long (x ops weight) fails
    # --- run state (sched): photos added while the queue is idle start without pressing Start
    auto_start: bool = False
    # --- window (window helper): default output, watch folder, last choices
    output_subfolder: str = "PixTools"  # with no output_dir: outputs go to this folder beside each photo
    watch_enabled: bool = False
    watch_folder: str | None = None
    watch_preset: str | None = None  # None: the panel's current choice
    last_preset: str | None = None  # the panel comes back to it after a restart
    last_choice: dict[str, Any] = field(default_factory=dict)  # operations/params when the choice is "(custom)"

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
    """Read the settings file (missing or corrupt: defaults), migrate it, then apply env overrides.

    The result remembers what came from the file and what the environment
    changed, so `save_settings` writes back only what the user set: a one-off
    `PIXTOOLS_WORKERS=1` run never becomes the saved value.
    """
    path = path or settings_path()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}  # a corrupt settings file must never stop the app
    if not isinstance(data, dict):
        data = {}
    data = migrate(data)
    defaults = Settings()
    known = {f.name: getattr(defaults, f.name) for f in dataclasses.fields(Settings)}
    clean = {k: v for k, v in data.items() if k in known}
    try:
        settings = Settings(**clean)
    except TypeError:
        settings, clean = Settings(), {}
    if env:
        for f in dataclasses.fields(Settings):
            name = _ENV_PREFIX + f.name.upper()
            aliases = [k for k, v in _ENV_ALIASES.items() if v == f.name]
            for env_name in [name, *aliases]:
                if env_name in os.environ:
                    try:
                        setattr(
                            settings,
                            f.name,
                            _coerce(os.environ[env_name], known[f.name] if known[f.name] is not None else ""),
                        )
                    except (ValueError, TypeError):
                        pass
    # What was loaded, to tell the user's changes from environment overrides at save time.
    settings._from_file = copy.deepcopy(clean)  # type: ignore[attr-defined]
    settings._as_loaded = copy.deepcopy(settings.to_json())  # type: ignore[attr-defined]
    return settings


def persistent_values(settings: Settings) -> dict[str, Any]:
    """What belongs in settings.json: the file's values plus what changed since loading.

    A field the environment overrode keeps its file value (or stays absent)
    unless the user changed it in this session; a Settings built in code
    (no load) saves every field that differs from the default.
    """
    current = settings.to_json()
    loaded = getattr(settings, "_as_loaded", None)
    if loaded is None:
        defaults = Settings().to_json()
        return {k: v for k, v in current.items() if v != defaults[k]}
    out = dict(getattr(settings, "_from_file", {}))
    for key, value in current.items():
        if value != loaded.get(key):
            out[key] = value
    return out


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically: a crash mid-save keeps the previous file."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
    try:
        data = {_VERSION_KEY: SCHEMA_VERSION, **persistent_values(settings)}
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        # The saved values are now the baseline for the next save.
        settings._from_file = copy.deepcopy({k: v for k, v in data.items() if k != _VERSION_KEY})  # type: ignore[attr-defined]
        settings._as_loaded = copy.deepcopy(settings.to_json())  # type: ignore[attr-defined]
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
