"""The queue as a QAbstractTableModel over the job store (no widget per row).

Why it stays smooth with 10,000 jobs:
- Rows are light records (`_Row`, with __slots__) loaded once with one narrow
  query; an id -> row index makes an update O(1).
- Backend events never touch the view directly: they land in `pending` and a
  50 ms single-shot timer applies them in one batch, emitting `dataChanged`
  per contiguous run of rows. No `modelReset` after the first load.
- Thumbnails are requested only from `data()`, i.e. for rows on screen.
- Per-status counters are kept incrementally for the overall progress.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor

from pixtools_desktop.core.jobs import Job, JobStatus
from pixtools_desktop.core.store import JobStore
from pixtools_desktop.ui import theme

FLUSH_MS = 50
THUMB_SIZE = 40

COLUMNS = ("File", "Operations", "Status", "Progress", "Error")
COL_FILE, COL_OPS, COL_STATUS, COL_PROGRESS, COL_ERROR = range(len(COLUMNS))
JobIdRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2
ProgressRole = Qt.ItemDataRole.UserRole + 3

STATUS_TEXT = {
    "PENDING": "Waiting",
    "PROCESSING": "Working",
    "COMPLETED": "Done",
    "COMPLETED_WEBHOOK_FAILED": "Done (webhook failed)",
    "FAILED": "Failed",
    "CANCELLED": "Cancelled",
}

FAILED_MARK = "\u26a0"  # a failed row reads differently from a waiting one, not only by colour


class _Row:
    __slots__ = ("id", "path", "name", "ops", "status", "progress", "error")

    def __init__(self, job_id: str, path: str, ops: str, status: str, progress: float, error: str | None) -> None:
        self.id = job_id
        self.path = path
        self.name = Path(path).name
        self.ops = ops
        self.status = status
        self.progress = float(progress or 0.0)
        self.error = error or ""


def _ops_text(ops: Iterable[str]) -> str:
    return " + ".join(o.upper() if o not in ("denoise", "metadata") else o.capitalize() for o in ops)


def _row_from_db(r: Any) -> _Row:
    return _Row(
        r["id"], r["input_path"], _ops_text(json.loads(r["operations"])), r["status"], r["progress"], r["error_message"]
    )


def _row_from_job(job: Job) -> _Row:
    return _Row(job.id, job.input_path, _ops_text(job.operations), job.status.value, job.progress, job.error_message)


class QueueModel(QAbstractTableModel):
    """Rows are jobs in store order; `apply_*` slots take backend events."""

    countsChanged = Signal()  # after a batch of updates: counts/progress may have moved
    jobsChanged = Signal(list)  # ids whose rows changed in the last flush

    def __init__(self, store: JobStore, thumbnails=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.thumbnails = thumbnails
        self._rows: list[_Row] = []
        self._index: dict[str, int] = {}
        self._by_path: dict[str, list[str]] = {}
        self.counts: dict[str, int] = {s.value: 0 for s in JobStatus}
        self._pending: dict[str, dict[str, Any]] = {}
        self._unknown: set[str] = set()
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)
        if thumbnails is not None:
            thumbnails.ready.connect(self._on_thumbnail)
        self.reload()

    # ------------------------------------------------------------ loading
    def reload(self) -> None:
        """Full load (start-up only; later changes are incremental)."""
        rows = self.store.queue_rows()
        self.beginResetModel()
        self._rows = [_row_from_db(r) for r in rows]
        self._rebuild_index()
        self.endResetModel()
        self.countsChanged.emit()

    def _rebuild_index(self) -> None:
        self._index = {row.id: i for i, row in enumerate(self._rows)}
        self._by_path = {}
        for row in self._rows:
            self._by_path.setdefault(row.path, []).append(row.id)
        self.counts = {s.value: 0 for s in JobStatus}
        for row in self._rows:
            self.counts[row.status] = self.counts.get(row.status, 0) + 1

    def append_jobs(self, jobs: list[Job]) -> None:
        """New jobs go to the end (the store orders by creation)."""
        new = [j for j in jobs if j.id not in self._index]
        if not new:
            self.queue_updates(jobs)
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        for j in new:
            row = _row_from_job(j)
            self._index[row.id] = len(self._rows)
            self._rows.append(row)
            self._by_path.setdefault(row.path, []).append(row.id)
            self.counts[row.status] = self.counts.get(row.status, 0) + 1
        self.endInsertRows()
        self.countsChanged.emit()

    def remove_ids(self, ids: Iterable[str]) -> None:
        """Drop rows (after the store deleted them), one contiguous run at a time."""
        rows = sorted((self._index[i] for i in set(ids) if i in self._index), reverse=True)
        if not rows:
            return
        # Group descending row numbers into contiguous runs and remove each run.
        runs: list[tuple[int, int]] = []
        for r in rows:
            if runs and runs[-1][0] == r + 1:
                runs[-1] = (r, runs[-1][1])
            else:
                runs.append((r, r))
        for first, last in runs:
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first : last + 1]
            self.endRemoveRows()
        for i in ids:
            self._pending.pop(i, None)
        self._rebuild_index()
        self.countsChanged.emit()

    # ------------------------------------------------------------ updates (coalesced)
    def queue_update(self, job_id: str, **fields: Any) -> None:
        if self._stopped:  # events still queued when the window closed: nothing left to show them
            return
        self._pending.setdefault(job_id, {}).update(fields)
        if not self._timer.isActive():
            self._timer.start()

    def queue_job(self, job: Job) -> None:
        self.queue_update(
            job.id,
            status=job.status.value,
            progress=job.progress,
            error=job.error_message or "",
            _job=job,
        )

    def queue_updates(self, jobs: Iterable[Job]) -> None:
        for j in jobs:
            self.queue_job(j)

    @Slot(str, float)
    def apply_progress(self, job_id: str, fraction: float) -> None:
        self.queue_update(job_id, progress=fraction)

    def refresh_ids(self, ids: Iterable[str]) -> None:
        """Re-read some rows from the store (after a user action such as retry or cancel)."""
        ids = list(ids)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = self.store.queue_rows(chunk)
            for r in rows:
                self.queue_update(r["id"], status=r["status"], progress=r["progress"], error=r["error_message"] or "")

    def stop(self) -> None:
        self._stopped = True
        self._timer.stop()
        self._pending.clear()

    @Slot()
    def flush(self) -> None:
        """Apply every pending update; one dataChanged per contiguous run of rows."""
        pending, self._pending = self._pending, {}
        changed_rows: list[int] = []
        unknown: list[Job] = []
        for job_id, fields in pending.items():
            i = self._index.get(job_id)
            if i is None:
                if "_job" in fields:
                    unknown.append(fields["_job"])
                continue
            row = self._rows[i]
            status = fields.get("status")
            if status is not None and status != row.status:
                self.counts[row.status] -= 1
                self.counts[status] = self.counts.get(status, 0) + 1
                row.status = status
            if "progress" in fields and fields["progress"] is not None:
                row.progress = float(fields["progress"])
            if "error" in fields:
                row.error = fields["error"] or ""
            changed_rows.append(i)
        if changed_rows:
            changed_rows.sort()
            start = prev = changed_rows[0]
            for r in changed_rows[1:] + [None]:  # type: ignore[list-item]
                if r is not None and r == prev + 1:
                    prev = r
                    continue
                self.dataChanged.emit(self.index(start, 0), self.index(prev, len(COLUMNS) - 1))
                if r is not None:
                    start = prev = r
        if unknown:  # jobs another front end added (a CLI run on the same database)
            self.append_jobs(unknown)
        if changed_rows or unknown:
            self.countsChanged.emit()
            self.jobsChanged.emit([k for k in pending])

    # ------------------------------------------------------------ Qt model API
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature; never mutated
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature; never mutated
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_FILE:
                return row.name
            if col == COL_OPS:
                return row.ops
            if col == COL_STATUS:
                text = STATUS_TEXT.get(row.status, row.status)
                return f"{FAILED_MARK} {text}" if row.status == "FAILED" else text
            if col == COL_PROGRESS:
                return f"{row.progress * 100:.0f}%"
            if col == COL_ERROR:
                return row.error
        elif role == Qt.ItemDataRole.DecorationRole and col == COL_FILE and self.thumbnails is not None:
            return self.thumbnails.get(row.path, THUMB_SIZE)
        elif role == Qt.ItemDataRole.ToolTipRole:
            if row.error:  # on every cell: the Error column folds away on a narrow window
                return f"{row.name}: {row.error}"
            if col == COL_FILE:
                return row.path
        elif role == Qt.ItemDataRole.BackgroundRole and row.status == "FAILED":
            return QColor(theme.current_palette()["fail_row"])
        elif role == Qt.ItemDataRole.ForegroundRole and row.status == "FAILED":
            pal = theme.current_palette()
            return QColor(pal["fail_text"] if col in (COL_STATUS, COL_ERROR) else pal["text"])
        elif role == JobIdRole:
            return row.id
        elif role == StatusRole:
            return row.status
        elif role == ProgressRole:
            return row.progress
        elif role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row.name}, {STATUS_TEXT.get(row.status, row.status)}, {row.progress * 100:.0f}%"
        return None

    # ------------------------------------------------------------ helpers for the window
    def job_id(self, row: int) -> str:
        return self._rows[row].id

    def row_of(self, job_id: str) -> int | None:
        return self._index.get(job_id)

    def status_of(self, job_id: str) -> str | None:
        i = self._index.get(job_id)
        return self._rows[i].status if i is not None else None

    def progress_of(self, job_id: str) -> float:
        i = self._index.get(job_id)
        return self._rows[i].progress if i is not None else 0.0

    def ids_with_status(self, *statuses: str) -> list[str]:
        wanted = set(statuses)
        return [r.id for r in self._rows if r.status in wanted]

    def unfinished(self) -> int:
        return self.counts.get("PENDING", 0) + self.counts.get("PROCESSING", 0)

    @Slot(str, int)
    def _on_thumbnail(self, path: str, size: int) -> None:
        if size != THUMB_SIZE:
            return
        for job_id in self._by_path.get(path, ()):
            i = self._index.get(job_id)
            if i is not None:
                idx = self.index(i, COL_FILE)
                self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])
