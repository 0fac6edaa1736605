"""The PySide6 window. Nothing below `ui` imports it.

Modules (Qt ones are `qt_*`-free by name but all live here, above `core`):
`app` (entry point, single instance), `main_window` (layout and wiring),
`queue_controller` (run state and queue actions), `bridge` (the core
backend's callbacks as queued signals), `queue_model` (the table model over
the job store), `run_tracker` and `eta`, `backend_factory`, `operations_panel`
and `presets`, `results_panel`, `compare_view`, `settings_dialog`,
`health_panel`, `thumbnails`, `theme`, `eta`, `single_instance`.

Extension contracts for teammates
---------------------------------
Optional settings pages. The settings dialog imports, if importable,
``pixtools_desktop.ui.qt_settings_cloud`` and
``pixtools_desktop.ui.qt_settings_remote``. Each module exposes::

    TITLE: str                              # the tab's title
    def make_page(settings: Settings) -> QWidget

and the returned widget has ``apply(settings: Settings) -> None``, which
writes the page's values into the Settings object when the user presses OK
(the dialog then saves the settings file once). It may also have
``validate() -> QWidget | None``: check everything, write nothing, show the
message beside the field at fault and return that field (None when all is
well); the dialog runs every check before any page's ``apply``. A page
without it is checked by applying it to a throwaway copy, so its ``apply``
must write nothing but the Settings it is given. A page must not store
secrets in Settings (API keys go to the environment or remote_keys.json). A
page that fails to build is skipped and logged, never fatal.

Backend. ``backend_factory.make_backend(store, settings)`` returns the
window's backend: ``settings.backend == "remote"`` tries
``pixtools_desktop.remote.backend.RemoteBackend(store, settings)``; anything
else (or no server URL) gets the core `LocalRunner`. Both
implement ``core.backend.Backend``; the window only uses that protocol plus
the store.

Result links. ``result_links(job, store=None)`` lists ``(label, url)`` pairs
shown on a finished job's card: it asks
``pixtools_desktop.cloud.links.job_links(store, job_id)`` when the cloud
layer is installed, and also picks up ``url``/``uploads`` entries found in
the job's metadata.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def _links_from(value: Any, label: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(value, str) and value.startswith(("http://", "https://", "s3://")):
        out.append((label, value))
    elif isinstance(value, dict):
        url = value.get("url") or value.get("presigned_url") or value.get("s3_url")
        if isinstance(url, str):
            out.append((str(value.get("label") or value.get("op") or value.get("key") or label), url))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(_links_from(item, f"{label} {i + 1}"))
    return out


def result_links(job: Any, store: Any = None) -> list[tuple[str, str]]:
    """(label, url) pairs for a finished job: S3 uploads and any URL the job carries."""
    links: list[tuple[str, str]] = []
    if store is not None:
        from pixtools_desktop.cloud.links import job_links

        try:
            links.extend((str(a), str(b)) for a, b in job_links(store, job.id))
        except Exception:  # noqa: BLE001 - a broken link lookup must not break the card
            log.exception("job_links failed")
    meta = getattr(job, "metadata", None)
    if isinstance(meta, dict):
        for key in ("uploads", "url", "urls", "s3"):
            if key in meta:
                links.extend(_links_from(meta[key], key))
    seen: set[str] = set()
    unique = []
    for label, url in links:
        if url not in seen:
            seen.add(url)
            unique.append((label, url))
    return unique
