from __future__ import annotations

import functools
import hashlib
import http.server
import threading

import pytest

from pixtools_desktop.cli import models_cmd
from pixtools_desktop.core import paths


@pytest.fixture
def weights_server(weights_dir):
    """A local http.server on 127.0.0.1 serving the shared weights folder (read-only)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(weights_dir))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        t.join(5)


def cli(*argv: str) -> int:
    return models_cmd.main(list(argv))


def test_list_without_models(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PIXTOOLS_WEIGHTS", str(tmp_path / "none"))
    assert cli("models", "list") == 0
    out = capsys.readouterr().out
    assert "pixtools models download" in out


def test_download_verifies_sha256_and_writes_atomically(weights_server, capsys):
    assert cli("models", "download", "--url", f"{weights_server}/GD_Color_Blind.mat", "--quiet") == 0
    dest = paths.user_weights_dir() / "GD_Color_Blind.mat"
    assert dest.is_file()
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == models_cmd.W.DOWNLOAD_SHA256
    assert not list(dest.parent.glob(".part-*"))
    assert cli("models", "list") == 0
    out = capsys.readouterr().out
    assert "sha256 ok" in out and str(dest) in out


def test_download_with_wrong_sha_keeps_nothing(weights_server, capsys):
    rc = cli("models", "download", "--url", f"{weights_server}/GD_Color_Blind.mat", "--sha256", "0" * 64, "--quiet")
    assert rc == 1
    assert "sha256" in capsys.readouterr().err
    assert list(paths.user_weights_dir().iterdir()) == []


def test_download_of_the_grey_model_and_http_errors(weights_server, capsys):
    assert cli("models", "download", "--model", "gray", "--url", f"{weights_server}/GD_Gray_Blind.mat", "--quiet") == 0
    assert (paths.user_weights_dir() / "GD_Gray_Blind.mat").is_file()
    assert cli("models", "download", "--url", f"{weights_server}/missing.mat", "--quiet") == 1
    assert "HTTP 404" in capsys.readouterr().err


def test_import_checks_the_architecture(weights_dir, tmp_path, capsys):
    assert cli("models", "import", str(weights_dir / "kair_dncnn_25.pth")) == 0
    assert (paths.user_weights_dir() / "dncnn_25.pth").is_file()  # stored under its known name
    assert "grey DnCNN, 17 layers" in capsys.readouterr().out

    bad = tmp_path / "broken.mat"
    bad.write_bytes(b"\x00" * 4096)
    assert cli("models", "import", str(bad)) == 1
    assert "pixtools models" in capsys.readouterr().err
    assert not (paths.user_weights_dir() / "broken.mat").exists()

    txt = tmp_path / "notes.txt"
    txt.write_text("hi")
    assert cli("models", "import", str(txt)) == 1


def test_imported_colour_model_is_found(weights_dir):
    from pixtools_desktop.core.settings import Settings
    from pixtools_desktop.ml import find_weights, model_health

    assert cli("models", "import", str(weights_dir / "GD_Color_Blind.mat")) == 0
    assert find_weights(Settings()) == paths.user_weights_dir() / "GD_Color_Blind.mat"
    assert model_health(Settings())["status"] == "ok"


def test_register_sets_run_as_func():
    import argparse

    parser = argparse.ArgumentParser()
    models_cmd.register(parser.add_subparsers(dest="command"))
    for argv in (["models", "list"], ["models", "import", "x.mat"], ["models", "download"]):
        args = parser.parse_args(argv)
        assert args.func is models_cmd.run


def test_ffdnet_download_list_and_import(weights_server, weights_dir, capsys):
    """FFDNet entries: sha256-checked download from a local server, listed, found; import checks it."""
    from pixtools_desktop.core.settings import Settings
    from pixtools_desktop.ml import weights as W

    assert W.DOWNLOADS["ffdnet-color"][0] == "https://github.com/cszn/FFDNet/raw/master/models/FFDNet_color.mat"
    assert (
        cli("models", "download", "--model", "ffdnet-color", "--url", f"{weights_server}/FFDNet_color.mat", "--quiet")
        == 0
    )
    dest = paths.user_weights_dir() / "FFDNet_color.mat"
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == W.FFD_COLOR_SHA256
    assert (
        cli("models", "download", "--model", "ffdnet-gray", "--url", f"{weights_server}/FFDNet_color.mat", "--quiet")
        == 1
    )
    assert "sha256" in capsys.readouterr().err  # the colour file is not the grey model
    assert not (paths.user_weights_dir() / "FFDNet_gray.mat").exists()
    assert cli("models", "list") == 0
    assert "FFDNet colour (cszn/FFDNet)" in capsys.readouterr().out
    assert W.find_weights(Settings(), W.FFD_COLOR) == dest
    assert cli("models", "import", str(weights_dir / "FFDNet_gray.mat")) == 0
    assert "grey FFDNet, 15 layers" in capsys.readouterr().out
    assert W.find_weights(Settings(), W.FFD_GRAY) == paths.user_weights_dir() / "FFDNet_gray.mat"
