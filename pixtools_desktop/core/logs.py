"""Structured JSON logs with the request and job that each line belongs to.

`request_id` and `job_id` live in ContextVars: set them once where a batch
or a job starts and every log line below carries them, so a user can grep
one batch's whole story out of the log file. Secrets never reach a record:
`RedactingFilter` sits on the handler, so every record of every logger
(httpx, botocore, uvicorn included) has its message, arguments, extra fields
and traceback passed through `redact()` before it is written; chatty
third-party loggers are kept at WARNING on top of that.
"""

from __future__ import annotations

import contextvars
import logging
import logging.handlers
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from pixtools_desktop.core import paths

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
job_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)

LOG_FILE = "pixtools.log"
_configured_handler: logging.Handler | None = None


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "job_id"):
            record.job_id = job_id_var.get()
        return True


_SECRET_QS = re.compile(
    r"(?i)\b((?:X-Amz-)?Signature|X-Amz-Credential|X-Amz-Security-Token|sig|api_key|apikey|access_token|"
    r"[a-z_]*token|secret|password|passwd|auth)=[^&\s\"',]+"
)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s\"']+@")
_AUTH_HEADER = re.compile(r"(?i)\b(authorization|x-api-key)([\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+(?:[ ][^\s\"',}]+)?")
THIRD_PARTY_LOGGERS = (
    "httpx",
    "httpcore",
    "botocore",
    "boto3",
    "s3transfer",
    "urllib3",
    "hpack",
    "multipart",
    "python_multipart",
    "uvicorn.access",
    "PIL",
)


def redact(text: str) -> str:
    """Strip credentials from URLs, query strings and auth headers before they are logged or stored."""
    text = _SECRET_QS.sub(r"\1=***", text)
    text = _USERINFO.sub(r"\1***@", text)
    return _AUTH_HEADER.sub(r"\1\2***", text)


_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def _redact_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact(value)
    if depth > 4:
        return value
    if isinstance(value, dict):
        return {k: _redact_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact_value(v, depth + 1) for v in value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact(str(value))


class RedactingFilter(logging.Filter):
    """Handler filter: no record leaves with a credential in its message, extras or traceback."""

    _fmt = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not hide the record
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS:
                record.__dict__[key] = _redact_value(value)
        if record.exc_info:
            record.exc_text = redact(self._fmt.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def new_request_id() -> str:
    return uuid.uuid4().hex


def setup_logging(level: int = logging.INFO, log_file: Path | None = None, *, console: bool = False) -> Path:
    """JSON lines to a rotating file in the log directory (idempotent)."""
    global _configured_handler
    root = logging.getLogger()
    path = log_file or paths.log_dir() / LOG_FILE
    if _configured_handler is not None:
        root.removeHandler(_configured_handler)
        _configured_handler.close()
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(
        JsonFormatter(
            "%(timestamp)s %(levelname)s %(name)s %(message)s %(request_id)s %(job_id)s",
            rename_fields={"levelname": "level"},
            timestamp=True,
        )
    )
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for name in THIRD_PARTY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    _configured_handler = handler
    if console:
        stream = logging.StreamHandler()
        stream.addFilter(RedactingFilter())
        stream.setLevel(logging.WARNING)
        stream.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        root.addHandler(stream)
    return path


@contextmanager
def log_context(*, request_id: str | None = None, job_id: str | None = None) -> Iterator[None]:
    tokens = []
    if request_id is not None:
        tokens.append((request_id_var, request_id_var.set(request_id)))
    if job_id is not None:
        tokens.append((job_id_var, job_id_var.set(job_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
