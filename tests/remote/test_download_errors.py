"""Issue 15.6: download errors name the host that failed; non-ASCII names survive as RFC 5987 filename*."""

from __future__ import annotations

import io
import socket
import threading
from urllib.parse import unquote

import httpx
import pytest

from pixtools_desktop.cloud.s3 import content_disposition
from pixtools_desktop.remote.api import OFFLINE, ApiClient, RemoteError


class SilentServer:
    """Accepts TCP connections and never answers: a stalled storage endpoint."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, name="test-silent-server")
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            c.close()
        self.thread.join(5)


@pytest.fixture
def silent():
    s = SilentServer()
    yield s
    s.close()


def test_stalled_storage_download_names_the_storage_host(silent):
    api = ApiClient("http://127.0.0.1:8070", timeout=httpx.Timeout(0.5))
    try:
        with pytest.raises(RemoteError) as err:
            api.download(f"{silent.url}/bucket/key.jpg?X-Amz-Signature=abc", io.BytesIO())
    finally:
        api.close()
    msg = str(err.value)
    assert err.value.kind == OFFLINE
    assert silent.url in msg and "storage server" in msg and "did not answer in time" in msg
    assert "8070" not in msg and "abc" not in msg


def test_stalled_api_download_names_the_api_server(silent):
    api = ApiClient(silent.url, timeout=httpx.Timeout(0.5))
    try:
        with pytest.raises(RemoteError) as err:
            api.download(f"{silent.url}/api/files/x/jpg", io.BytesIO())
    finally:
        api.close()
    assert f"The server at {silent.url} did not answer in time." == str(err.value)


def test_content_disposition_rfc5987():
    assert content_disposition("pixtools_jpg_beach.jpg") == 'attachment; filename="pixtools_jpg_beach.jpg"'
    value = content_disposition("pixtools_jpg_Ürlaub 東京.jpg")
    ascii_part, star = value.split("; filename*=")
    assert ascii_part == 'attachment; filename="pixtools_jpg__rlaub __.jpg"'
    assert star.startswith("UTF-8''") and unquote(star[len("UTF-8''") :]) == "pixtools_jpg_Ürlaub 東京.jpg"
    value.encode("latin-1")  # a valid header value
