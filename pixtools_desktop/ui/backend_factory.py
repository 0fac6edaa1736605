"""Build the window's backend from the settings (the core LocalRunner or a remote API server)."""

from __future__ import annotations

import logging

from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore

log = logging.getLogger(__name__)


def make_backend(store: JobStore, settings: Settings):
    """Return `(backend, note)`: note is a sentence for the user when we fell back, else ''.

    `settings.backend == "remote"` uses `pixtools_desktop.remote.backend.RemoteBackend`
    when a server URL is set; otherwise (or for "local") jobs run on this machine.
    """
    note = ""
    if settings.backend == "remote":
        from pixtools_desktop.remote.backend import RemoteBackend

        if not settings.backend_url:
            note = "Remote backend chosen but no server URL is set; jobs run on this computer."
        else:
            try:
                return RemoteBackend(store, settings), ""
            except ValueError as exc:  # a hand-edited, malformed URL
                log.warning("remote backend URL rejected", extra={"error": str(exc)})
                note = f"The remote server URL is not valid ({exc}); jobs run on this computer."
    from pixtools_desktop import wiring
    from pixtools_desktop.core.runner import LocalRunner

    return LocalRunner(store, settings, denoiser_factory=wiring.denoiser_factory), note
