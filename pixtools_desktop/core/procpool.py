"""Standard jobs in worker processes: true parallelism and a crash wall.

Why processes: Pillow's WebP encoder and the JPEG decode loop hold the GIL
for most of their work (measured here: 2 threads give 1.1x), so threads
cannot use a second core. A worker process per pool slot does. And a decoder
that segfaults on a hostile file (libtiff, libpng bugs happen) now kills one
worker process — that job fails with a plain message and a fresh worker takes
the next one — instead of the whole app.

The parent keeps every store write (intent records, progress, outcome): the
child only decodes, transforms and writes output files, reporting back over a
pipe. `save_outputs` is a synchronous round trip, so an output's intent is in
the database before its file is written, exactly as in-process. Children are
started with "spawn" (no fork of a threaded Qt app) and import only core.
Like any spawn-based program, a script that starts the engine must guard its
entry point with `if __name__ == "__main__":` (the `pixtools` command,
`python -m pixtools_desktop` and the frozen app do).
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from pixtools_desktop.core.engine import EngineContext, JobResult, run_job
from pixtools_desktop.core.errors import OUT_OF_MEMORY_MESSAGE, ErrorCode, JobCancelled, JobError
from pixtools_desktop.core.jobs import Job, JobStatus, OutputOptions, OutputRecord
from pixtools_desktop.core.settings import Settings

log = logging.getLogger(__name__)

POLL_S = 0.05
PROGRESS_EVERY_S = 0.1


def _job_to_wire(job: Job) -> dict[str, Any]:
    d = dataclasses.asdict(job)
    d["options"] = job.options.to_json()
    d["status"] = job.status.value
    return d


def _job_from_wire(d: dict[str, Any]) -> Job:
    d = dict(d)
    d["options"] = OutputOptions.from_json(d["options"])
    d["status"] = JobStatus(d["status"])
    d["outputs"] = [OutputRecord(**o) for o in d["outputs"]]
    return Job(**d)


class _IntentNotRecorded(BaseException):
    """The parent did not confirm an output's intent: the child must stop before writing."""


def _child_main(conn: Connection, cancel_flag: Any) -> None:
    """Worker process: run jobs sent by the parent until told to stop."""
    import signal

    from pixtools_desktop.core import logs

    # Ctrl+C reaches the whole process group: the parent decides (it re-queues
    # interrupted jobs through the cancel flag), a worker must not die of it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    while True:
        try:
            msg = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if msg[0] == "stop":
            return
        _, job_wire, settings_wire, request_id = msg
        job = _job_from_wire(job_wire)
        last = [0.0]

        def progress(fraction: float, last: list[float] = last) -> None:  # bound: this job's clock
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY_S:
                last[0] = now
                conn.send(("progress", fraction))

        def save_outputs(outs: list[OutputRecord]) -> None:
            conn.send(("save_outputs", [o.to_json() for o in outs]))
            # Only an explicit ack means the intent is durable; anything else (a "stop",
            # the next job) means the parent could not record it: write nothing.
            reply = conn.recv()
            if not (isinstance(reply, tuple) and reply[:1] == ("ack",)):
                raise _IntentNotRecorded()

        ctx = EngineContext(
            settings=Settings(**settings_wire),
            progress=progress,
            cancelled=lambda: bool(cancel_flag.value),
            save_outputs=save_outputs,
        )
        try:
            with logs.log_context(request_id=request_id, job_id=job.id):
                result = run_job(job, ctx)
        except _IntentNotRecorded:
            return  # the parent has given up on this worker; whatever came instead of the ack is void
        except JobCancelled:
            conn.send(("cancelled",))
        except JobError as exc:
            conn.send(("error", type(exc).__name__, str(exc), exc.transient, exc.code))
        except MemoryError:  # not transient: the same file needs the same memory on every attempt
            conn.send(("error", "JobError", OUT_OF_MEMORY_MESSAGE, False, ErrorCode.OUT_OF_MEMORY))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which logs it
            import traceback

            conn.send(("crash", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        else:
            conn.send(("done", [o.to_json() for o in result.outputs], result.metadata, result.warnings))


class WorkerCrashed(JobError):
    """The worker process died while running a job (a decoder crash, the OOM killer)."""

    code = ErrorCode.CRASHED


class ProcessWorker:
    """One child process and the pipe to it; runs one job at a time."""

    def __init__(self, mp_context: multiprocessing.context.SpawnContext) -> None:
        self._ctx = mp_context
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._cancel = mp_context.Value("b", 0, lock=False)

    def _ensure(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_child_main, args=(child, self._cancel), name="pixtools-worker", daemon=True)
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent

    def run(self, job: Job, ctx: EngineContext) -> JobResult:
        """Same contract as `engine.run_job`: returns a JobResult or raises JobError/JobCancelled."""
        from pixtools_desktop.core.logs import request_id_var

        self._ensure()
        assert self._conn is not None and self._proc is not None
        self._cancel.value = 0
        self._conn.send(("job", _job_to_wire(job), dataclasses.asdict(ctx.settings), request_id_var.get()))
        while True:
            if not self._conn.poll(POLL_S):
                if ctx.cancelled():
                    self._cancel.value = 1
                if not self._proc.is_alive():
                    return self._died(job, ctx)
                continue
            try:
                msg = self._conn.recv()
            except (EOFError, OSError):
                return self._died(job, ctx)
            kind = msg[0]
            if kind == "progress":
                ctx.progress(msg[1])
                if ctx.cancelled():
                    self._cancel.value = 1
            elif kind == "save_outputs":
                try:
                    ctx.save_outputs([OutputRecord(**o) for o in msg[1]])
                except BaseException:
                    # The child waits for this ack before it writes the file. Without a
                    # durable record it must never write: stop it now, not by a later
                    # message it would take for the ack (a rerun would then find an
                    # unrecorded file and write "name (2).ext" beside it).
                    self._kill()
                    raise
                self._conn.send(("ack",))
            elif kind == "done":
                return JobResult(outputs=[OutputRecord(**o) for o in msg[1]], metadata=msg[2], warnings=msg[3])
            elif kind == "cancelled":
                raise JobCancelled()
            elif kind == "error":
                raise JobError(msg[2], transient=msg[3], code=msg[4])
            elif kind == "crash":
                log.error("job crashed in worker", extra={"error": msg[1], "traceback": msg[2]})
                raise RuntimeError(msg[1])

    def _died(self, job: Job, ctx: EngineContext | None = None) -> JobResult:
        from pathlib import Path

        from pixtools_desktop.core.outputs import output_dir_for, sweep_temp_files

        code = self._proc.exitcode if self._proc is not None else None
        self.close()
        sweep_temp_files(output_dir_for(Path(job.input_path), job.options.output_dir), tag=job.id[:8])
        if ctx is not None and ctx.cancelled():  # stopped while shutting down: re-queue, not a failure
            raise JobCancelled()
        log.error("worker process died", extra={"exitcode": code, "input": job.input_path})
        raise WorkerCrashed(
            f"Processing this file crashed its worker (exit code {code}); the file is probably damaged "
            f"in a way the image library cannot handle. Other files are not affected."
        )

    def _kill(self) -> None:
        """End the child at once (it is blocked on the pipe, between two steps)."""
        proc, conn = self._proc, self._conn
        self._conn = self._proc = None
        if proc is not None:
            proc.kill()
            proc.join(5.0)
        if conn is not None:
            conn.close()

    def close(self, timeout: float = 5.0) -> None:
        conn, proc = self._conn, self._proc
        self._conn = self._proc = None
        if conn is not None:
            try:
                conn.send(("stop",))
            except (OSError, ValueError):
                pass
        if proc is not None:
            proc.join(timeout)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout)
        if conn is not None:
            conn.close()


class ProcessPool:
    """A fixed number of ProcessWorkers shared by the scheduler's threads."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._ctx = multiprocessing.get_context("spawn")
        self._free: list[ProcessWorker] = []
        self._made = 0
        self._cond = threading.Condition()
        self._closed = False

    def prestart(self) -> None:
        """Launch every worker now (in the background: spawn returns at once), so the
        first jobs do not wait for Python to start in a child."""
        with self._cond:
            missing = self.size - self._made
            self._made = self.size
        for _ in range(missing):
            w = ProcessWorker(self._ctx)
            w._ensure()
            self._release(w)

    def _acquire(self) -> ProcessWorker:
        with self._cond:
            while not self._free and self._made >= self.size:
                self._cond.wait()
            if self._closed:
                raise RuntimeError("process pool is closed")
            if self._free:
                return self._free.pop()
            self._made += 1
        return ProcessWorker(self._ctx)

    def _release(self, worker: ProcessWorker) -> None:
        with self._cond:
            if self._closed:
                worker.close()
            else:
                self._free.append(worker)
            self._cond.notify()

    def run(self, job: Job, ctx: EngineContext) -> JobResult:
        worker = self._acquire()
        try:
            return worker.run(job, ctx)
        finally:
            self._release(worker)

    def close(self) -> None:
        """Stop every idle worker; busy ones stop when their job returns."""
        with self._cond:
            self._closed = True
            free, self._free = self._free, []
            self._cond.notify_all()
        for w in free:
            w.close()
