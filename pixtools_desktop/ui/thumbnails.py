"""Small thumbnails made off the GUI thread, cached on it.

A worker decodes with Pillow (JPEG draft mode, EXIF orientation applied) and
emits a `QImage` (plain data, fine across threads); the GUI thread turns it
into a `QPixmap` and keeps the most recent ones in an LRU. Requests are served
newest first, so scrolling a 10,000-row queue only ever decodes what is on
screen now, and at most `MAX_QUEUED` stale requests wait.
"""

from __future__ import annotations

import collections
import threading
from collections import OrderedDict

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage, QPixmap

from pixtools_desktop.ui.tasks import RunnableKeeper

MAX_CACHED = 1500
MAX_QUEUED = 256


def make_thumbnail(path: str, size: int) -> QImage:
    """Decode `path` into a QImage no larger than size x size (raises on a bad file)."""
    from PIL import ImageOps

    from pixtools_desktop.core.imaging.decode import DEFAULT_MAX_PIXELS, open_image

    # open_image: the engine's one pixel guard (Pillow's own is switched off, see core.imaging.decode).
    with open(path, "rb") as fh, open_image(fh, path, max_pixels=DEFAULT_MAX_PIXELS) as im:
        im.draft("RGB", (size * 2, size * 2))  # JPEG: decode at a reduced scale
        upright = ImageOps.exif_transpose(im)
        upright.thumbnail((size, size))
        rgba = upright.convert("RGBA")
        data = rgba.tobytes()
        qimg = QImage(data, rgba.width, rgba.height, rgba.width * 4, QImage.Format.Format_RGBA8888)
        return qimg.copy()  # own the pixels: `data` dies with this frame


class _Signals(QObject):
    loaded = Signal(str, int, QImage)
    failed = Signal(str, int)
    finished = Signal(int)  # a runnable's token: its queue ran dry


class _ThumbRunnable(QRunnable):
    def __init__(self, loader: ThumbnailLoader) -> None:
        super().__init__()
        self._loader = loader
        self.token = 0

    def run(self) -> None:
        loader = self._loader
        while not loader._stopping.is_set():
            try:
                path, size = loader._queue.pop()  # newest first
            except IndexError:
                break
            try:
                img = make_thumbnail(path, size)
            except Exception:  # noqa: BLE001 - a thumbnail is decoration; the job reports real errors
                loader._signals.failed.emit(path, size)
            else:
                loader._signals.loaded.emit(path, size, img)
        with loader._lock:
            loader._workers -= 1
        loader._signals.finished.emit(self.token)


class ThumbnailLoader(QObject):
    """`get(path, size)` returns a cached QPixmap or None (and queues a decode)."""

    ready = Signal(str, int)  # path, size: a thumbnail is now cached

    def __init__(self, parent: QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._cache: OrderedDict[tuple[str, int], QPixmap | None] = OrderedDict()
        self._pending: set[tuple[str, int]] = set()
        self._queue: collections.deque[tuple[str, int]] = collections.deque(maxlen=MAX_QUEUED)
        self._lock = threading.Lock()
        self._workers = 0
        self._stopping = threading.Event()
        self._signals = _Signals(self)
        self._signals.loaded.connect(self._on_loaded)
        self._signals.failed.connect(self._on_failed)
        self._keeper = RunnableKeeper(self._pool)
        self._signals.finished.connect(self._keeper.retire)

    def get(self, path: str, size: int = 48) -> QPixmap | None:
        key = (path, size)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if key not in self._pending and not self._stopping.is_set():
            if len(self._queue) == self._queue.maxlen:
                self._pending.discard(self._queue[0])  # the oldest request falls off
            self._pending.add(key)
            self._queue.append(key)
            with self._lock:
                start = self._workers < self._pool.maxThreadCount()
                if start:
                    self._workers += 1
            if start:
                self._keeper.start(_ThumbRunnable(self))
        return None

    def cached(self, path: str, size: int = 48) -> bool:
        return (path, size) in self._cache

    def forget(self, path: str) -> None:
        for key in [k for k in self._cache if k[0] == path]:
            del self._cache[key]

    def stop(self) -> None:
        self._stopping.set()
        self._queue.clear()
        self._keeper.wait_and_clear()

    def _store(self, key: tuple[str, int], pixmap: QPixmap | None) -> None:
        self._pending.discard(key)
        self._cache[key] = pixmap
        while len(self._cache) > MAX_CACHED:
            self._cache.popitem(last=False)
        self.ready.emit(*key)

    @Slot(str, int, QImage)
    def _on_loaded(self, path: str, size: int, image: QImage) -> None:
        self._store((path, size), QPixmap.fromImage(image))

    @Slot(str, int)
    def _on_failed(self, path: str, size: int) -> None:
        self._store((path, size), None)
