"""Run one claimed job and record its outcome in the store.

Called by the one local runner (core/runner.py), which the window, the CLI
and the server all use, so retries, cancellation and error messages behave
the same everywhere.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable

from pixtools_desktop.core.engine import DenoiserFactory, EngineContext, JobResult, run_job
from pixtools_desktop.core.errors import OUT_OF_MEMORY_MESSAGE, ErrorCode, JobCancelled, JobError
from pixtools_desktop.core.jobs import Job, JobStatus
from pixtools_desktop.core.logs import log_context
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 2.0
BACKOFF_MAX_S = 300.0
PROGRESS_MIN_INTERVAL_S = 0.2  # the store is not a progress bus: throttle writes


def backoff_delay(attempt: int) -> float:
    factor: int = 2 ** max(0, attempt - 1)  # int ** int is Any to mypy (a negative power is a float)
    return min(BACKOFF_MAX_S, BACKOFF_BASE_S * factor)


def unexpected_error_code(exc: BaseException) -> str:
    return ErrorCode.OUT_OF_MEMORY if isinstance(exc, MemoryError) else ErrorCode.INTERNAL


def unexpected_error_message(exc: BaseException) -> str:
    """An internal error still gets a sentence a person can act on (and the log has the traceback)."""
    if isinstance(exc, MemoryError):
        return OUT_OF_MEMORY_MESSAGE
    return f"Internal error while processing this file ({type(exc).__name__}: {exc}). Details are in the log file."


def execute_job(
    store: JobStore,
    job: Job,
    settings: Settings,
    *,
    denoiser_factory: DenoiserFactory | None = None,
    on_progress: Callable[[str, float], None] | None = None,
    is_cancelled: Callable[[str], bool] | None = None,
    is_shutting_down: Callable[[], bool] | None = None,
    engine: Callable[[Job, EngineContext], JobResult] = run_job,
) -> Job:
    """Run a job that `store.claim_next` handed us; return its final row.

    `engine` runs the pixels: `run_job` in this thread, or a `ProcessPool.run`
    for standard jobs in a worker process; the outcome handling is the same.
    """
    last_write = [0.0]

    def progress(fraction: float) -> None:
        now = time.monotonic()
        if on_progress is not None:
            on_progress(job.id, fraction)
        if now - last_write[0] >= PROGRESS_MIN_INTERVAL_S:
            last_write[0] = now
            store.set_progress(job.id, fraction)

    def user_cancelled() -> bool:
        if is_cancelled is not None and is_cancelled(job.id):
            return True
        return store.is_cancel_requested(job.id)

    def cancelled() -> bool:
        return user_cancelled() or (is_shutting_down is not None and is_shutting_down())

    ctx = EngineContext(
        settings=settings,
        progress=progress,
        cancelled=cancelled,
        save_outputs=lambda outs: store.save_outputs(job.id, outs),
        denoiser_factory=denoiser_factory,
    )
    with log_context(request_id=job.request_id, job_id=job.id):
        log.info("job started", extra={"input": job.input_path, "operations": job.operations, "attempt": job.attempts})
        t0 = time.monotonic()
        try:
            result: JobResult = engine(job, ctx)
        except JobCancelled:
            if user_cancelled():
                store.mark_cancelled(job.id)
                log.info("job cancelled")
            else:  # the app is quitting: the job resumes at next start
                store.requeue(job.id)
                log.info("job interrupted by shutdown, re-queued")
        except JobError as exc:
            message = str(exc)
            if exc.transient and job.attempts < settings.max_attempts:
                delay = backoff_delay(job.attempts)
                store.fail(job.id, f"{message} Retrying in {delay:.0f} s.", retry_at=time.time() + delay, code=exc.code)
                log.warning("job failed, will retry", extra={"error": message, "retry_in_s": delay})
            else:
                store.fail(job.id, message, code=exc.code)
                log.warning("job failed", extra={"error": message, "code": exc.code})
        except Exception as exc:  # noqa: BLE001 - one bad file must never stop the batch
            # MemoryError lands here too: never retried (the same file needs the same memory again).
            store.fail(job.id, unexpected_error_message(exc), code=unexpected_error_code(exc))
            log.error("job crashed", extra={"error": repr(exc), "traceback": traceback.format_exc()})
        else:
            store.complete(job.id, outputs=result.outputs, metadata=result.metadata, warnings=result.warnings)
            log.info(
                "job completed", extra={"seconds": round(time.monotonic() - t0, 3), "outputs": len(result.outputs)}
            )
    final = store.get(job.id)
    assert final is not None
    if final.status == JobStatus.PROCESSING:  # should not happen; never leave a job stuck
        store.fail(job.id, "The job stopped without a result.", code=ErrorCode.INTERNAL)
        final = store.get(job.id)
    return final  # type: ignore[return-value]
