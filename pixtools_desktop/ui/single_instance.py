"""One window per user and data folder: a second launch hands its files over.

The server name is derived from the user name and the data directory, so two
users (or a test with its own PIXTOOLS_HOME) never talk to each other's
window. The message is one JSON line: {"files": [...]}.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from pixtools_desktop.core.paths import data_dir

log = logging.getLogger(__name__)


def server_name() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some sandboxes
        user = "user"
    digest = hashlib.sha256(f"{user}\0{data_dir().resolve()}".encode()).hexdigest()[:16]
    return f"pixtools-{digest}"


def send_to_running(files: list[str], name: str | None = None, timeout_ms: int = 1500) -> bool:
    """Give `files` to a running window; False when there is none (we become the window)."""
    sock = QLocalSocket()
    sock.connectToServer(name or server_name())
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write((json.dumps({"files": files}) + "\n").encode())
    ok = sock.waitForBytesWritten(timeout_ms)
    sock.disconnectFromServer()
    if sock.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        sock.waitForDisconnected(timeout_ms)
    return ok


class InstanceServer(QObject):
    """Listens for later launches; emits `filesReceived(list)` on the GUI thread."""

    filesReceived = Signal(list)

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        if not self._server.listen(self.name):
            QLocalServer.removeServer(self.name)  # a stale socket file from a crashed run
            if not self._server.listen(self.name):
                log.warning("single-instance server failed", extra={"error": self._server.errorString()})
                return False
        return True

    def close(self) -> None:
        self._server.close()
        for sock in list(self._buffers):
            sock.abort()
        self._buffers.clear()

    @Slot()
    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            self._buffers[sock] = b""
            sock.readyRead.connect(self._on_ready)
            sock.disconnected.connect(self._on_disconnected)
            if sock.bytesAvailable():
                self._read(sock)

    def _read(self, sock: QLocalSocket) -> None:
        self._buffers[sock] = self._buffers.get(sock, b"") + bytes(sock.readAll().data())
        data = self._buffers[sock]
        while b"\n" in data:
            line, data = data.split(b"\n", 1)
            try:
                files = json.loads(line.decode()).get("files", [])
            except (ValueError, AttributeError):
                log.warning("ignored a malformed single-instance message")
                continue
            self.filesReceived.emit([str(f) for f in files])
        self._buffers[sock] = data

    @Slot()
    def _on_ready(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket):
            self._read(sock)

    @Slot()
    def _on_disconnected(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket):
            if sock.bytesAvailable():
                self._read(sock)
            self._buffers.pop(sock, None)
            sock.deleteLater()
