"""RemoteBackend: the Backend protocol over a PixTools API server.

Jobs live in the same JobStore as local ones, with `backend=<base URL>`, so
the queue, history, CLI summary and crash recovery are shared; local workers
never claim them (`claim_next` takes backend='local' only). A few worker
threads claim due rows of `remote_jobs` and take one step each:

submit:  check locally what the server would refuse -> POST /api/process with
         the job's stored Idempotency-Key -> store the remote id at once.
poll:    GET /api/jobs/{id} every `settings.poll_interval` (x1.5 per unchanged
         answer, up to 30 s) -> on COMPLETED / COMPLETED_WEBHOOK_FAILED,
         download the results (see results.py) and complete the job.

A job the server never finishes does not hold the client forever: when its
remote status has not changed for the stall limit (settings
`remote_stall_pending_s` for PENDING, `remote_stall_processing_s` times the
ops' weight for PROCESSING), it fails with a sentence naming the server and
what it did; from half the limit on, the job's message says it is waiting
(the window shows `error_message` of running jobs). A failed job is re-keyed,
so "retry failed" submits it again under a fresh Idempotency-Key.

A lost connection does not fail jobs: the whole backend goes quiet for a
backoff (1, 2, 4 … 60 s) and jobs carry a "connection lost, retrying" note;
only after `max_offline_retries` failed tries does a job fail. Polling
resumes after an app restart because the remote id and schedule are rows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from pixtools_desktop.core.backend import JobEvents, JobListener
from pixtools_desktop.core.errors import ErrorCode, JobError
from pixtools_desktop.core.jobs import Job, JobStatus
from pixtools_desktop.core.logs import log_context, redact
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore, NewJob
from pixtools_desktop.core.worker_loop import WorkerLoop
from pixtools_desktop.remote import state
from pixtools_desktop.remote.api import EXPIRED, FATAL, OFFLINE, ApiClient, RemoteError, normalize_base_url
from pixtools_desktop.remote.precheck import prepare_upload
from pixtools_desktop.remote.results import download_results
from pixtools_desktop.remote.secrets import resolve_api_key

log = logging.getLogger(__name__)

MAX_POLL_INTERVAL_S = 30.0
MAX_OFFLINE_BACKOFF_S = 60.0
ARCHIVE_WAITS = 10  # polls to wait for a late archive_url before finishing without it
IDLE_WAIT_S = 0.5
_PROGRESS = {"PENDING": 0.1, "PROCESSING": 0.4}
OP_WEIGHT = {"denoise": 3}  # a PROCESSING job may take longer the more (and heavier) ops it has


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class RemoteBackend:
    """Runs jobs on a PixTools API server; implements core.backend.Backend."""

    def __init__(
        self,
        store: JobStore,
        settings: Settings,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        webhook_url: str | None = None,
        workers: int = 4,
        batch_ids: set[str] | None = None,
        max_offline_retries: int = 30,
        max_server_retries: int | None = None,
        max_poll_interval: float = MAX_POLL_INTERVAL_S,
        stall_pending_s: float | None = None,
        stall_processing_s: float | None = None,
        transport=None,
    ) -> None:
        url = base_url or settings.backend_url
        if not url:
            raise ValueError(
                "No remote server URL: set one in Settings > Remote backend, --backend or PIXTOOLS_BACKEND_URL."
            )
        self.base_url = normalize_base_url(url)
        self.store = store
        self.settings = settings
        self.api = ApiClient(self.base_url, resolve_api_key(self.base_url, api_key), transport=transport)
        self.webhook_url = webhook_url
        self.workers = max(1, workers)
        self.batch_ids = batch_ids
        self.max_offline_retries = max_offline_retries
        self.max_server_retries = (
            max_server_retries if max_server_retries is not None else max(1, settings.max_attempts)
        )
        self.poll_interval = max(0.01, settings.poll_interval)
        self.max_poll_interval = max(self.poll_interval, max_poll_interval)
        self.stall_pending_s = float(
            stall_pending_s if stall_pending_s is not None else settings.remote_stall_pending_s
        )
        self.stall_processing_s = float(
            stall_processing_s if stall_processing_s is not None else settings.remote_stall_processing_s
        )
        self.events = JobEvents()
        self._loop = WorkerLoop("pixtools-remote", self._step_once, next_due=self._next_due, poll_s=IDLE_WAIT_S)
        self._paused = threading.Event()
        self._offline_until = 0.0
        self._offline_streak = 0
        self._offline_lock = threading.Lock()

    # ---------------------------------------------------------------- Backend protocol
    def add_listener(self, listener: JobListener) -> None:
        self.events.add_listener(listener)

    def add_finish_hook(self, hook: Callable[[Job], None]) -> None:
        self.events.add_finish_hook(hook)

    def start(self) -> None:
        state.ensure_rows(self.store, self.base_url)
        state.due_now(self.store, self.base_url)
        self._loop.start(["net"] * self.workers)

    def stop(self, timeout: float | None = 60.0) -> None:
        """Stop polling; in-flight requests finish (bounded by the HTTP timeouts). Jobs stay queued."""
        self._loop.stop(timeout)
        self.api.close()

    def submit(self, new_jobs: list[NewJob]) -> list[Job]:
        for nj in new_jobs:
            nj.backend = self.base_url
        jobs = self.store.add_jobs(new_jobs)
        state.ensure_rows(self.store, self.base_url)  # idempotency keys stored before any POST
        if self.batch_ids is not None:
            self.batch_ids.update(j.batch_id for j in jobs if j.batch_id)
        self.wake()
        return jobs

    def cancel(self, job_id: str) -> None:
        """Pending: cancelled at once. Already on the server: the API has no cancel, so we stop following it."""
        result = self.store.request_cancel(job_id)
        if result == JobStatus.PROCESSING:
            self.store.mark_cancelled(job_id)
        job = self.store.get(job_id)
        if job is not None and job.status == JobStatus.CANCELLED:
            self._finished(job)

    def pause(self) -> None:
        """Stop uploading new jobs; jobs already on the server keep being followed."""
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()
        self.wake()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def wake(self) -> None:
        self._loop.wake()

    def wait_idle(self, batch_id: str | None = None, timeout: float | None = None, poll: float = 0.05) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.store.has_unfinished(batch_id=batch_id):
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(poll)
        return True

    # ---------------------------------------------------------------- events
    def _finished(self, job: Job) -> None:
        self.events.finished(job)

    def _status_changed(self, job_id: str) -> None:
        job = self.store.get(job_id)
        if job is not None:
            self.events.emit("status", job_id, job)

    # ---------------------------------------------------------------- workers
    def _step_once(self, lane: str) -> bool:
        if time.time() < self._offline_until:
            return False
        try:
            job_id = state.claim_due(
                self.store, self.base_url, batch_ids=self.batch_ids, submits_allowed=not self._paused.is_set()
            )
        except Exception:  # e.g. the database briefly locked by another process
            log.exception("remote claim failed")
            return False
        if job_id is None:
            return False
        try:
            self._step(job_id)
        except Exception:  # never lose a worker; the job is retried
            log.exception("remote step crashed", extra={"job_id": job_id})
            state.update(self.store, job_id, next_at=time.time() + self.max_poll_interval)
        finally:
            state.release(self.store, job_id)
        return True

    def _next_due(self, lane: str) -> float:
        return max(self._offline_until, state.next_due(self.store, self.base_url) or time.time() + IDLE_WAIT_S)

    def _step(self, job_id: str) -> None:
        job = self.store.get(job_id)
        row = state.load(self.store, job_id)
        if job is None or row is None or job.status.is_final:
            return
        if row.phase == state.SUBMIT and self._paused.is_set():
            return  # claimed as pause() landed: the claim's check ran before it; nothing is uploaded
        if self.store.is_cancel_requested(job_id):
            self.store.mark_cancelled(job_id)
            self._finished(self.store.get(job_id))  # type: ignore[arg-type]
            return
        with log_context(request_id=job.request_id, job_id=job_id):
            try:
                if row.phase == state.SUBMIT:
                    self._submit(job, row)
                else:
                    self._poll(job, row)
            except RemoteError as exc:
                self._on_remote_error(job, row, exc)
            except JobError as exc:
                self._fail(job_id, str(exc), code=exc.code)
            else:
                self._online()

    def _submit(self, job: Job, row: state.RemoteRow) -> None:
        upload = prepare_upload(job)  # JobError: fails the job without a round trip
        if job.status == JobStatus.PENDING:
            state.mark_processing(self.store, job.id)
            self.events.emit("started", job.id, self.store.get(job.id))
        remote_id = self.api.submit(
            upload.path,
            filename=upload.filename,
            mime=upload.mime,
            operations=upload.operations,
            params=upload.params,
            webhook_url=self.webhook_url,
            idempotency_key=row.idempotency_key,
            request_id=job.request_id,
        )
        self.store.update_fields(job.id, remote_job_id=remote_id, error_message=None, progress=0.05)
        state.update(
            self.store,
            job.id,
            phase=state.POLL,
            remote_status="PENDING",
            interval_s=self.poll_interval,
            next_at=time.time() + self.poll_interval,
            net_failures=0,
            server_errors=0,
            status_since=time.time(),
        )
        log.info("remote job submitted", extra={"remote_job_id": remote_id, "server": self.base_url})
        self.events.emit("progress", job.id, 0.05)

    def _poll(self, job: Job, row: state.RemoteRow) -> None:
        body = self.api.get_job(job.remote_job_id or "", request_id=job.request_id)
        status = str(body.get("status", ""))
        if status in ("COMPLETED", "COMPLETED_WEBHOOK_FAILED"):
            want_archive = self.settings.download_archive or job.options.bundle_zip
            if want_archive and not body.get("archive_url") and row.archive_waits < ARCHIVE_WAITS:
                state.update(
                    self.store,
                    job.id,
                    archive_waits=row.archive_waits + 1,
                    remote_status=status,
                    next_at=time.time() + min(self.poll_interval, 1.0),
                )
                return
            self._complete(job, body, want_archive)
            return
        if status == "FAILED":
            reason = body.get("error_message") or "no reason given"
            self._fail(job.id, f"The server could not process this file: {reason}")
            return
        changed = status != row.remote_status
        now = time.time()
        since = now if changed or not row.status_since else row.status_since
        limit = self.stall_limit(job, status)
        if not changed and now - since >= limit:
            self._fail(job.id, self.stall_message(status, now - since), code=ErrorCode.SERVER_STALLED)
            return
        interval = self.poll_interval if changed else min(self.max_poll_interval, row.interval_s * 1.5)
        state.update(
            self.store,
            job.id,
            remote_status=status,
            interval_s=interval,
            next_at=min(now + interval, since + limit + 0.01),
            net_failures=0,
            server_errors=0,
            status_since=since,
        )
        waiting = now - since
        if waiting >= limit / 2:  # say so while it happens: the window shows a running job's message
            verb = "not started" if status == "PENDING" else "not finished"
            note = (
                f"Waiting on the server at {self.base_url}: {verb} after {_ago(waiting)} "
                f"(stops waiting after {_ago(limit)})."
            )
            if note != job.error_message:
                self.store.update_fields(job.id, error_message=note)
                self._status_changed(job.id)
        elif changed or job.error_message:
            progress = _PROGRESS.get(status, 0.4)
            self.store.update_fields(job.id, progress=progress, error_message=None)
            self.events.emit("progress", job.id, progress)

    def stall_limit(self, job: Job, status: str) -> float:
        """Seconds without a status change before the job counts as stalled on the server."""
        if status == "PENDING":
            return self.stall_pending_s
        weight = sum(OP_WEIGHT.get(op, 1) for op in job.operations if op != "metadata") or 1
        return self.stall_processing_s * weight

    def stall_message(self, status: str, waited: float) -> str:
        if status == "PENDING":
            return (
                f"The server at {self.base_url} accepted this job {_ago(waited)} ago and never started it "
                "(still PENDING). Retry it to submit the file again."
            )
        return (
            f"The server at {self.base_url} reported this job as {status} for {_ago(waited)} without finishing "
            "it. Retry it to submit the file again."
        )

    def _complete(self, job: Job, body: dict, want_archive: bool) -> None:
        def progress(f: float) -> None:
            value = 0.5 + 0.5 * f
            self.store.update_fields(job.id, progress=value)
            self.events.emit("progress", job.id, value)

        outputs, warnings = download_results(self.api, self.store, job, body, archive=want_archive, progress=progress)
        if want_archive and not body.get("archive_url"):
            warnings.append("The server did not offer a ZIP archive of the results.")
        if not job.options.keep_metadata:
            warnings.append("Metadata stripping is a local-engine option; the server's outputs are kept as sent.")
        metadata = body.get("metadata") if "metadata" in job.operations else None
        if isinstance(metadata, dict):  # the API omits absent keys; the window and CLI show the full form
            from pixtools_desktop.core.imaging.metadata import full_metadata

            metadata = full_metadata(metadata)
        status = JobStatus.COMPLETED
        if body.get("status") == "COMPLETED_WEBHOOK_FAILED":
            status = JobStatus.COMPLETED_WEBHOOK_FAILED
            warnings.append("The server could not deliver its webhook for this job (the results are fine).")
        self.store.complete(
            job.id,
            outputs=outputs,
            metadata=metadata if isinstance(metadata, dict) else None,
            warnings=warnings,
            status=status,
        )
        log.info("remote job completed", extra={"outputs": len(outputs)})
        self._finished(self.store.get(job.id))  # type: ignore[arg-type]

    # ---------------------------------------------------------------- failures
    def _fail(self, job_id: str, message: str, code: str = ErrorCode.REMOTE_FAILED) -> None:
        self.store.fail(job_id, message, code=code)
        state.rekey(self.store, job_id)  # "retry failed" must not get the same server job back
        log.warning("remote job failed", extra={"error": redact(message)})
        self._finished(self.store.get(job_id))  # type: ignore[arg-type]

    def _online(self) -> None:
        with self._offline_lock:
            self._offline_streak = 0
            self._offline_until = 0.0

    def _on_remote_error(self, job: Job, row: state.RemoteRow, exc: RemoteError) -> None:
        message = str(exc)
        if exc.kind == FATAL:  # the server refused the request (4xx)
            self._fail(job.id, message, code=ErrorCode.REJECTED)
            return
        if exc.kind == EXPIRED:  # fresh URLs come with the next poll
            if row.server_errors >= self.max_server_retries:
                self._fail(job.id, f"{message}. Gave up after {row.server_errors + 1} tries.")
                return
            state.update(self.store, job.id, phase=state.POLL, server_errors=row.server_errors + 1, next_at=time.time())
            return
        if exc.kind == OFFLINE:
            tries = row.net_failures + 1
            if tries > self.max_offline_retries:
                self._fail(job.id, f"{message} Gave up after {tries - 1} retries.", code=ErrorCode.NETWORK)
                return
            with self._offline_lock:
                self._offline_streak += 1
                delay = min(MAX_OFFLINE_BACKOFF_S, self.poll_interval * 2 ** (self._offline_streak - 1))
                self._offline_until = max(self._offline_until, time.time() + delay)
            state.update(self.store, job.id, net_failures=tries, next_at=time.time() + delay)
            self.store.update_fields(job.id, error_message=f"Connection lost: {message} Retrying in {delay:.0f} s.")
            log.warning("server unreachable, jobs paused", extra={"retry_in_s": delay, "error": redact(message)})
            self._status_changed(job.id)
            return
        tries = row.server_errors + 1  # SERVER: 5xx, 429, garbage
        if tries > self.max_server_retries:
            self._fail(job.id, f"{message}. Gave up after {tries} tries.")
            return
        delay = min(MAX_OFFLINE_BACKOFF_S, self.poll_interval * 2**tries)
        state.update(self.store, job.id, server_errors=tries, next_at=time.time() + delay)
        self.store.update_fields(job.id, error_message=f"{message}. Retrying in {delay:.0f} s.")
        self._status_changed(job.id)
