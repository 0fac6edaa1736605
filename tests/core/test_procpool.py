"""Standard jobs in worker processes: same results, cancellation, and a crash wall."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from pixtools_desktop.core.executor import execute_job
from pixtools_desktop.core.jobs import JobStatus, OutputOptions
from pixtools_desktop.core.ops import validate_request
from pixtools_desktop.core.procpool import ProcessPool
from pixtools_desktop.core.store import NewJob


def _claim(store, path, ops, out, params=None):
    req = validate_request(ops, params, Path(path).name)
    store.add_jobs(
        [NewJob(str(path), [o.value for o in req.operations], req.params, OutputOptions(output_dir=str(out)))]
    )
    return store.claim_next("std")


def _big_photo(tmp_path) -> Path:
    rng = np.random.default_rng(1)
    path = tmp_path / "big.png"
    Image.fromarray(rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)).save(path, compress_level=0)
    return path


def test_a_job_in_a_worker_process_records_outputs_and_metadata(store, settings, exif_jpgs, tmp_path):
    pool = ProcessPool(1)
    try:
        job = _claim(store, exif_jpgs / "Canon_40D.jpg", ["webp", "metadata"], tmp_path / "o")
        final = execute_job(store, job, settings, engine=pool.run)
    finally:
        pool.close()
    assert final.status == JobStatus.COMPLETED, final.error_message
    assert final.metadata["camera_model"] == "Canon EOS 40D"
    with Image.open(final.outputs[0].path) as im:
        assert im.format == "WEBP" and im.getexif().get(0x010F) == "Canon"


def test_errors_in_the_worker_keep_their_message(store, settings, tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("<html><body>nope</body></html>")
    pool = ProcessPool(1)
    try:
        final = execute_job(store, _claim(store, bad, ["webp"], tmp_path / "o"), settings, engine=pool.run)
    finally:
        pool.close()
    assert final.status == JobStatus.FAILED and "HTML" in final.error_message


def test_a_killed_worker_fails_only_its_job(store, settings, tmp_path):
    """The OOM killer or a decoder segfault takes one worker: that job fails plainly, the next one runs."""
    pool = ProcessPool(1)
    pool.prestart()
    try:
        worker = pool._free[0]
        job = _claim(store, _big_photo(tmp_path), ["webp", "tiff"], tmp_path / "o")
        killer = threading.Timer(1.0, lambda: os.kill(worker._proc.pid, signal.SIGKILL))
        killer.start()
        final = execute_job(store, job, settings, engine=pool.run)
        killer.join()
        assert final.status == JobStatus.FAILED
        assert "crashed its worker" in final.error_message and "Other files are not affected" in final.error_message
        small = tmp_path / "small.png"
        Image.new("RGB", (64, 48), "red").save(small)
        ok = execute_job(store, _claim(store, small, ["webp"], tmp_path / "o2"), settings, engine=pool.run)
        assert ok.status == JobStatus.COMPLETED
    finally:
        pool.close()
    assert not list((tmp_path / "o").glob(".pixtools-tmp-*")), "the killed worker's temporary file is swept"


def test_cancel_reaches_the_worker(store, settings, tmp_path):
    pool = ProcessPool(1)
    try:
        job = _claim(store, _big_photo(tmp_path), ["webp", "tiff", "jpg"], tmp_path / "o")
        threading.Timer(0.8, lambda: store.request_cancel(job.id)).start()
        t0 = time.monotonic()
        final = execute_job(store, job, settings, engine=pool.run)
    finally:
        pool.close()
    assert final.status == JobStatus.CANCELLED
    assert not (tmp_path / "o" / "big_tiff.tiff").exists(), "no op runs after the cancel point"
    assert time.monotonic() - t0 < 30


def test_an_intent_the_parent_cannot_record_means_no_file_is_written(store, settings, tmp_path):
    """The job database's disk fills at the intent write: the worker must not write the output.

    Before, the parent re-raised without answering; the child took the next message (the
    pool's "stop") for the ack, wrote the file unrecorded, and a rerun wrote "name (2).ext".
    """
    import dataclasses
    import sqlite3

    from pixtools_desktop.core.engine import EngineContext

    src, other = tmp_path / "p.png", tmp_path / "q.png"
    Image.new("RGB", (64, 48), "red").save(src)
    Image.new("RGB", (64, 48), "blue").save(other)
    job = _claim(store, src, ["webp", "tiff"], tmp_path / "o")
    calls = []

    def full_disk(outs):
        calls.append(outs)
        raise sqlite3.OperationalError("database or disk is full")

    ctx = EngineContext(settings=settings, progress=lambda f: None, cancelled=lambda: False, save_outputs=full_disk)
    pool = ProcessPool(1)
    try:
        try:
            pool.run(job, ctx)
        except sqlite3.OperationalError:
            pass
        else:
            raise AssertionError("the failed store write must reach the caller")
        # The same pool runs the next job as that job (its worker was replaced, not reused mid-job).
        nxt = _claim(store, other, ["webp"], tmp_path / "o")
        ok = pool.run(nxt, dataclasses.replace(ctx, save_outputs=lambda outs: None))
    finally:
        pool.close()
    assert len(calls) == 1
    assert [Path(o.path).name for o in ok.outputs] == ["q_webp.webp"]
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["q_webp.webp"], "no unrecorded file of p"
