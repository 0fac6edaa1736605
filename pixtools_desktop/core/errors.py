"""Errors that carry a message meant for a person, and a code meant for programs.

Every failure that reaches a job's `error_message` is a `JobError`: its text
is shown as-is in the queue, the CLI summary and the remote API, so it must
say what went wrong with *this file* in plain words. Its `code` (one of
`ErrorCode`) is stored beside the message, so the window, the CLI's `--json`
and `serve` decide by code and never by matching text. `transient` marks
errors worth retrying automatically (disk briefly full, network hiccup);
everything else fails the job at once.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Why a job failed, for programs. Stable: scripts and the UI depend on these strings."""

    DAMAGED = "damaged"  # the input is not a decodable image of the kind it claims to be
    UNSUPPORTED = "unsupported"  # a real file, but not an image format we read
    TOO_LARGE = "too_large"  # the input or an output would exceed max_pixels
    MISSING_INPUT = "missing_input"  # the input file vanished or cannot be read
    DISK_FULL = "disk_full"  # no space (or quota) left where outputs go
    WRITE_FAILED = "write_failed"  # the output folder is read-only or otherwise unwritable
    MODEL_MISSING = "model_missing"  # denoise weights absent or unloadable
    OUT_OF_MEMORY = "out_of_memory"
    CANCELLED = "cancelled"
    CRASHED = "crashed"  # a worker process died on this file
    REJECTED = "rejected"  # a server would refuse (or refused) the request
    REMOTE_FAILED = "remote_failed"  # the remote server reported a failure
    SERVER_STALLED = "server_stalled"  # the remote server stopped making progress
    NETWORK = "network"
    INTERNAL = "internal"  # a bug: the log has the traceback


OUT_OF_MEMORY_MESSAGE = "Not enough memory to process this image. Close other programs or lower the image size limit."


class PixToolsError(Exception):
    """Base of all PixTools errors."""


class ValidationError(PixToolsError):
    """A request the PixTools API would reject; `status_code` is the API's."""

    def __init__(self, detail: str, status_code: int = 422) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status_code = status_code


class JobError(PixToolsError):
    """A job failed; `str(err)` is the message a user reads, `code` the reason for programs."""

    transient: bool = False
    code: str = ErrorCode.INTERNAL

    def __init__(self, message: str, *, transient: bool | None = None, code: str | None = None) -> None:
        super().__init__(message)
        if transient is not None:
            self.transient = transient
        if code is not None:
            self.code = str(code)


class ImageDecodeError(JobError):
    """The input could not be read as an image (corrupt, truncated, mislabeled, too big)."""

    code = ErrorCode.DAMAGED


class UnsupportedImageError(ImageDecodeError):
    """The input is a real file but not an image format we read."""

    code = ErrorCode.UNSUPPORTED


class OutputWriteError(JobError):
    """Writing an output failed (read-only folder, disk full, ...)."""

    code = ErrorCode.WRITE_FAILED


class ModelUnavailableError(JobError):
    """The denoise model (weights) is not installed or cannot be loaded."""

    code = ErrorCode.MODEL_MISSING


class JobCancelled(PixToolsError):
    """Raised at a cancellation point when the job was cancelled."""
