"""`pixtools serve` under load: 300 small jobs at concurrency 8, one SIGKILL and restart mid-run.

Measures throughput (jobs/s from the first POST to the last job final) and
p50/p99 latency of POST /api/process and GET /api/jobs/{id}, then counts:
- lost: a job the server acknowledged (202) that is gone (404) or FAILED;
- stuck: a job still PENDING/PROCESSING when the run gives up waiting;
- doubled: server jobs beyond one per Idempotency-Key (a retried POST after
  the kill must get the same job back).
Clients retry a POST that got no answer (the server was down) under the same
Idempotency-Key, as the desktop's remote backend does.

Usage: python benchmarks/serve_load.py [--jobs 300] [--concurrency 8] [--no-kill] [--quick]
The server is a real child process (tests/server/serve_proc.py) with its own
home; everything is removed at the end.
"""

from __future__ import annotations

import argparse
import io
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx
from PIL import Image

from benchmarks._common import table
from tests.server.serve_proc import ServeProcess

KEY = "bench-key-0123456789"
FINAL = {"COMPLETED", "COMPLETED_WEBHOOK_FAILED", "FAILED"}


def png() -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", (96, 64), (30, 120, 200))
    for x in range(0, 96, 5):
        img.putpixel((x, x % 64), (255, 255, 0))
    img.save(buf, "PNG")
    return buf.getvalue()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


class Run:
    def __init__(self, server: ServeProcess, n: int, concurrency: int, kill_at: int | None) -> None:
        self.server, self.n, self.concurrency, self.kill_at = server, n, concurrency, kill_at
        self.data = png()
        self.tag = f"{time.time_ns()}"
        self.next = 0
        self.lock = threading.Lock()
        self.job_ids: dict[int, str] = {}
        self.post_ms: list[float] = []
        self.get_ms: list[float] = []
        self.post_retries = 0
        self.killed = threading.Event()
        self.restart_s = 0.0

    def _take(self) -> int | None:
        with self.lock:
            if self.next >= self.n:
                return None
            i, self.next = self.next, self.next + 1
            return i

    def _post(self, client: httpx.Client, i: int) -> None:
        deadline = time.monotonic() + 120
        while True:
            t0 = time.perf_counter()
            try:
                r = client.post(
                    f"{self.server.url}/api/process",
                    data={"operations": '["jpg"]'},
                    files={"file": (f"p{i}.png", self.data, "image/png")},
                    headers={"X-API-Key": KEY, "Idempotency-Key": f"bench-{self.tag}-{i}"},
                )
            except httpx.HTTPError:
                with self.lock:
                    self.post_retries += 1
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
                continue
            if r.status_code == 202:
                with self.lock:
                    self.post_ms.append((time.perf_counter() - t0) * 1000)
                    self.job_ids[i] = r.json()["job_id"]
                return
            raise RuntimeError(f"POST {i}: {r.status_code} {r.text[:200]}")

    def _maybe_kill(self) -> None:
        if self.kill_at is None or self.killed.is_set():
            return
        with self.lock:
            due = len(self.job_ids) >= self.kill_at and not self.killed.is_set()
            if due:
                self.killed.set()
        if due:
            proc = self.server.proc
            assert proc is not None
            proc.kill()  # SIGKILL: no shutdown code runs
            proc.wait(10)
            self.server.proc = None
            t0 = time.monotonic()
            self.server.start()
            self.restart_s = time.monotonic() - t0

    def _worker(self) -> None:
        with httpx.Client(timeout=30) as client:
            while (i := self._take()) is not None:
                self._post(client, i)
                self._maybe_kill()

    def run(self) -> dict:
        t0 = time.monotonic()
        threads = [threading.Thread(target=self._worker, name=f"bench-post-{k}") for k in range(self.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        final: dict[int, dict] = {}
        deadline = time.monotonic() + 180
        with httpx.Client(timeout=30) as client:
            while len(final) < len(self.job_ids) and time.monotonic() < deadline:
                for i, job_id in self.job_ids.items():
                    if i in final:
                        continue
                    g0 = time.perf_counter()
                    try:
                        r = client.get(f"{self.server.url}/api/jobs/{job_id}", headers={"X-API-Key": KEY})
                    except httpx.HTTPError:
                        continue
                    self.get_ms.append((time.perf_counter() - g0) * 1000)
                    if r.status_code == 404:
                        final[i] = {"status": "LOST"}
                    elif r.json()["status"] in FINAL:
                        final[i] = r.json()
                time.sleep(0.05)
        elapsed = time.monotonic() - t0
        statuses = [f["status"] for f in final.values()]
        db = self.server.data_dir / "server.sqlite3"
        with sqlite3.connect(db) as conn:
            server_jobs = conn.execute("SELECT COUNT(*) FROM server_jobs").fetchone()[0]
        return {
            "jobs": self.n,
            "acknowledged": len(self.job_ids),
            "completed": statuses.count("COMPLETED"),
            "lost": self.n - len(self.job_ids) + statuses.count("LOST") + statuses.count("FAILED"),
            "stuck": len(self.job_ids) - len(final),
            "doubled": max(0, server_jobs - len(set(self.job_ids.values()))),
            "elapsed_s": elapsed,
            "jobs_per_s": self.n / elapsed,
            "post_p50": pct(self.post_ms, 50),
            "post_p99": pct(self.post_ms, 99),
            "get_p50": pct(self.get_ms, 50),
            "get_p99": pct(self.get_ms, 99),
            "post_retries": self.post_retries,
            "restart_s": self.restart_s,
            "gets": len(self.get_ms),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--no-kill", action="store_true", help="no SIGKILL mid-run")
    ap.add_argument("--quick", action="store_true", help="60 jobs")
    args = ap.parse_args()
    n = 60 if args.quick else args.jobs
    with tempfile.TemporaryDirectory(prefix="pixtools-serve-load-") as tmp:
        server = ServeProcess(Path(tmp), api_key=KEY).start()
        try:
            res = Run(server, n, args.concurrency, None if args.no_kill else n // 2).run()
        finally:
            server.stop()
    print(
        table(
            [
                "jobs",
                "conc.",
                "jobs/s",
                "POST p50 ms",
                "POST p99 ms",
                "GET p50 ms",
                "GET p99 ms",
                "lost",
                "stuck",
                "doubled",
                "kill+restart s",
                "POST retries",
            ],
            [
                [
                    res["jobs"],
                    args.concurrency,
                    res["jobs_per_s"],
                    res["post_p50"],
                    res["post_p99"],
                    res["get_p50"],
                    res["get_p99"],
                    res["lost"],
                    res["stuck"],
                    res["doubled"],
                    "none" if args.no_kill else f"{res['restart_s']:.1f}",
                    res["post_retries"],
                ]
            ],
        )
    )
    print(f"completed {res['completed']}/{res['jobs']} in {res['elapsed_s']:.1f} s; {res['gets']} GETs")


if __name__ == "__main__":
    main()
