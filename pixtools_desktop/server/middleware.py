"""Pure-ASGI middleware: request ids on every response, and an upload size cap.

Pure ASGI (not `@app.middleware("http")`) so it also wraps error responses
and can stop reading a body that is too big instead of buffering it.
"""

from __future__ import annotations

import json
import re
import uuid

from pixtools_desktop.core.logs import request_id_var

_VALID_RID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
FORM_OVERHEAD = 1024 * 1024  # multipart framing and the small text fields


class RequestIdMiddleware:
    """Echo a sane X-Request-ID (or a fresh one) on every response, and put it in the log context."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = None
        for k, v in scope.get("headers", []):
            if k == b"x-request-id":
                rid = v.decode("latin-1")
                break
        if not rid or not _VALID_RID.match(rid):
            rid = str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


class UploadLimitMiddleware:
    """413 for bodies far over the limit, without reading them.

    A declared Content-Length over limit + overhead is refused before a byte
    is read; a body without one is counted while streaming and cut off. The
    exact per-file check ("File exceeds 10MB limit") happens in the route,
    which only ever sees bodies within this bound.
    """

    def __init__(self, app, *, limit_bytes: int, path: str = "/api/process") -> None:
        self.app = app
        self.limit = limit_bytes + FORM_OVERHEAD
        self.mb = limit_bytes // (1024 * 1024)
        self.path = path

    async def _too_large(self, send) -> None:
        body = json.dumps({"detail": f"File exceeds {self.mb}MB limit"}, separators=(",", ":")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") != self.path:
            await self.app(scope, receive, send)
            return
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    if int(v) > self.limit:
                        await self._too_large(send)
                        return
                except ValueError:
                    pass
        seen = 0
        exceeded = False
        started = False

        async def counting_receive():
            nonlocal seen, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message) -> None:
            nonlocal started
            if exceeded:
                if not started:
                    started = True
                    await self._too_large(send)
                return
            started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)
        if exceeded and not started:
            await self._too_large(send)
