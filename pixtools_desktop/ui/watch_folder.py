"""The watch folder: new photos that finished copying are queued with the chosen preset.

Off by default (`watch_enabled`). Every `INTERVAL_MS` the folder (and its
sub-folders, except the output subfolder and hidden ones) is listed; a photo
is taken once its size and modification time held still between two looks,
so a file still being copied is never read half-written. Files the app wrote
(store/written.py) are never taken. Only photos that *arrive* are queued: the
first look at a newly watched folder takes its photos as a baseline and queues
none of them, and what was taken is kept in the store (store/watch_seen.py),
so neither a restart nor "Clear finished" makes an old photo new again. After
a restart the first looks find what arrived while the app was closed.

Listing a big folder (or one on a slow network drive) takes time, so the timer
never lists on the GUI thread: each tick starts one listing on the watcher's
own pool (a tick is skipped while one is in flight) and the result comes back
as a signal; what it means (store, signals) is worked out on the GUI thread,
as `scan()` does synchronously. A look that is older than the last `scan()`,
a change of folder or `stop()` is dropped, and `stop()` cancels and waits for
a listing in flight.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit, QPushButton, QWidget

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.inputs import is_image_name
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import watch_seen
from pixtools_desktop.ui import dialogs
from pixtools_desktop.ui import presets as P
from pixtools_desktop.ui.tasks import RunnableKeeper

log = logging.getLogger(__name__)

INTERVAL_MS = 2000
MAX_FILES = 20_000
CURRENT_CHOICE = "(the current choice)"


def list_photos(
    folder: Path, skip_dir: str | None, cancel: threading.Event | None = None
) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) for the image files under `folder`.

    With `cancel` set part-way the listing stops early (its result is partial).
    """
    found: dict[str, tuple[int, int]] = {}
    stack = [folder]
    while stack and len(found) < MAX_FILES:
        if cancel is not None and cancel.is_set():
            break
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != skip_dir:
                        stack.append(Path(entry.path))
                elif entry.is_file() and is_image_name(Path(entry.name)):
                    st = entry.stat()
                    found[entry.path] = (st.st_size, st.st_mtime_ns)
            except OSError:
                continue
    return found


class _Signals(QObject):
    listed = Signal(int, int, str, object)  # token, generation, folder, listing (None: it failed)


class _ListRunnable(QRunnable):
    """Lists one folder on the watcher's pool and hands the result back as a signal."""

    def __init__(self, signals: _Signals, gen: int, folder: str, skip_dir: str | None, cancel: threading.Event):
        super().__init__()
        self._signals = signals
        self._gen = gen
        self._folder = folder
        self._skip_dir = skip_dir
        self._cancel = cancel
        self.token = 0

    def run(self) -> None:
        now: dict[str, tuple[int, int]] | None
        try:
            now = list_photos(Path(self._folder), self._skip_dir, cancel=self._cancel)
        except Exception:  # noqa: BLE001 - a failed look is skipped; the next tick looks again
            log.exception("listing the watch folder failed")
            now = None
        self._signals.listed.emit(self.token, self._gen, self._folder, now)


class FolderWatcher(QObject):
    """Emits `arrived(paths)` for photos that are new and whose size held still."""

    arrived = Signal(list)
    baselined = Signal(str, int)  # folder, photos already there (left alone)

    def __init__(self, store, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.settings = settings
        self._last: dict[str, tuple[int, int]] = {}
        self._seen: dict[str, tuple[int, int]] | None = None  # None: no baseline yet
        self._folder: str | None = None
        self._gen = 0  # bumped by whatever makes a listing in flight stale
        self._inflight: int | None = None  # the token of the listing in flight
        self._cancel: threading.Event | None = None  # its cancel flag
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._keeper = RunnableKeeper(self._pool)
        self._signals = _Signals(self)
        self._signals.listed.connect(self._on_listed)
        self.timer = QTimer(self)
        self.timer.setObjectName("watchFolder")
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.tick)

    @property
    def listing(self) -> bool:
        """True while a background listing is in flight."""
        return self._inflight is not None

    def apply_settings(self) -> None:
        """Start, stop or re-point the watcher after the settings changed."""
        folder = self.settings.watch_folder if self.settings.watch_enabled else None
        self._gen += 1  # a listing in flight was asked with the old settings
        if folder != self._folder:
            self._last = {}
            self._seen = watch_seen.load(self.store, folder) if folder else None
            self._folder = folder
        if folder and Path(folder).is_dir():
            if not self.timer.isActive():
                self.timer.start()
        else:
            self.timer.stop()

    def stop(self) -> None:
        """Stop looking; a listing in flight is cancelled, waited for and its result dropped."""
        self.timer.stop()
        self._gen += 1
        if self._cancel is not None:
            self._cancel.set()
        self._keeper.wait_and_clear()
        self._inflight = None
        self._cancel = None

    @Slot()
    def tick(self) -> None:
        """The timer's look: list the folder off the GUI thread (one listing at a time)."""
        if not self._folder or self._inflight is not None:
            return
        self._cancel = threading.Event()
        runnable = _ListRunnable(self._signals, self._gen, self._folder, self.settings.output_subfolder, self._cancel)
        self._inflight = self._keeper.start(runnable)

    @Slot(int, int, str, object)
    def _on_listed(self, token: int, gen: int, folder: str, now: dict[str, tuple[int, int]] | None) -> None:
        self._keeper.retire(token)
        if token == self._inflight:
            self._inflight = None
            self._cancel = None
        if now is None or gen != self._gen or folder != self._folder:
            return  # failed, or older than a later look or a change of settings
        self._take(folder, now)

    def scan(self) -> list[str]:
        """Look now, on this thread: the photos taken (also emitted as `arrived`)."""
        if not self._folder:
            return []
        self._gen += 1  # a listing in flight is older than this look
        return self._take(self._folder, list_photos(Path(self._folder), self.settings.output_subfolder))

    def _take(self, folder: str, now: dict[str, tuple[int, int]]) -> list[str]:
        """What a look at `folder` (the watched one) means: baseline, or photos that arrived."""
        if self._seen is None:  # first look at this folder: what is there already stays as it is
            watch_seen.remember(self.store, folder, now, baseline=True)
            self._seen, self._last = dict(now), now
            self.baselined.emit(folder, len(now))
            return []
        seen = self._seen
        steady = {p: sig for p, sig in now.items() if seen.get(p) != sig and sig[0] > 0 and self._last.get(p) == sig}
        self._last = now
        if not steady:
            return []
        ours = self.store.known_output_paths(steady)
        fresh = sorted(p for p in steady if p not in ours)
        watch_seen.remember(self.store, folder, steady)
        seen.update(steady)
        if fresh:
            self.arrived.emit(fresh)
        return fresh


class WatchSettings(QGroupBox):
    """The watch folder's part of the Settings dialog."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__("Watch folder", parent)
        f = QFormLayout(self)
        self.enabled = QCheckBox("Queue new photos that land in a folder")
        self.enabled.setChecked(settings.watch_enabled)
        f.addRow(self.enabled)
        row = QHBoxLayout()
        self.folder = QLineEdit(settings.watch_folder or "")
        self.folder.setPlaceholderText("choose a folder")
        self.browse = QPushButton("…")
        self.browse.setAccessibleName("Choose the watch folder")
        self.browse.clicked.connect(self._browse)
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        f.addRow("Folder", row)
        self.preset = QComboBox()
        self.preset.addItem(CURRENT_CHOICE, None)
        for p in P.all_presets(settings):
            self.preset.addItem(p.name, p.name)
        idx = self.preset.findData(settings.watch_preset) if settings.watch_preset else 0
        self.preset.setCurrentIndex(max(0, idx))
        f.addRow("With", self.preset)
        self.enabled.toggled.connect(self._refresh)
        self._refresh()

    @Slot()
    def _refresh(self) -> None:
        on = self.enabled.isChecked()
        for w in (self.folder, self.browse, self.preset):
            w.setEnabled(on)

    @Slot()
    def _browse(self) -> None:
        chosen = dialogs.ask_paths(self, dialogs.FOLDER, "Watch folder", directory=self.folder.text())
        if chosen:
            self.folder.setText(chosen[0])

    def apply(self, settings: Settings) -> None:
        folder = self.folder.text().strip() or None
        if self.enabled.isChecked() and (not folder or not Path(folder).expanduser().is_dir()):
            raise ValidationError("Choose an existing folder to watch (or turn the watch folder off).")
        settings.watch_enabled = self.enabled.isChecked()
        settings.watch_folder = str(Path(folder).expanduser()) if folder else None
        settings.watch_preset = self.preset.currentData()
