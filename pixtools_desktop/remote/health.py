"""The remote server's health in the app's health report: {"remote": "ok" | "not configured" | "unhealthy: …"}.

One of the checks `pixtools_desktop.wiring` passes to core.health. Only checked when the app is set
to use the remote backend.
"""

from __future__ import annotations

from pixtools_desktop.core.health import NOT_CONFIGURED, OK
from pixtools_desktop.core.settings import Settings


def probe(base_url: str, api_key: str | None = None, *, transport=None) -> str:
    """ "ok", or "unhealthy: <why>", from GET /api/health of one server."""
    from pixtools_desktop.remote.api import ApiClient, RemoteError

    try:
        api = ApiClient(base_url, api_key, transport=transport)
    except ValueError as exc:
        return f"unhealthy: {exc}"
    try:
        code, body = api.health()
    except RemoteError as exc:
        return f"unhealthy: {exc}"
    finally:
        api.close()
    if code == 200 and body.get("status") == "healthy":
        return OK
    deps = body.get("dependencies") or {}
    bad = ", ".join(f"{k} {v}" for k, v in deps.items() if v != "ok") if isinstance(deps, dict) else ""
    return f"unhealthy: the server answered {code}" + (f" ({bad})" if bad else "")


def check_remote(settings: Settings) -> dict[str, str]:
    if settings.backend != "remote":
        return {"remote": NOT_CONFIGURED}
    if not settings.backend_url:
        return {"remote": "unhealthy: the remote backend is on but no server URL is set"}
    from pixtools_desktop.remote.api import normalize_base_url
    from pixtools_desktop.remote.secrets import resolve_api_key

    try:
        url = normalize_base_url(settings.backend_url)
    except ValueError as exc:
        return {"remote": f"unhealthy: {exc}"}
    return {"remote": probe(url, resolve_api_key(url))}
