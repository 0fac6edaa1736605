"""Health in the PixTools shape: {"status": "healthy"|"unhealthy", "dependencies": {...}}.

Each dependency reports "ok", a failure word ("unreachable", "error", ...),
or "not configured" — an optional part that is off is not a failure.
The checks of higher layers (model, cloud sinks, remote backend) are passed
in by the caller (`pixtools_desktop.wiring.health_report` lists them), so the
CLI and the window show one report and core imports none of them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pixtools_desktop.core.settings import Settings

OK = "ok"
NOT_CONFIGURED = "not configured"
HEALTHY_WORDS = {OK, NOT_CONFIGURED, "closed"}  # "closed": a webhook circuit breaker letting calls through
MIN_FREE_BYTES = 500 * 1024 * 1024

HealthCheck = Callable[[Settings], dict[str, str]]


def check_database(settings: Settings) -> dict[str, str]:
    from pixtools_desktop.core.paths import default_db_path
    from pixtools_desktop.core.store import JobStore

    try:
        with JobStore(settings.db_path or default_db_path()) as store:
            result = store.integrity_check()
        return {"database": OK if result == "ok" else f"corrupt: {result}"}
    except Exception as exc:  # noqa: BLE001
        return {"database": f"error: {exc}"}


def check_disk(settings: Settings) -> dict[str, str]:
    folder = Path(settings.output_dir).expanduser() if settings.output_dir else Path.home()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    word = OK if free >= MIN_FREE_BYTES else f"low: {free // (1024 * 1024)} MB free"
    return {"disk": word}


def health_report(settings: Settings, checks: Sequence[HealthCheck] = ()) -> dict[str, Any]:
    """The database and disk checks, then ``checks`` (the higher layers'), as one report."""
    deps: dict[str, str] = {}
    for check in (check_database, check_disk, *checks):
        try:
            deps.update(check(settings))
        except Exception as exc:  # noqa: BLE001 - a broken check is itself a finding
            deps[getattr(check, "__name__", "check")] = f"error: {exc}"
    healthy = all(v in HEALTHY_WORDS or v.startswith(NOT_CONFIGURED) for v in deps.values())
    return {"status": "healthy" if healthy else "unhealthy", "dependencies": deps}
