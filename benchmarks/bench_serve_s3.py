"""`pixtools serve` S3 mode cost: the same batch through a server that serves its own HMAC URLs vs one
that stores results in S3 (a local SeaweedFS) and hands out presigned URLs.

Prints a table with the HMAC server as the same-run baseline. Usage:
    python benchmarks/bench_serve_s3.py [N_IMAGES]
Both servers are real child processes; the client is the desktop RemoteBackend (poll 0.05 s), which
downloads every result (and the archive) over HTTP. S3 mode waits for the uploads before COMPLETED.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PIL import Image

from pixtools_desktop.core.jobs import OutputOptions
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore, NewJob
from pixtools_desktop.remote.backend import RemoteBackend
from tests.cloud.cloud_servers import ACCESS_KEY, BUCKET, SECRET_KEY, Seaweed
from tests.conftest import testdata_root
from tests.server.serve_proc import ServeProcess


def main(n: int) -> None:
    src = sorted((testdata_root() / "testsets" / "Kodak24").glob("*.png"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        inputs = []
        for i in range(n):
            p = tmp_path / f"in{i}.png"
            Image.open(src[i % len(src)]).save(p)
            inputs.append(p)
        weed = Seaweed(tmp_path / "weed")
        weed.start()
        s3_env = {
            "PIXTOOLS_S3_ENABLED": "1",
            "PIXTOOLS_S3_ENDPOINT_URL": weed.endpoint,
            "PIXTOOLS_S3_BUCKET": BUCKET,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        servers = {
            "serve, HMAC URLs": ServeProcess(tmp_path / "hmac", extra_args=["--workers", "2"]),
            "serve, S3 presigned": ServeProcess(tmp_path / "s3", extra_args=["--workers", "2"], env=s3_env),
        }
        rows = []
        try:
            for name, server in servers.items():
                server.start()
                settings = Settings(poll_interval=0.05, download_archive=True)
                with JobStore(tmp_path / f"{server.port}.sqlite3") as store:
                    jobs = [
                        NewJob(
                            input_path=str(p),
                            operations=["jpg", "webp"],
                            options=OutputOptions(output_dir=str(tmp_path / f"out{server.port}")),
                        )
                        for p in inputs
                    ]
                    backend = RemoteBackend(store, settings, base_url=server.url)
                    t0 = time.perf_counter()
                    backend.start()
                    backend.submit(jobs)
                    backend.wait_idle(timeout=600)
                    dt = time.perf_counter() - t0
                    backend.stop()
                    done = store.count_by_status().get("COMPLETED", 0)
                rows.append((name, n, done, dt))
                server.stop()
        finally:
            for server in servers.values():
                server.stop()
            weed.stop()
            shutil.rmtree(tmp_path / "weed", ignore_errors=True)
    base = rows[0][3]
    print(f"{'server':<24}{'images':>8}{'done':>6}{'seconds':>10}{'img/s':>8}{'x HMAC':>8}")
    for name, count, done, dt in rows:
        print(f"{name:<24}{count:>8}{done:>6}{dt:>10.2f}{count / dt:>8.1f}{dt / base:>8.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 24)
