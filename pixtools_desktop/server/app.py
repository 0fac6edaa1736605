"""The FastAPI app of `pixtools serve`: the routes of PIXTOOLS_API.md.

Status codes, field names and error texts follow the upstream FastAPI server
(`NFRohan/PixTools`, app/routers/jobs.py), validated by the same functions the
desktop uses (`core.ops`, api_compatible=True), in upstream's order: size
(413), declared type (400), then operations, params, webhook_url and
same-format (422). On top of upstream: the bytes are sniffed and must be what
the declared type says (400), and uploads are stored under generated names.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import shutil
import uuid
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Header, HTTPException, Request, UploadFile, status
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

from pixtools_desktop.cloud.s3 import content_disposition
from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.ops import (
    OperationRequest,
    check_same_format,
    check_upload_output_size,
    parse_operation_params,
    parse_operations,
)
from pixtools_desktop.core.profile import api_profile
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.sniff import ACCEPTED_MIME_TYPES, MIME_TO_EXT, describe, sniff_stream
from pixtools_desktop.server.config import ServerConfig
from pixtools_desktop.server.middleware import RequestIdMiddleware, UploadLimitMiddleware
from pixtools_desktop.server.service import ServeService
from pixtools_desktop.server.webhook_guard import WebhookPolicy, check_at_submit

log = logging.getLogger(__name__)

MIN_FREE_BYTES = 200 * 1024 * 1024
MAX_IDEMPOTENCY_KEY = 255
IDEMPOTENCY_CONFLICT_HEADER = "X-Idempotency-Conflict"


class ErrorBody(BaseModel):
    """Every error answer: upstream's texts are strings, FastAPI's own 422s are lists of {loc, msg}."""

    detail: str | list[dict[str, Any]] | dict[str, Any]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route gives (the fuzz test holds us to them)."""
    return {code: {"model": ErrorBody} for code in codes}


def _health_payload(deps: dict[str, str]) -> tuple[int, dict]:
    healthy = all(v == "ok" for v in deps.values())
    body = {"status": "healthy" if healthy else "unhealthy", "dependencies": deps}
    if healthy:
        return 200, body
    return 503, {"detail": body}  # the FastAPI server wraps it (HTTPException)


def create_app(config: ServerConfig, settings: Settings, *, service: ServeService | None = None) -> FastAPI:
    svc = service or ServeService(config, settings)
    webhook_policy = WebhookPolicy(allow_private=config.allow_private_webhooks, own_port=config.port)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await asyncio.to_thread(svc.start)
        sweeper = asyncio.create_task(_sweep_forever(svc))
        try:
            yield
        finally:
            sweeper.cancel()
            await asyncio.to_thread(svc.stop)

    app = FastAPI(title="PixTools API (pixtools serve)", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.service = svc

    def require_key(x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None) -> None:
        if config.api_key is None:
            return
        if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), config.api_key.encode()):
            raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Invalid API key")

    @app.post(
        "/api/process",
        status_code=status.HTTP_202_ACCEPTED,
        dependencies=[Depends(require_key)],
        responses=_errors(400, 401, 413, 422),
    )
    async def create_job(
        request: Request,
        file: Annotated[UploadFile, File(description="Image file to process")],
        operations: Annotated[str, Form(description='JSON array of operations, e.g. ["webp","denoise"]')],
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
        operation_params: Annotated[str | None, Form()] = None,
        webhook_url: Annotated[str | None, Form()] = None,
    ):
        size = file.size if file.size is not None else await asyncio.to_thread(_stream_size, file)
        if size > config.max_upload_bytes:
            raise HTTPException(413, detail=f"File exceeds {config.max_upload_mb}MB limit")
        if file.content_type not in ACCEPTED_MIME_TYPES:
            raise HTTPException(
                400, detail=f"Unsupported file type: {file.content_type}. Accepted: {ACCEPTED_MIME_TYPES}"
            )
        real, head = sniff_stream(file.file)
        if real != file.content_type:
            what = real or describe(head)
            raise HTTPException(
                400,
                detail=f"File content does not match its declared type: declared {file.content_type}, "
                f"but the file is {what}",
            )
        try:
            if idempotency_key and len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
                raise ValidationError(f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY} characters")
            ops = parse_operations(operations, api_compatible=True)
            params = parse_operation_params(operation_params, ops, api_compatible=True)
            hook = await asyncio.to_thread(check_at_submit, webhook_url, webhook_policy)
            check_same_format(file.filename, ops, api_compatible=True)
            # A resize bomb (64 x 48 asked for 20000 x 20000) is a 422 before any work.
            await asyncio.to_thread(
                check_upload_output_size,
                params,
                file.file,
                max_pixels=settings.max_pixels,
                profile=api_profile(settings),
            )
        except ValidationError as exc:
            raise HTTPException(exc.status_code, detail=exc.detail) from exc
        file.file.seek(0)
        job_id, conflict = await asyncio.to_thread(
            svc.submit,
            upload=file.file,
            ext=MIME_TO_EXT[real],
            original_name=file.filename,
            request=OperationRequest(tuple(ops), params),
            webhook_url=hook,
            idempotency_key=(idempotency_key or None),
            request_id=request.scope.get("state", {}).get("request_id"),
        )
        headers = (
            {
                IDEMPOTENCY_CONFLICT_HEADER: "the first job with this key is returned; this request differed "
                "from it and was not run"
            }
            if conflict
            else None
        )
        return JSONResponse({"job_id": job_id, "status": "PENDING"}, status_code=202, headers=headers)

    @app.get("/api/jobs/{job_id}", dependencies=[Depends(require_key)], responses=_errors(401, 404, 422))
    async def get_job(job_id: uuid.UUID):
        view = await asyncio.to_thread(svc.job_view, str(job_id))  # URLs under the configured public base
        if view is None:
            raise HTTPException(404, detail=f"Job {job_id} not found")
        return view

    @app.get("/api/files/{job_id}/{name}", responses=_errors(403, 404, 422))
    async def get_file(job_id: uuid.UUID, name: str, expires: str | None = None, signature: str | None = None):
        if not svc.signer.verify(str(job_id), name, expires, signature):
            raise HTTPException(403, detail="This download link is invalid or has expired")
        found = await asyncio.to_thread(svc.file_for, str(job_id), name)
        if found is None:
            raise HTTPException(404, detail=f"No {name} output for job {job_id}")
        path, download_name, media_type = found
        # an ASCII fallback plus RFC 5987 filename* (as the S3 presigned URLs send it): non-ASCII names survive
        return FileResponse(
            path, media_type=media_type, headers={"Content-Disposition": content_disposition(download_name)}
        )

    @app.get("/api/livez")
    async def livez():
        return {"status": "alive"}

    @app.get("/api/readyz", responses={503: {"model": ErrorBody}})
    async def readyz():
        code, body = _health_payload(await asyncio.to_thread(_core_deps, svc))
        return JSONResponse(body, status_code=code)

    @app.get("/api/health", responses={503: {"model": ErrorBody}})
    async def health():
        deps = await asyncio.to_thread(_core_deps, svc)
        deps["storage"] = await asyncio.to_thread(_storage_dep, svc)
        if svc.publisher.s3_mode:  # upstream's S3 dependency: a head_bucket
            deps["s3"] = await asyncio.to_thread(svc.publisher.s3_health)
        code, body = _health_payload(deps)
        return JSONResponse(body, status_code=code)

    app.add_middleware(UploadLimitMiddleware, limit_bytes=config.max_upload_bytes)
    app.add_middleware(RequestIdMiddleware)  # outermost: every response gets the id, 413s included
    return app


def _stream_size(file: UploadFile) -> int:
    f = file.file
    f.seek(0, 2)
    n = f.tell()
    f.seek(0)
    return n


def _core_deps(svc: ServeService) -> dict[str, str]:
    try:
        svc.store.query("SELECT 1")
        db = "ok"
    except Exception:  # noqa: BLE001
        db = "unreachable"
    return {"database": db, "workers": "ok" if svc.workers_alive() else "unreachable"}


def _storage_dep(svc: ServeService) -> str:
    try:
        free = shutil.disk_usage(svc.config.data_dir).free
    except OSError:
        return "unreachable"
    return "ok" if free >= MIN_FREE_BYTES else "unreachable"


async def _sweep_forever(svc: ServeService) -> None:
    from pixtools_desktop.server.service import SWEEP_INTERVAL_S

    while True:
        await asyncio.sleep(SWEEP_INTERVAL_S)
        try:
            await asyncio.to_thread(svc.sweep_expired)
        except Exception:  # noqa: BLE001
            log.exception("retention sweep failed")
