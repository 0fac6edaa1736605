"""The window's header bar and end-of-batch summary card (layout only)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from pixtools_desktop.ui import theme

HEADER_BUTTONS = (
    ("add_files", "&Add files…", "Add photos (Ctrl+O)"),
    ("add_folder", "Add &folder…", "Add a folder, sub-folders included (Ctrl+Shift+O)"),
    ("start", "Start", "Run the queue (Ctrl+Return)"),
    ("cancel", "&Cancel", "Cancel the selected jobs (Ctrl+.)"),
    ("remove", "&Remove", "Remove the selected jobs from the list (Delete)"),
    ("retry", "Re&try failed", "Run failed and cancelled jobs again (Ctrl+R)"),
    ("settings", "&Settings", "Settings (Ctrl+,)"),
    ("health", "&Health", "Check the database, disk, model and services"),
)


def build_header(window) -> tuple[QFrame, dict[str, QPushButton]]:
    header = QFrame()
    header.setObjectName("header")
    lay = QHBoxLayout(header)
    lay.setContentsMargins(16, 10, 16, 10)
    icon = QLabel()
    icon.setPixmap(theme.app_icon().pixmap(44, 44))
    lay.addWidget(icon)
    titles = QVBoxLayout()
    titles.setSpacing(0)
    title = QLabel("PIXTOOLS")
    title.setObjectName("appTitle")
    sub = QLabel("")
    sub.setObjectName("appSubtitle")
    titles.addWidget(title)
    titles.addWidget(sub)
    window.header_sub = sub
    lay.addLayout(titles)
    lay.addStretch(1)
    buttons: dict[str, QPushButton] = {}
    for key, text, tip in HEADER_BUTTONS:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.setAccessibleName(text.replace("&", "").rstrip("…"))
        if key == "start":
            b.setObjectName("primary")
            b.setMinimumWidth(96)
        buttons[key] = b
        lay.addWidget(b)
    return header, buttons


def build_summary_card(window) -> tuple[QFrame, QLabel, QLabel]:
    card = QFrame()
    card.setObjectName("summaryCard")
    lay = QHBoxLayout(card)
    lay.setContentsMargins(14, 10, 14, 10)
    texts = QVBoxLayout()
    label = QLabel("")
    label.setObjectName("cardTitle")
    label.setWordWrap(True)
    details = QLabel("")
    details.setWordWrap(True)
    details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    texts.addWidget(label)
    texts.addWidget(details)
    lay.addLayout(texts, 1)
    dismiss = QPushButton("Dismiss")
    dismiss.clicked.connect(card.hide)
    lay.addWidget(dismiss, 0, Qt.AlignmentFlag.AlignTop)
    card.hide()
    return card, label, details
