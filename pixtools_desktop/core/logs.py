"""Structured JSON logs with the request and job that each line belongs to.

`request_id` and `job_id` live in ContextVars: set them once where a batch
or a job starts and every log line below carries them, so a user can grep
one batch's whole story out of the log file. Secrets never reach a record:
`redact()` is applied to any value that may hold a URL with credentials.
"""

from __future__ import annotations

import contextvars
import logging
import logging.handlers
import re
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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


_SECRET_QS = re.compile(r"(?i)(X-Amz-Signature|X-Amz-Credential|Signature|api_key|apikey|token|secret)=[^&\s]+")
_USERINFO = re.compile(r"(?i)(https?://)[^/@\s]+@")


def redact(text: str) -> str:
    """Strip credentials from URLs and query strings before they are logged or stored."""
    return _USERINFO.sub(r"\1***@", _SECRET_QS.sub(r"\1=***", text))


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
    root.addHandler(handler)
    root.setLevel(level)
    _configured_handler = handler
    if console:
        stream = logging.StreamHandler()
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
