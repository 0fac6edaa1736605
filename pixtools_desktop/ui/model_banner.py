"""The "denoise model is missing" banner: the window's way to get the weights.

Shown while Denoise is ticked and the chosen model cannot run (the same
lookup the engine uses): DnCNN or FFDNet when chosen by name, either for "auto".
It offers what `pixtools models` offers: download
the authors' file (sha256 checked) or import a .mat/.pth the user has. The
work runs off the GUI thread (ml.install); torch is imported only to check an
imported file's architecture, never just to show the banner.
"""

from __future__ import annotations

from PySide6.QtCore import QThreadPool, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from pixtools_desktop.core.settings import Settings
from pixtools_desktop.ui import dialogs
from pixtools_desktop.ui.tasks import TaskSignals, start_task

MISSING_TEXT = "The denoise model is not installed: denoise jobs would fail. Get it once (2.8 MB):"
FFD_MISSING_TEXT = "The FFDNet model (chosen below) is not installed: denoise jobs would fail. Get it once (3.4 MB):"


class ModelBanner(QFrame):
    installed = Signal(str)  # the path of the installed file

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelBanner")
        self.settings = settings
        self.url: str | None = None  # None: the authors' official address
        self.kind = "color"  # which weights the banner offers (ml.weights kinds: "color", "ffdnet-color")
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals: TaskSignals | None = None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(14, 8, 14, 8)
        self.label = QLabel(MISSING_TEXT)
        self.label.setWordWrap(True)
        lay.addWidget(self.label, 1)
        self.download_btn = QPushButton("Download model")
        self.download_btn.clicked.connect(self.download)
        self.import_btn = QPushButton("Import file…")
        self.import_btn.clicked.connect(self.choose_file)
        lay.addWidget(self.download_btn)
        lay.addWidget(self.import_btn)
        self.hide()

    def refresh(self, denoise_wanted: bool, model: str = "auto") -> None:
        """Show the banner when denoise is wanted and the chosen model cannot run: DnCNN or
        FFDNet when chosen by name; for "auto", when neither is installed (it runs with either)."""
        if not denoise_wanted:  # and the ml package (numpy) stays unloaded until denoise is ticked
            self.hide()
            return
        from pixtools_desktop.ml.weights import COLOR, FFD_COLOR, find_weights

        have_dncnn = find_weights(self.settings, COLOR) is not None
        have_ffdnet = find_weights(self.settings, FFD_COLOR) is not None
        if model == "ffdnet":
            need = None if have_ffdnet else FFD_COLOR
        elif model == "dncnn":
            need = None if have_dncnn else COLOR
        else:
            need = None if (have_dncnn or have_ffdnet) else COLOR
        if need is not None and need != self.kind and self.download_btn.isEnabled():  # not mid-download
            self.kind = need
            self.label.setText(MISSING_TEXT if need == COLOR else FFD_MISSING_TEXT)
        self.setVisible(need is not None)

    def _busy(self, text: str) -> None:
        self.label.setText(text)
        self.download_btn.setEnabled(False)
        self.import_btn.setEnabled(False)

    @Slot()
    def download(self) -> None:
        from pixtools_desktop.ml.install import download_weights
        from pixtools_desktop.ml.weights import DOWNLOADS

        official, sha256 = DOWNLOADS[self.kind]
        url = self.url or official
        self._busy("Downloading the denoise model…")
        self._signals = start_task(
            self._pool, lambda: str(download_weights(url, sha256)), self, self._on_done, self._on_failed
        )

    @Slot()
    def choose_file(self) -> None:
        chosen = dialogs.ask_paths(
            self, dialogs.FILE, "Import model weights", name_filter="DnCNN or FFDNet weights (*.mat *.pth *.pt)"
        )
        if chosen:
            self.import_file(chosen[0])

    def import_file(self, path: str) -> None:
        from pathlib import Path

        from pixtools_desktop.ml.install import import_weights

        self._busy("Checking and importing the model file…")
        self._signals = start_task(
            self._pool, lambda: str(import_weights(Path(path))[0]), self, self._on_done, self._on_failed
        )

    @Slot(object)
    def _on_done(self, dest: str) -> None:
        self.download_btn.setEnabled(True)
        self.import_btn.setEnabled(True)
        self.label.setText(MISSING_TEXT if self.kind == "color" else FFD_MISSING_TEXT)
        self.hide()
        self.installed.emit(dest)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.download_btn.setEnabled(True)
        self.import_btn.setEnabled(True)
        # "ModelUnavailableError: Download failed: …" -> the sentence after the class name
        self.label.setText(f"{message.split(': ', 1)[-1]} — try again, or import a file you have.")

    def wait(self) -> None:
        self._pool.waitForDone()
