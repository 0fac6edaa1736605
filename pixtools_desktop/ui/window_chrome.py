"""The window's header bar, the one banner area and the end-of-batch summary card (layout only).

The header fits a laptop: the first actions always show; the rest stay
buttons while there is room and fold into a "More" menu when there is not
(the menu runs the very same buttons, so their enabled state is the one the
window set).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pixtools_desktop.ui import theme

HEADER_BUTTONS = (
    ("add_files", "&Add files…", "Add photos (Ctrl+O)"),
    ("add_folder", "Add &folder…", "Add a folder, sub-folders included (Ctrl+Shift+O)"),
    ("start", "Start", "Run the queue (Ctrl+Return)"),
    ("cancel", "&Cancel", "Cancel the selected jobs (Ctrl+.)"),
    ("remove", "&Remove", "Remove the selected jobs from the list (Delete)"),
    ("retry", "Re&try failed", "Run failed and cancelled jobs again (Ctrl+R)"),
    ("clear", "C&lear finished", "Remove finished jobs from the list (their files stay)"),
    ("settings", "&Settings", "Settings (Ctrl+,)"),
    ("health", "&Health", "Check the database, disk, model and services"),
)
ALWAYS_SHOWN = ("add_files", "add_folder", "start")
HEADER_MIN_WIDTH = 560
SUBTITLE_ROOM = 330


class HeaderBar(QFrame):
    """Header with buttons that fold into a "More" menu when the window is narrow."""

    # Set by build_header once the labels exist; _left_width measures them.
    subtitle: QLabel | None = None
    _icon_w = 0
    _title_w = 0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        self.buttons: dict[str, QPushButton] = {}
        self.more = QToolButton()
        self.more.setText("More ▾")
        self.more.setAccessibleName("More actions")
        self.more.setToolTip("More actions")
        self.more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self.more)
        self.menu.setObjectName("headerMenu")
        self.menu.aboutToShow.connect(self._fill_menu)
        self.more.setMenu(self.menu)
        self.more.hide()
        self.setMinimumWidth(HEADER_MIN_WIDTH)  # explicit: the buttons fold instead of widening the window
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def folded(self) -> list[str]:
        return [k for k, b in self.buttons.items() if k not in ALWAYS_SHOWN and b.isHidden()]

    def _fill_menu(self) -> None:
        self.menu.clear()
        for key in self.folded():
            b = self.buttons[key]
            act = self.menu.addAction(b.text().replace("&&", "\0").replace("&", "").replace("\0", "&"))
            act.setEnabled(b.isEnabled())
            act.setToolTip(b.toolTip())
            act.triggered.connect(b.click)

    def resizeEvent(self, e: QResizeEvent) -> None:
        super().resizeEvent(e)
        self.fit()

    def fit(self, width: int | None = None) -> None:
        """Show as many of the optional buttons as fit (in `width`, default the header's), in order;
        fold the rest into "More"."""
        lay = self.layout()
        if lay is None or not self.buttons:
            return
        m = lay.contentsMargins()
        spacing = max(lay.spacing(), 6)
        avail = (width or self.width()) - m.left() - m.right() - self._left_width() - 24
        needed = sum(self.buttons[k].sizeHint().width() + spacing for k in ALWAYS_SHOWN)
        more_w = self.more.sizeHint().width() + spacing
        optional = [k for k in self.buttons if k not in ALWAYS_SHOWN]
        total = needed + sum(self.buttons[k].sizeHint().width() + spacing for k in optional)
        fits_all = total <= avail
        budget = avail - needed - (0 if fits_all else more_w)
        for k in optional:
            w = self.buttons[k].sizeHint().width() + spacing
            show = fits_all or w <= budget
            if show and not fits_all:
                budget -= w
            if not fits_all and not show:
                budget = -1  # keep the order: once one folds, the later ones fold too
            self.buttons[k].setVisible(show)
        self.more.setVisible(not fits_all)

    def _left_width(self) -> int:
        """Icon and titles; the subtitle ("New photos get: …") keeps up to SUBTITLE_ROOM px."""
        sub = getattr(self, "subtitle", None)
        sub_w = min(sub.fontMetrics().horizontalAdvance(sub.text()) + 8, SUBTITLE_ROOM) if sub is not None else 0
        return getattr(self, "_icon_w", 0) + max(getattr(self, "_title_w", 0), sub_w)


def build_header(window) -> tuple[HeaderBar, dict[str, QPushButton]]:
    header = HeaderBar()
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
    sub.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    sub.setMinimumWidth(0)
    titles.addWidget(title)
    titles.addWidget(sub)
    window.header_sub = sub
    header.subtitle = sub
    lay.addLayout(titles, 1)
    header._icon_w = 44 + 12
    header.ensurePolished()
    title.ensurePolished()
    header._title_w = title.sizeHint().width() + 12
    for key, text, tip in HEADER_BUTTONS:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.setAccessibleName(text.replace("&", "").rstrip("…"))
        if key == "start":
            b.setObjectName("primary")
            b.setMinimumWidth(96)
        header.buttons[key] = b
        lay.addWidget(b)
    lay.addWidget(header.more)
    return header, header.buttons


class BannerArea(QWidget):
    """One place for banners: of those that want to show, only the most important one does.

    Banners keep their own show()/hide() calls; this area watches them and
    lets through the highest priority wanted one, so a batch summary, a
    problem and the "model missing" offer never stack up.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lay = QVBoxLayout(self)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self._banners: list[tuple[int, QWidget]] = []
        self.wanted: dict[QWidget, bool] = {}
        self._arranging = False

    def add(self, banner: QWidget, priority: int) -> None:
        self.wanted[banner] = not banner.isHidden()
        self._banners.append((priority, banner))
        self._banners.sort(key=lambda pb: -pb[0])
        self._lay.addWidget(banner)
        banner.installEventFilter(self)
        self._arrange()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if not self._arranging and obj in self.wanted and kind in (QEvent.Type.ShowToParent, QEvent.Type.HideToParent):
            self.wanted[obj] = kind == QEvent.Type.ShowToParent
            self._arrange()
        return False

    def _arrange(self) -> None:
        self._arranging = True
        try:
            chosen = next((b for _, b in self._banners if self.wanted.get(b)), None)
            for _, b in self._banners:
                b.setVisible(b is chosen)
            self.setVisible(chosen is not None)
        finally:
            self._arranging = False

    def showing(self) -> QWidget | None:
        return next((b for _, b in self._banners if not b.isHidden()), None)


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


def build_actions(win) -> None:
    """The window's keyboard actions (Ctrl+O, Ctrl+Return, …) and the header buttons' wiring.

    Space is deliberately not a shortcut for Start/Pause: in the queue it is too easy to hit.
    """

    def action(text: str, slot, shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None, *, context=None):
        act = QAction(text, win)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        if context is not None:
            act.setShortcutContext(context)
        act.triggered.connect(slot)
        return act

    W = Qt.ShortcutContext
    win.act_add_files = action("Add files…", win.choose_files, "Ctrl+O")
    win.act_add_folder = action("Add folder…", win.choose_folder, "Ctrl+Shift+O")
    win.act_paste = action("Paste", win.paste, QKeySequence.StandardKey.Paste)
    win.act_toggle = action("Start/Pause", win.toggle_running, "Ctrl+Return")
    win.act_remove = action("Remove", win.remove_selected, QKeySequence.StandardKey.Delete, context=W.WidgetShortcut)
    win.act_cancel = action("Cancel", win.cancel_selected, "Ctrl+.")
    win.act_retry = action("Retry failed", win.retry_failed, "Ctrl+R")
    win.table.selectionModel().selectionChanged.connect(win._refresh_controls)
    win.act_settings = action("Settings…", win.open_settings, "Ctrl+,")
    win.act_health = action("Health…", win.open_health, "Ctrl+Shift+H")
    win.act_quit = action("Quit", win.close, QKeySequence.StandardKey.Quit)
    for act in (
        win.act_add_files,
        win.act_add_folder,
        win.act_paste,
        win.act_toggle,
        win.act_cancel,
        win.act_retry,
        win.act_settings,
        win.act_health,
        win.act_quit,
    ):
        win.addAction(act)
    win.table.addAction(win.act_remove)
    b = win.buttons
    b["add_files"].clicked.connect(win.choose_files)
    b["add_folder"].clicked.connect(win.choose_folder)
    b["start"].clicked.connect(win.toggle_running)
    b["cancel"].clicked.connect(win.cancel_selected)
    b["remove"].clicked.connect(win.remove_selected)
    b["retry"].clicked.connect(win.retry_failed)
    b["clear"].clicked.connect(win.clear_finished)
    b["settings"].clicked.connect(win.open_settings)
    b["health"].clicked.connect(win.open_health)
