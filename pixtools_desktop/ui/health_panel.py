"""The health report (`core.health.health_report`) in a dialog, computed off the GUI thread.

It may import the ML layer (the model check), so it only runs when the user
opens it, never at start-up: the window must appear before torch loads.
"""

from __future__ import annotations

from PySide6.QtCore import QThreadPool, Slot
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pixtools_desktop.core.settings import Settings
from pixtools_desktop.ui.tasks import TaskSignals, start_task


def _report(settings: Settings) -> dict:
    from pixtools_desktop.wiring import health_report

    return health_report(settings)


class HealthDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Health")
        self.resize(480, 320)
        self.settings = settings
        self.report: dict | None = None
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals: TaskSignals | None = None
        lay = QVBoxLayout(self)
        self.summary = QLabel("Checking…")
        self.summary.setObjectName("cardTitle")
        lay.addWidget(self.summary)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Part", "State"])
        self.tree.setAccessibleName("Health of each part")
        lay.addWidget(self.tree, 1)
        row = QHBoxLayout()
        self.refresh_btn = QPushButton("Check again")
        self.refresh_btn.clicked.connect(self.refresh)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row.addStretch(1)
        row.addWidget(self.refresh_btn)
        row.addWidget(close)
        lay.addLayout(row)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        self.refresh_btn.setEnabled(False)
        self.summary.setText("Checking…")
        settings = self.settings
        self._signals = start_task(self._pool, lambda: _report(settings), self, self._on_report, self._on_failed)

    @Slot(object)
    def _on_report(self, report: dict) -> None:
        self.report = report
        self.refresh_btn.setEnabled(True)
        status = report.get("status", "unknown")
        self.summary.setText("All good" if status == "healthy" else "Something needs attention")
        self.tree.clear()
        for name, state in report.get("dependencies", {}).items():
            self.tree.addTopLevelItem(QTreeWidgetItem([name, state]))
        self.tree.resizeColumnToContents(0)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.refresh_btn.setEnabled(True)
        self.summary.setText(f"The health check itself failed: {message}")

    def done(self, result: int) -> None:
        self._pool.waitForDone()
        super().done(result)
