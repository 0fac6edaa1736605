"""The window's finished jobs land in a real S3 (SeaweedFS) and ping a real webhook."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from pixtools_desktop.core.settings import Settings, save_settings
from tests.cloud.cloud_servers import BUCKET
from tests.ui.conftest import choose, wait_idle


def test_window_uploads_results_and_announces_them(make_window, qtbot, photos, tmp_path, seaweed, receiver, aws_env):
    settings = Settings(
        s3_enabled=True,
        s3_endpoint_url=seaweed.endpoint,
        s3_region="us-east-1",
        s3_bucket=BUCKET,
        webhook_url=receiver.url,
    )
    save_settings(settings)
    for extra in list(Path(photos).glob("*.png"))[2:]:
        extra.unlink()
    w = make_window()
    choose(w, ["webp"])
    w.ops_panel.output_dir.setText(str(tmp_path / "out"))
    assert w.add_paths([str(photos)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 2, timeout=10000)
    w.start()
    wait_idle(qtbot, w)
    assert receiver.wait_for(2, timeout=30), "both jobs announced"
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert {b["status"] for b in bodies} == {"COMPLETED"}
    from pixtools_desktop.ui import result_links

    job = w.store.list_jobs()[0]
    qtbot.waitUntil(lambda: bool(result_links(job, w.store)), timeout=30000)
    label, url = result_links(job, w.store)[0]
    assert "WEBP" in label
    got = httpx.get(url, timeout=10)
    assert got.status_code == 200 and got.content == Path(job.outputs[0].path).read_bytes()
