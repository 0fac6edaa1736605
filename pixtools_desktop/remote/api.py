"""HTTP calls to a PixTools API server, and what their failures mean to a person.

Every failure becomes a `RemoteError` with a sentence for the job's error
message and a `kind` that tells the backend what to do:
- "offline": the network or the server is unreachable -> pause and retry;
- "server": 5xx / 429 / garbage answers -> retry a few times, then fail;
- "expired": a download link was refused (403) -> poll again for fresh URLs;
- "fatal": the server said no (400/401/404/413/422, bad TLS) -> fail the job.

The API key is sent only to the API's own host (never to a presigned
download URL on another host) and never logged.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlparse

import httpx

from pixtools_desktop import __version__

OFFLINE, SERVER, EXPIRED, FATAL = "offline", "server", "expired", "fatal"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class RemoteError(Exception):
    def __init__(self, message: str, *, kind: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


def normalize_base_url(url: str) -> str:
    """`https://host:port` (a trailing `/` or `/api` is dropped); raises ValueError when not http(s)."""
    url = (url or "").strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"The server URL {url!r} is not an http:// or https:// address.")
    path = parsed.path.rstrip("/")
    if path.endswith("/api"):
        path = path[: -len("/api")]
    return f"{parsed.scheme}://{parsed.netloc}{path}"


def detail_text(detail: Any) -> str:
    """`detail` as one readable line: a string, or FastAPI's list of {loc, msg}."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = [str(p) for p in item.get("loc", []) if p not in ("body", "query", "path", "header")]
                msg = item.get("msg", "")
                parts.append(f"{'.'.join(loc)}: {msg}" if loc else str(msg))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    if isinstance(detail, dict):
        return json.dumps(detail, sort_keys=True)
    return "" if detail is None else str(detail)


def _detail(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        text = resp.text.strip().replace("\n", " ")
        return text[:200]
    if isinstance(body, dict) and "detail" in body:
        return detail_text(body["detail"])
    return json.dumps(body)[:200]


def explain_status(resp: httpx.Response, *, base_url: str, what: str, has_key: bool) -> RemoteError:
    """A person-readable error for a non-success answer; `what` is "submit", "poll" or "download"."""
    code = resp.status_code
    detail = _detail(resp)
    suffix = f": {detail}" if detail else ""
    if code == 400:
        return RemoteError(f"The server refused the file (400){suffix}", kind=FATAL, status=code)
    if code == 401:
        if has_key:
            msg = (
                "The server rejected the API key (401). Check the key for this server in Settings > Remote "
                "backend, --api-key or PIXTOOLS_API_KEY."
            )
        else:
            msg = (
                "The server requires an API key (401). Set it in Settings > Remote backend, --api-key or "
                "PIXTOOLS_API_KEY."
            )
        return RemoteError(msg, kind=FATAL, status=code)
    if code == 403 and what == "download":
        return RemoteError(f"The server refused the download link (403){suffix}", kind=EXPIRED, status=code)
    if code == 404:
        if what == "poll":
            return RemoteError(
                f"The server no longer has this job (404{suffix}). Servers delete jobs 24 h after they were "
                "created; submit the file again.",
                kind=FATAL,
                status=code,
            )
        if what == "download":
            return RemoteError(f"A result file is gone from the server (404){suffix}", kind=EXPIRED, status=code)
        return RemoteError(
            f"{base_url} does not offer the PixTools API (404 for /api/process). Check the server URL.",
            kind=FATAL,
            status=code,
        )
    if code == 413:
        return RemoteError(f"The file is too large for the server (413){suffix}", kind=FATAL, status=code)
    if code == 422:
        return RemoteError(f"The server rejected the request (422){suffix}", kind=FATAL, status=code)
    if code == 429:
        return RemoteError("The server is busy (429); trying again shortly.", kind=SERVER, status=code)
    if code >= 500:
        return RemoteError(f"The server had an internal error ({code}){suffix}", kind=SERVER, status=code)
    return RemoteError(f"Unexpected answer from the server ({code}){suffix}", kind=FATAL, status=code)


def origin_of(url: str) -> str:
    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def explain_network(exc: Exception, base_url: str, *, storage: bool = False) -> RemoteError:
    """`storage`: the failing host is not the API server but where it stores results (an S3 endpoint)."""
    text = str(exc) or type(exc).__name__
    if storage:
        where = f"the storage server at {base_url} (where the API server keeps the results)"
        if isinstance(exc, httpx.TimeoutException):
            return RemoteError(f"Downloading a result stalled: {where} did not answer in time.", kind=OFFLINE)
        if isinstance(exc, httpx.ConnectError):
            return RemoteError(f"Cannot reach {where} to download a result ({text}).", kind=OFFLINE)
        return RemoteError(f"The download from {where} was cut off ({text}).", kind=OFFLINE)
    cause = exc.__cause__ or exc.__context__
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(cause, ssl.SSLCertVerificationError):
        return RemoteError(
            f"The server's TLS certificate could not be verified ({text}). Fix the certificate or the URL; "
            "PixTools does not connect to servers it cannot verify.",
            kind=FATAL,
        )
    if isinstance(exc, httpx.TimeoutException):
        return RemoteError(f"The server at {base_url} did not answer in time.", kind=OFFLINE)
    if isinstance(exc, httpx.ConnectError):
        return RemoteError(f"Cannot reach the server at {base_url} ({text}).", kind=OFFLINE)
    return RemoteError(f"The connection to the server at {base_url} was lost ({text}).", kind=OFFLINE)


class ApiClient:
    """A thin, synchronous client for one server (one connection pool, thread-safe)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self._api_key = api_key or None
        self._client = httpx.Client(
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": f"PixTools-Desktop/{__version__}"},
        )

    @property
    def has_key(self) -> bool:
        return self._api_key is not None

    def __repr__(self) -> str:
        return f"ApiClient({self.base_url!r}, api_key={'set' if self._api_key else 'none'})"

    def close(self) -> None:
        self._client.close()

    def _headers(self, request_id: str | None = None, idempotency_key: str | None = None) -> dict[str, str]:
        h: dict[str, str] = {}
        if self._api_key:
            h["X-API-Key"] = self._api_key
        if request_id:
            h["X-Request-ID"] = request_id
        if idempotency_key:
            h["Idempotency-Key"] = idempotency_key
        return h

    def _json(self, resp: httpx.Response) -> dict:
        try:
            body = resp.json()
        except ValueError as exc:
            raise RemoteError(
                f"The server at {self.base_url} did not answer with PixTools JSON "
                f"({resp.status_code}, {resp.headers.get('content-type', 'no type')}).",
                kind=SERVER,
            ) from exc
        if not isinstance(body, dict):
            raise RemoteError("The server's answer was not a JSON object.", kind=SERVER)
        return body

    def submit(
        self,
        path: Path,
        *,
        filename: str,
        mime: str,
        operations: list[str],
        params: dict,
        webhook_url: str | None,
        idempotency_key: str,
        request_id: str | None,
    ) -> str:
        """POST /api/process; returns the server's job id."""
        data = {"operations": json.dumps(operations)}
        if params:
            data["operation_params"] = json.dumps(params)
        if webhook_url:
            data["webhook_url"] = webhook_url
        try:
            with open(path, "rb") as fh:
                resp = self._client.post(
                    f"{self.base_url}/api/process",
                    data=data,
                    files={"file": (filename, fh, mime)},
                    headers=self._headers(request_id, idempotency_key),
                )
        except httpx.HTTPError as exc:
            raise explain_network(exc, self.base_url) from exc
        if resp.status_code not in (200, 201, 202):
            raise explain_status(resp, base_url=self.base_url, what="submit", has_key=self.has_key)
        job_id = self._json(resp).get("job_id")
        if not isinstance(job_id, str) or not job_id:
            raise RemoteError("The server accepted the file but sent no job id.", kind=SERVER)
        return job_id

    def get_job(self, remote_id: str, *, request_id: str | None = None) -> dict:
        try:
            resp = self._client.get(f"{self.base_url}/api/jobs/{remote_id}", headers=self._headers(request_id))
        except httpx.HTTPError as exc:
            raise explain_network(exc, self.base_url) from exc
        if resp.status_code != 200:
            raise explain_status(resp, base_url=self.base_url, what="poll", has_key=self.has_key)
        return self._json(resp)

    def download(self, url: str, fh: BinaryIO) -> None:
        """Stream one result into `fh`; the API key goes only to the API's own host."""
        same_host = urlparse(url).netloc == urlparse(self.base_url).netloc
        headers = self._headers() if same_host else {}
        host = self.base_url if same_host else origin_of(url)  # errors name the host that failed
        try:
            with self._client.stream("GET", url, headers=headers) as resp:
                if resp.status_code != 200:
                    resp.read()
                    err = explain_status(resp, base_url=self.base_url, what="download", has_key=self.has_key)
                    if not same_host:
                        err = RemoteError(
                            f"{err} (from the storage server at {host})", kind=err.kind, status=err.status
                        )
                    raise err
                for chunk in resp.iter_bytes(256 * 1024):
                    fh.write(chunk)
        except httpx.HTTPError as exc:
            raise explain_network(exc, host, storage=not same_host) from exc

    def health(self) -> tuple[int, dict]:
        """(status code, body) of GET /api/health, with a 503 body unwrapped from {"detail": …}."""
        try:
            resp = self._client.get(f"{self.base_url}/api/health", headers=self._headers(), timeout=10.0)
        except httpx.HTTPError as exc:
            raise explain_network(exc, self.base_url) from exc
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if isinstance(body, dict) and isinstance(body.get("detail"), dict):
            body = body["detail"]
        return resp.status_code, body if isinstance(body, dict) else {}
