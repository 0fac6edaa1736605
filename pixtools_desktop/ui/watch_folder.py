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
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit, QPushButton, QWidget

from pixtools_desktop.core.errors import ValidationError
from pixtools_desktop.core.inputs import is_image_name
from pixtools_desktop.core.settings import Settings
from pixtools_desktop.core.store import watch_seen
from pixtools_desktop.ui import dialogs
from pixtools_desktop.ui import presets as P

INTERVAL_MS = 2000
MAX_FILES = 20_000
CURRENT_CHOICE = "(the current choice)"


def list_photos(folder: Path, skip_dir: str | None) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) for the image files under `folder`."""
    found: dict[str, tuple[int, int]] = {}
    stack = [folder]
    while stack and len(found) < MAX_FILES:
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
        self.timer = QTimer(self)
        self.timer.setObjectName("watchFolder")
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.scan)

    def apply_settings(self) -> None:
        """Start, stop or re-point the watcher after the settings changed."""
        folder = self.settings.watch_folder if self.settings.watch_enabled else None
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
        self.timer.stop()

    @Slot()
    def scan(self) -> list[str]:
        if not self._folder:
            return []
        now = list_photos(Path(self._folder), self.settings.output_subfolder)
        if self._seen is None:  # first look at this folder: what is there already stays as it is
            watch_seen.remember(self.store, self._folder, now, baseline=True)
            self._seen, self._last = dict(now), now
            self.baselined.emit(self._folder, len(now))
            return []
        seen = self._seen
        steady = {p: sig for p, sig in now.items() if seen.get(p) != sig and sig[0] > 0 and self._last.get(p) == sig}
        self._last = now
        if not steady:
            return []
        ours = self.store.known_output_paths(steady)
        fresh = sorted(p for p in steady if p not in ours)
        watch_seen.remember(self.store, self._folder, steady)
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
