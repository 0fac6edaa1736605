"""Remote backend overhead: the same batch on the local engine vs through `pixtools serve` on 127.0.0.1.

Prints a table with the local run as the same-run baseline. Usage:
    python benchmarks/bench_remote.py [N_IMAGES]
The server is a real child process (own PIXTOOLS_HOME); polling uses 0.05 s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PIL import Image

from pixtools_desktop.core.jobs import OutputOptions
from pixtools_desktop.core.runner import LocalRunner
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import JobStore, NewJob
from pixtools_desktop.remote.backend import RemoteBackend
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
        settings = Settings(poll_interval=0.05, workers=2)
        server = ServeProcess(tmp_path / "serve_home", extra_args=["--workers", "2"]).start()
        rows = []
        try:
            for name in ("local engine", "remote (pixtools serve)"):
                with JobStore(tmp_path / f"{name[:5]}.sqlite3") as store:
                    jobs = [
                        NewJob(
                            input_path=str(p),
                            operations=["jpg", "webp"],
                            options=OutputOptions(output_dir=str(tmp_path / name[:5])),
                        )
                        for p in inputs
                    ]
                    backend = (
                        LocalRunner(store, settings)
                        if name.startswith("local")
                        else RemoteBackend(store, settings, base_url=server.url)
                    )
                    t0 = time.perf_counter()
                    backend.start()
                    backend.submit(jobs)
                    backend.wait_idle(timeout=600)
                    dt = time.perf_counter() - t0
                    backend.stop()
                    done = store.count_by_status()["COMPLETED"]
                rows.append((name, n, done, dt))
        finally:
            server.stop()
    base = rows[0][3]
    print(f"{'backend':<26}{'images':>8}{'done':>6}{'seconds':>10}{'img/s':>8}{'x local':>9}")
    for name, count, done, dt in rows:
        print(f"{name:<26}{count:>8}{done:>6}{dt:>10.2f}{count / dt:>8.1f}{dt / base:>9.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 24)
