"""Errors that carry a message meant for a person.

Every failure that reaches a job's `error_message` is a `JobError`: its text
is shown as-is in the queue, the CLI summary and the remote API, so it must
say what went wrong with *this file* in plain words. `transient` marks errors
worth retrying automatically (disk briefly full, network hiccup); everything
else fails the job at once.
"""

from __future__ import annotations


class PixToolsError(Exception):
    """Base of all PixTools errors."""


class ValidationError(PixToolsError):
    """A request the PixTools API would reject; `status_code` is the API's."""

    def __init__(self, detail: str, status_code: int = 422) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status_code = status_code


class JobError(PixToolsError):
    """A job failed; `str(err)` is the message a user reads."""

    transient: bool = False

    def __init__(self, message: str, *, transient: bool | None = None) -> None:
        super().__init__(message)
        if transient is not None:
            self.transient = transient


class ImageDecodeError(JobError):
    """The input could not be read as an image (corrupt, truncated, mislabeled, too big)."""


class UnsupportedImageError(ImageDecodeError):
    """The input is a real file but not an image format we read."""


class OutputWriteError(JobError):
    """Writing an output failed (read-only folder, disk full, ...)."""


class ModelUnavailableError(JobError):
    """The denoise model (weights) is not installed or cannot be loaded."""


class JobCancelled(PixToolsError):
    """Raised at a cancellation point when the job was cancelled."""
