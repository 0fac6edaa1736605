"""What the cloud sinks cost a job worker: the finish hook (queue uploads + a webhook row).

The hook runs on the job worker thread, so it must cost about one store
write, never network time. Baseline, same run and same database: one
`store.update_fields` per job (the cheapest job write there is). Also times
webhook delivery throughput to a local receiver (no breaker trips).

    .venv/bin/python benchmarks/cloud_sinks.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from PIL import Image

from pixtools_desktop.cloud.config import SinkConfig
from pixtools_desktop.cloud.service import SinkService
from pixtools_desktop.core.jobs import OutputRecord
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore, NewJob


def make_jobs(store: JobStore, folder: Path, n: int):
    img = folder / "a.png"
    Image.new("RGB", (32, 32)).save(img)
    out = folder / "a_jpg.jpg"
    Image.new("RGB", (32, 32)).save(out, "JPEG")
    jobs = store.add_jobs([NewJob(input_path=str(img), operations=["jpg"], seq=i) for i in range(n)])
    for _ in jobs:
        j = store.claim_next("std")
        store.complete(
            j.id, outputs=[OutputRecord("jpg", str(out), out.stat().st_size, "image/jpeg")], metadata=None, warnings=[]
        )
    return store.get_many([j.id for j in jobs])


def main(n: int = 500) -> None:
    class Ok(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/h"
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        store = JobStore(folder / "jobs.sqlite3")
        jobs = make_jobs(store, folder, n)
        t0 = time.perf_counter()
        for j in jobs:
            store.update_fields(j.id, progress=1.0)
        base = (time.perf_counter() - t0) / n
        settings = Settings(s3_enabled=True, s3_endpoint_url="http://127.0.0.1:9", s3_bucket="b")
        cfg = SinkConfig.from_settings(settings, webhook_url=url)
        service = SinkService(store, settings, cfg)  # not started: measure the hook alone
        t0 = time.perf_counter()
        for j in jobs:
            service.enqueue(j)
        hook = (time.perf_counter() - t0) / n
        with store.transaction() as conn:  # deliveries only: drop the uploads (no S3 here)
            conn.execute("DELETE FROM uploads")
        t0 = time.perf_counter()
        with SinkService(store, settings, cfg, webhook_workers=2) as svc:
            assert svc.wait([j.id for j in jobs], 300)
        deliver = (time.perf_counter() - t0) / n
        store.close()
    server.shutdown()
    server.server_close()
    print(f"{'step (per job, N=' + str(n) + ')':<40}{'ms':>10}{'x baseline':>12}")
    print(f"{'baseline: store.update_fields':<40}{base * 1e3:>10.3f}{1.0:>12.2f}")
    print(f"{'finish hook: queue upload + webhook':<40}{hook * 1e3:>10.3f}{hook / base:>12.2f}")
    print(f"{'webhook delivery (2 workers, local)':<40}{deliver * 1e3:>10.3f}{deliver / base:>12.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
