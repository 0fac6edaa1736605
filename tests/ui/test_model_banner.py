"""The window offers to get the denoise model, as `pixtools models` does, from a real HTTP server."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from pixtools_desktop.core.jobs import JobStatus
from pixtools_desktop.ml.weights import find_weights, sha256_of
from tests.conftest import require_testdata
from tests.ui.conftest import choose, wait_idle


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def weights_server():
    folder = require_testdata("weights")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, name="weights-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_banner_downloads_the_model_and_failed_denoise_jobs_run_again(make_window, qtbot, tmp_path, weights_server):
    photo = tmp_path / "in" / "small.png"
    photo.parent.mkdir()
    import numpy as np

    noisy = np.random.default_rng(5).normal(128, 30, (40, 48, 3))  # noisy: a flat patch is "already clean - kept"
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(photo)
    w = make_window()
    choose(w, ["denoise"])
    banner = w.model_banner
    assert banner.isVisibleTo(w), "denoise ticked, no weights: the banner offers them"
    w.ops_panel.output_dir.setText(str(tmp_path / "out"))
    assert w.add_paths([str(photo)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=10000)
    w.start()
    wait_idle(qtbot, w)
    [job] = w.store.list_jobs()
    assert job.status == JobStatus.FAILED and "models download" in job.error_message

    banner.url = f"{weights_server}/missing.mat"
    qtbot.mouseClick(banner.download_btn, qtbot_button())
    qtbot.waitUntil(lambda: banner.download_btn.isEnabled(), timeout=20000)
    assert banner.isVisibleTo(w) and "HTTP 404" in banner.label.text()

    banner.url = f"{weights_server}/GD_Color_Blind.mat"
    qtbot.mouseClick(banner.download_btn, qtbot_button())
    qtbot.waitUntil(lambda: not banner.isVisibleTo(w), timeout=20000)
    installed = find_weights(w.settings)
    assert installed is not None and sha256_of(installed) == sha256_of(
        require_testdata("weights", "GD_Color_Blind.mat")
    )
    qtbot.waitUntil(lambda: w.store.get(job.id).status == JobStatus.COMPLETED, timeout=60000)
    wait_idle(qtbot, w)


def test_banner_imports_a_file_after_checking_it(make_window, qtbot, tmp_path):
    w = make_window()
    choose(w, ["denoise"])
    banner = w.model_banner
    bogus = tmp_path / "not_a_model.pth"
    bogus.write_bytes(b"definitely not a torch file")
    banner.import_file(str(bogus))
    qtbot.waitUntil(lambda: banner.import_btn.isEnabled(), timeout=20000)
    assert banner.isVisibleTo(w) and find_weights(w.settings) is None
    assert "Cannot read the model file" in banner.label.text()
    banner.import_file(str(require_testdata("weights", "GD_Color_Blind.mat")))
    qtbot.waitUntil(lambda: not banner.isVisibleTo(w), timeout=20000)
    assert find_weights(w.settings) is not None
    choose(w, ["webp"])
    assert not banner.isVisibleTo(w)


def test_banner_follows_the_chosen_model_and_gets_ffdnet(make_window, qtbot, weights_server):
    """FFDNet chosen and missing: the banner offers FFDNet (downloaded, sha256 checked); then "auto" runs
    with FFDNet alone (no banner), while DnCNN chosen by name still asks for DnCNN."""
    from pixtools_desktop.ml.weights import FFD_COLOR
    from pixtools_desktop.ui.model_banner import FFD_MISSING_TEXT, MISSING_TEXT

    w = make_window()
    choose(w, ["denoise"])
    banner, combo = w.model_banner, w.ops_panel.denoise.model

    def pick(model: str) -> None:
        combo.setCurrentIndex(combo.findData(model))

    pick("ffdnet")
    assert banner.isVisibleTo(w) and banner.label.text() == FFD_MISSING_TEXT
    banner.url = f"{weights_server}/FFDNet_color.mat"
    qtbot.mouseClick(banner.download_btn, qtbot_button())
    qtbot.waitUntil(lambda: not banner.isVisibleTo(w), timeout=20000)
    assert find_weights(w.settings, FFD_COLOR) is not None and find_weights(w.settings) is None
    pick("auto")
    assert not banner.isVisibleTo(w), "auto runs with FFDNet alone"
    pick("dncnn")
    assert banner.isVisibleTo(w) and banner.label.text() == MISSING_TEXT


def qtbot_button():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
