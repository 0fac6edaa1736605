"""Where PixTools keeps its files (platformdirs), overridable for tests.

`PIXTOOLS_HOME` puts config, data, logs and cache under one folder: the tests
use it so that no test ever touches a real user's directories.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "PixTools"
APP_AUTHOR = "PixTools"


def _home() -> Path | None:
    home = os.environ.get("PIXTOOLS_HOME")
    return Path(home) if home else None


def config_dir() -> Path:
    home = _home()
    path = home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    home = _home()
    path = home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    home = _home()
    path = home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    home = _home()
    path = home / "cache" if home else Path(platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_path() -> Path:
    return data_dir() / "jobs.sqlite3"


def user_weights_dir() -> Path:
    path = data_dir() / "weights"
    path.mkdir(parents=True, exist_ok=True)
    return path


def bundled_weights_dir() -> Path:
    """The `weights/` folder beside the package (source tree or PyInstaller bundle)."""
    import sys

    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[2]))
    return base / "weights"


def resources_dir() -> Path:
    import sys

    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[2]))
    return base / "resources"
