"""File dialogs and message boxes built one way, so they look like the app.

Qt's own file dialog (`DontUseNativeDialog`) takes the stylesheet in both
themes and can be driven by tests; a platform dialog would ignore the theme
and cannot be screenshot-tested here. Callers get the dialog object, so a
test can open exactly what the user sees.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QHeaderView, QMessageBox, QTreeView, QWidget

FILES, FOLDER, FILE = "files", "folder", "file"


def file_dialog(
    parent: QWidget | None, kind: str, title: str, *, name_filter: str = "", directory: str = ""
) -> QFileDialog:
    """A styled, non-native dialog choosing existing `files`, one `file` or a `folder`."""
    dlg = QFileDialog(parent, title, directory)
    dlg.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dlg.setObjectName("fileDialog")
    if kind == FOLDER:
        dlg.setFileMode(QFileDialog.FileMode.Directory)
        dlg.setOption(QFileDialog.Option.ShowDirsOnly, True)
    else:
        dlg.setFileMode(QFileDialog.FileMode.ExistingFiles if kind == FILES else QFileDialog.FileMode.ExistingFile)
        if name_filter:
            dlg.setNameFilter(name_filter)
    dlg.resize(820, 520)
    # Qt's detail view squeezes Size, Type and Date into "33…iB", "PN…ge": the name column
    # takes what is left, the others are as wide as their text.
    tree = dlg.findChild(QTreeView, "treeView")
    if tree is not None:
        header = tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return dlg


def ask_paths(
    parent: QWidget | None, kind: str, title: str, *, name_filter: str = "", directory: str = ""
) -> list[str]:
    """Run the dialog modally; the chosen paths (empty when cancelled)."""
    dlg = file_dialog(parent, kind, title, name_filter=name_filter, directory=directory)
    try:
        if dlg.exec() != QFileDialog.DialogCode.Accepted:
            return []
        return list(dlg.selectedFiles())
    finally:
        dlg.deleteLater()


def message_box(
    parent: QWidget | None,
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    *,
    informative: str = "",
    buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok,
) -> QMessageBox:
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setObjectName("messageBox")
    if informative:
        box.setInformativeText(informative)
    return box
