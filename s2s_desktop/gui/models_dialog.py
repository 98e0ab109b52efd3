"""Tools → Manage models…: the installed models, their size and where they live.

A first version that only lists; the full model manager (download, remove, convert)
replaces it."""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


class ModelsDialog(QDialog):
    COLUMNS = ("Name", "ID", "Task", "Languages", "Size", "Location")

    def __init__(self, store, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Installed models")
        self.resize(860, 320)
        self.store = store
        self.models = store.list()
        self.table = QTableWidget(len(self.models), len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for row, model in enumerate(self.models):
            m = model.manifest
            langs = f"{m.source} → {m.target}" if m.task == "translate" else (m.source or "")
            where = ("bundled: " if model.bundled else "") + str(model.path)
            cells = (m.name or m.id, m.id, m.task.capitalize(), langs, human_size(model.size_bytes), where)
            for col, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if col == 4:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(str(model.path) if col == 5 else value)
                self.table.setItem(row, col, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(self.COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        if self.models:
            self.table.selectRow(0)

        info = QLabel(
            f"{len(self.models)} model{'s' if len(self.models) != 1 else ''} installed. "
            f"Your models folder: {store.user_dir}"
        )
        info.setWordWrap(True)
        info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        problems = QLabel("\n".join(f"Skipped: {p}" for p in store.problems))
        problems.setWordWrap(True)
        problems.setVisible(bool(store.problems))

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.open_button = QPushButton("Open folder")
        self.open_button.setEnabled(bool(self.models))
        self.open_button.clicked.connect(self.open_folder)
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.addWidget(info)
        layout.addWidget(self.table, 1)
        layout.addWidget(problems)
        layout.addWidget(buttons)

    def open_folder(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.models):
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.models[row].path)))
