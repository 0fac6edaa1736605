"""A tiny TCP forwarder for tests: an S3 endpoint that can be 'down' and then come 'up' on a fixed port.

One selector thread pipes every connection; stop() closes all sockets and
joins the thread, so nothing outlives the test.
"""

from __future__ import annotations

import selectors
import socket
import threading


class TcpProxy:
    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port = port
        self.target = target
        self._sel = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None
        self._peers: dict[socket.socket, socket.socket] = {}

    def start(self) -> TcpProxy:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.setblocking(False)
        self._sel.register(self._listener, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, name="test-tcp-proxy")
        self._thread.start()
        return self

    def _close_pair(self, a: socket.socket) -> None:
        b = self._peers.pop(a, None)
        for s in (a, b):
            if s is None:
                continue
            self._peers.pop(s, None)
            try:
                self._sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._sel.select(timeout=0.05):
                sock = key.fileobj
                if sock is self._listener:
                    try:
                        client, _ = self._listener.accept()
                        upstream = socket.create_connection(self.target, timeout=5)
                    except OSError:
                        continue
                    for s in (client, upstream):
                        s.setblocking(True)
                        self._sel.register(s, selectors.EVENT_READ)
                    self._peers[client], self._peers[upstream] = upstream, client
                    continue
                try:
                    data = sock.recv(65536)
                    if data:
                        self._peers[sock].sendall(data)
                        continue
                except (OSError, KeyError):
                    pass
                self._close_pair(sock)
        for s in list(self._peers):
            self._close_pair(s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        if self._listener is not None:
            self._sel.unregister(self._listener)
            self._listener.close()
            self._listener = None
        self._sel.close()
