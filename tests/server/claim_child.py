"""Child for test_claim_identity: claims rows in a store, or recovers them, and reports as JSON.

Run as PID 1 of a fresh PID namespace (`unshare --pid --fork --mount-proc`),
the way a container runs its process after every restart.
"""

from __future__ import annotations

import json
import os
import sys

from pixtools_desktop.cloud import outbox, uploads
from pixtools_desktop.core.store import JobStore, NewJob
from pixtools_desktop.core.store.job_store import utcnow


def claim(db: str) -> None:
    store = JobStore(db)
    a, b, c = store.add_jobs([NewJob(input_path=f"/x/{n}.png", operations=["jpg"]) for n in "abc"])
    job = store.claim_next("std")
    ts = utcnow()
    with store.transaction() as conn:
        conn.execute("UPDATE jobs SET status = 'COMPLETED' WHERE id IN (?, ?)", (b.id, c.id))
        conn.execute(
            "INSERT INTO uploads (job_id, op, path, content_type, filename, bucket, key, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (b.id, "jpg", "/x/b.jpg", "image/jpeg", "b.jpg", "bkt", "k/b.jpg", ts, ts),
        )
        conn.execute(
            "INSERT INTO webhook_outbox (job_id, event, url, dedupe, created_at, updated_at) VALUES (?,?,?,?,?,?)",
            (c.id, "job.completed", "http://127.0.0.1:9/h", "d1", ts, ts),
        )
    up = uploads.claim_next(store)
    ob = outbox.claim_next(store)
    print(
        json.dumps(
            {
                "pid": os.getpid(),
                "job": job.id if job else None,
                "upload": up.id if up else None,
                "outbox": ob.id if ob else None,
            }
        ),
        flush=True,
    )
    os._exit(0)  # die holding the claims, as a SIGKILL would


def recover(db: str) -> None:
    store = JobStore(db)
    out = {
        "pid": os.getpid(),
        "jobs": len(store.recover_interrupted()),
        "uploads": len(uploads.recover_interrupted(store)),
        "outbox": len(outbox.recover_interrupted(store)),
    }
    store.close()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    {"claim": claim, "recover": recover}[sys.argv[1]](sys.argv[2])
