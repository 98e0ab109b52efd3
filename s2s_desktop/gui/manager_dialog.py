"""The model manager dialog: catalog and installed models in one table, with filters;
Download (progress bar, Cancel), Remove, Import…, Verify, Open folder.

Every manager call runs on a QThread (one job at a time); the GUI thread only builds
widgets and reacts to queued signals. ``modelsChanged`` is emitted after an install,
import or removal, so that the main window can refresh its model picker.

``unload(model)``, if given, is called (on the dialog's worker thread) before removing a
model that is loaded; it should release the app's engines for ``model.path``.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from s2s_desktop.core.errors import Cancelled, S2SError
from s2s_desktop.core.jobs import CancelToken
from s2s_desktop.gui.worker import WorkerThread

QUANTIZATION_CHOICES = ("int8", "int8_float16", "float16", "float32")


def _size(n_bytes: float | None) -> str:
    if not n_bytes:
        return "?"
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.0f} MB"


@dataclass
class Row:
    entry: Any = None  # CatalogEntry or None
    installed: Any = None  # InstalledModel or None

    @property
    def model_id(self) -> str:
        return self.installed.id if self.installed else self.entry.id


class _Call(QObject):
    """One blocking call, run on a worker thread; results come back as signals."""

    progress = Signal(object)  # manager.Progress
    succeeded = Signal(object)
    failed = Signal(str, str)  # message, details
    cancelled = Signal()

    def __init__(self, fn: Callable[..., Any], cancel: CancelToken | None):
        super().__init__()
        self._fn = fn
        self.cancel = cancel

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(self)
        except Cancelled:
            self.cancelled.emit()
        except S2SError as exc:
            self.failed.emit(str(exc), "")
        except Exception as exc:  # noqa: BLE001 - reported, never kills the thread
            self.failed.emit(f"Unexpected error: {type(exc).__name__}: {exc}", traceback.format_exc())
        else:
            self.succeeded.emit(result)


class ModelManagerDialog(QDialog):
    modelsChanged = Signal()
    busyChanged = Signal(bool)

    COLUMNS = ("Name", "Languages", "Task", "Params", "Size", "License", "Status")

    def __init__(self, parent: QWidget | None = None, manager=None, unload: Callable | None = None):
        super().__init__(parent)
        self.setWindowTitle("Model manager")
        self.resize(980, 560)
        if manager is None:
            from s2s_desktop.models.manager import ModelManager

            manager = ModelManager()
        self.manager = manager
        self.unload = unload
        self._thread: QThread | None = None
        self._call: _Call | None = None
        self._on_success: Callable[[Any], None] | None = None
        self._rows: list[Row] = []
        self._build()
        self.refresh()

    # ------------------------------------------------------------------ UI
    def _build(self) -> None:
        layout = QVBoxLayout(self)

        filters = QHBoxLayout()
        self.task_filter = QComboBox()
        self.task_filter.addItem("All tasks", None)
        self.task_filter.addItem("Translate", "translate")
        self.task_filter.addItem("Summarize", "summarize")
        self.lang_filter = QLineEdit()
        self.lang_filter.setPlaceholderText("Language (e.g. de)")
        self.lang_filter.setMaximumWidth(150)
        self.text_filter = QLineEdit()
        self.text_filter.setPlaceholderText("Search name, repository, license…")
        self.text_filter.setClearButtonEnabled(True)
        self.installed_only = QCheckBox("Installed only")
        for w in (QLabel("Show:"), self.task_filter, self.lang_filter, self.text_filter, self.installed_only):
            filters.addWidget(w)
        layout.addLayout(filters)
        self.task_filter.currentIndexChanged.connect(self._apply_filter)
        self.lang_filter.textChanged.connect(self._apply_filter)
        self.text_filter.textChanged.connect(self._apply_filter)
        self.installed_only.toggled.connect(self._apply_filter)

        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self.download() if self.download_button.isEnabled() else None)
        layout.addWidget(self.table, 1)

        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.details)

        options = QHBoxLayout()
        self.repo_edit = QLineEdit()
        self.repo_edit.setPlaceholderText("…or any Hugging Face repo id, e.g. Helsinki-NLP/opus-mt-en-sv")
        self.repo_edit.textChanged.connect(self._update_buttons)
        self.source_combo = QComboBox()
        self.target_combo = QComboBox()
        self.source_combo.setToolTip("Source language (multilingual models)")
        self.target_combo.setToolTip("Target language (multilingual models)")
        self.quant_combo = QComboBox()
        self.quant_combo.addItems(QUANTIZATION_CHOICES)
        self.quant_combo.setToolTip("int8: smallest and fastest on CPU; float16: for GPUs")
        self.pickle_box = QCheckBox("Allow pickled weights")
        self.pickle_box.setToolTip("Accept repositories that only have pytorch_model.bin. Loading a pickle can run "
                                   "code: only for publishers you trust.")
        options.addWidget(self.repo_edit, 1)
        for w in (QLabel("From"), self.source_combo, QLabel("to"), self.target_combo, QLabel("Quantization"),
                  self.quant_combo, self.pickle_box):
            options.addWidget(w)
        layout.addLayout(options)

        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        progress_row.addWidget(self.status, 1)
        progress_row.addWidget(self.progress, 1)
        layout.addLayout(progress_row)

        buttons = QHBoxLayout()
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Cancel")
        self.remove_button = QPushButton("Remove")
        self.import_button = QPushButton("Import…")
        self.verify_button = QPushButton("Verify")
        self.open_button = QPushButton("Open folder")
        self.close_button = QPushButton("Close")
        self.download_button.clicked.connect(self.download)
        self.cancel_button.clicked.connect(self.cancel)
        self.remove_button.clicked.connect(self.remove)
        self.import_button.clicked.connect(self.import_folder)
        self.verify_button.clicked.connect(self.verify)
        self.open_button.clicked.connect(self.open_folder)
        self.close_button.clicked.connect(self.close)
        for b in (self.download_button, self.cancel_button, self.remove_button, self.import_button,
                  self.verify_button, self.open_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self._update_buttons()

    # ---------------------------------------------------------------- data
    def refresh(self) -> None:
        """Rebuild the rows from the catalog and the store (cheap: no checksums)."""
        selected = self.selected_row()
        keep = selected.model_id if selected else None
        try:
            pairs = self.manager.available()
            installed = self.manager.installed()
        except S2SError as exc:
            self._set_status(str(exc), error=True)
            pairs, installed = [], []
        rows = [Row(entry, model) for entry, model in pairs]
        covered = {r.installed.id for r in rows if r.installed}
        rows += [Row(None, m) for m in installed if m.id not in covered]
        self._rows = rows
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for col, text in enumerate(self._cells(row)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, i)
                if col == 5 and row.entry is not None and row.entry.non_commercial:
                    item.setToolTip("Non-commercial license: personal and research use only")
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(i, col, item)
        self._apply_filter()
        if keep:
            self.select(keep)
        self._selection_changed()

    def _cells(self, row: Row) -> list[str]:
        e, m = row.entry, row.installed
        if e is not None:
            langs = e.pair_label if e.task == "translate" else ", ".join(e.sources)
            license_text = e.license + (" (non-commercial)" if e.non_commercial else "")
            size = _size(m.size_bytes) if m else _size((e.download_mb or 0) * 1e6)
            params = f"{e.params_m:.0f}M" if e.params_m else ""
            name = e.name or e.repo
            if e.format == "ctranslate2":
                name += "  [pre-converted]"
        else:
            langs = m.manifest.pair
            license_text = m.manifest.license or ""
            size = _size(m.size_bytes)
            params = ""
            name = m.manifest.name or m.id
        task = (e.task if e else m.manifest.task).capitalize()
        if m is None:
            status = "Available"
        else:
            status = "Bundled" if m.bundled else "Installed"
            if self.manager.in_use(m):
                status += " (in use)"
        return [name, langs, task, params, size, license_text, status]

    def _apply_filter(self) -> None:
        task = self.task_filter.currentData()
        lang = self.lang_filter.text().strip() or None
        text = self.text_filter.text().strip() or None
        only_installed = self.installed_only.isChecked()
        for i, row in enumerate(self._rows):
            if row.entry is not None:
                visible = row.entry.matches(task, lang, text)
            else:
                m = row.installed.manifest
                hay = " ".join(filter(None, [m.id, m.name, m.source_repo, m.license, m.source, m.target])).lower()
                visible = ((not task or m.task == task) and (not lang or lang.lower() in (m.source, m.target))
                           and (not text or all(w in hay for w in text.lower().split())))
            if only_installed and row.installed is None:
                visible = False
            self.table.setRowHidden(i, not visible)

    def selected_row(self) -> Row | None:
        items = self.table.selectedItems()
        if not items:
            return None
        index = items[0].data(Qt.ItemDataRole.UserRole)
        return self._rows[index] if index is not None and index < len(self._rows) else None

    def select(self, model_id: str) -> bool:
        for i, row in enumerate(self._rows):
            if row.model_id == model_id or (row.entry is not None and row.entry.repo == model_id):
                self.table.selectRow(i)
                self.table.scrollToItem(self.table.item(i, 0))
                return True
        return False

    def _selection_changed(self) -> None:
        row = self.selected_row()
        self.source_combo.clear()
        self.target_combo.clear()
        if row is not None and row.entry is not None:
            e = row.entry
            self.source_combo.addItems(e.sources)
            self.target_combo.addItems(e.targets)
            if e.source:
                self.source_combo.setCurrentText(e.source)
            if e.target:
                self.target_combo.setCurrentText(e.target)
            index = self.quant_combo.findText(e.quantization)
            if index >= 0:
                self.quant_combo.setCurrentIndex(index)
            text = [f"<b>{e.repo}</b> · {e.architecture or e.format} · {e.license}"]
            if e.non_commercial:
                text.append("<span style='color:#a00'>non-commercial license</span>")
            if e.notes:
                text.append(e.notes)
            if row.installed is not None:
                text.append(f"installed in {row.installed.path}")
            self.details.setText(" — ".join(text))
        elif row is not None:
            m = row.installed
            self.details.setText(f"<b>{m.id}</b> · {m.manifest.source_repo or 'local'} · {m.path}")
        else:
            self.details.setText("")
        multi = row is not None and row.entry is not None and row.entry.multilingual
        self.source_combo.setEnabled(multi and len(row.entry.sources) > 1)
        self.target_combo.setEnabled(multi and len(row.entry.targets) > 1)
        self._update_buttons()

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def _update_buttons(self) -> None:
        row = self.selected_row()
        busy = self.busy
        installed = row is not None and row.installed is not None
        hand_repo = bool(self.repo_edit.text().strip())
        self.download_button.setEnabled(not busy and (hand_repo or (row is not None and row.entry is not None and not installed)))
        self.cancel_button.setEnabled(busy and self._call is not None and self._call.cancel is not None)
        self.remove_button.setEnabled(not busy and installed and not row.installed.bundled)
        self.verify_button.setEnabled(not busy and installed)
        self.open_button.setEnabled(installed)
        self.import_button.setEnabled(not busy)
        for w in (self.task_filter, self.repo_edit, self.quant_combo, self.pickle_box):
            w.setEnabled(not busy)

    def _set_status(self, text: str, error: bool = False, details: str = "") -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b00020;" if error else "")
        self.status.setToolTip(details)

    # ---------------------------------------------------------------- jobs
    def _start(self, label: str, fn: Callable[[_Call], Any], on_success: Callable[[Any], None],
               cancellable: bool = False) -> None:
        if self.busy:
            return
        call = _Call(fn, CancelToken() if cancellable else None)
        thread = WorkerThread(self)  # keeps one Python thread state (see gui.worker)
        call.moveToThread(thread)
        thread.started.connect(call.run)
        # Bound methods of this (GUI-thread) object: queued into the GUI thread. Each
        # outcome slot winds the job down first, so the dialog is idle when the outcome
        # (and modelsChanged) is reported.
        self._on_success = on_success
        call.progress.connect(self._on_progress)
        call.succeeded.connect(self._on_succeeded)
        call.failed.connect(self._on_failed)
        call.cancelled.connect(self._on_cancelled)
        self._thread, self._call = thread, call
        self.progress.setRange(0, 0)
        self.progress.show()
        self._set_status(label)
        self._update_buttons()
        self.busyChanged.emit(True)
        thread.start()

    def _finish(self) -> None:
        thread, call = self._thread, self._call
        self._thread = self._call = None
        self._on_success = None
        if thread is not None:
            thread.quit()
            thread.wait()
            thread.deleteLater()
        if call is not None:
            call.deleteLater()
        self.progress.hide()
        self._update_buttons()
        self.busyChanged.emit(False)

    @Slot(object)
    def _on_progress(self, p) -> None:
        if p.stage == "download" and p.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * p.done / p.total))
            self.progress.setFormat(f"{p.done / 1e6:.1f} / {p.total / 1e6:.1f} MB")
        else:
            self.progress.setRange(0, 0)  # busy indicator: conversion has stages, not a percentage
            self.progress.setFormat("")
        self._set_status(p.message)

    @Slot(object)
    def _on_succeeded(self, result) -> None:
        on_success = self._on_success
        self._finish()
        if on_success is not None:
            on_success(result)

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        self._finish()
        self._set_status(message, error=True, details=details)
        self.refresh()

    @Slot()
    def _on_cancelled(self) -> None:
        self._finish()
        self._set_status("Cancelled; nothing was installed.")
        self.refresh()

    def _changed(self, message: str) -> None:
        self._set_status(message)
        self.refresh()
        self.modelsChanged.emit()

    # ------------------------------------------------------------- actions
    @Slot()
    def download(self) -> None:
        row = self.selected_row()
        repo = self.repo_edit.text().strip()
        if repo:
            target_id, source, target = repo, None, None
        elif row is not None and row.entry is not None:
            entry = row.entry
            if entry.non_commercial and not self.confirm(
                "Non-commercial license",
                f"{entry.name or entry.repo} is licensed {entry.license}: personal and research use only, "
                "no commercial use. Download it?"):
                return
            target_id = entry.id
            source = self.source_combo.currentText() or None if entry.multilingual else None
            target = self.target_combo.currentText() or None if entry.multilingual else None
        else:
            return
        kwargs = dict(quantization=self.quant_combo.currentText(), allow_pickle=self.pickle_box.isChecked(),
                      source=source, target=target)
        manager = self.manager

        def job(call: _Call):
            return manager.install(target_id, on_progress=call.progress.emit, cancel=call.cancel, **kwargs)

        def done(model) -> None:
            self.repo_edit.clear()
            self._changed(f"Installed {model.id} ({_size(model.size_bytes)}).")
            self.select(model.id)

        self._start(f"Preparing {target_id}…", job, done, cancellable=True)

    @Slot()
    def cancel(self) -> None:
        if self._call is not None and self._call.cancel is not None:
            self._call.cancel.cancel()
            self._set_status("Cancelling…")
            self.cancel_button.setEnabled(False)

    @Slot()
    def remove(self) -> None:
        row = self.selected_row()
        if row is None or row.installed is None or row.installed.bundled:
            return
        model = row.installed
        if not self.confirm("Remove model", f"Delete {model.id} ({_size(model.size_bytes)}) from {model.path}?"):
            return
        manager, unload = self.manager, self.unload

        def job(_call: _Call):
            return manager.remove(model.id, unload=unload)

        self._start(f"Removing {model.id}…", job, lambda _path: self._changed(f"Removed {model.id}."))

    @Slot()
    def import_folder(self, path: str | None = None) -> None:
        if not path:
            path = QFileDialog.getExistingDirectory(self, "Import a model folder (CTranslate2 model or Hugging Face checkpoint)")
        if not path:
            return
        manager = self.manager
        kwargs = dict(quantization=self.quant_combo.currentText(), allow_pickle=self.pickle_box.isChecked())

        def job(call: _Call):
            return manager.import_path(path, on_progress=call.progress.emit, cancel=call.cancel, **kwargs)

        def done(model) -> None:
            self._changed(f"Imported {model.id} ({model.manifest.pair}).")
            self.select(model.id)

        self._start(f"Importing {path}…", job, done, cancellable=True)

    @Slot()
    def verify(self) -> None:
        row = self.selected_row()
        if row is None or row.installed is None:
            return
        model_id = row.installed.id
        manager = self.manager

        def done(report) -> None:
            self.last_report = report
            if report.ok:
                self._set_status(f"{model_id}: all {report.checked} files are intact.")
            else:
                self._set_status(f"{model_id}: " + "; ".join(report.problems) + ". Remove and download it again.",
                                 error=True)

        self._start(f"Verifying {model_id}…", lambda _call: manager.verify(model_id), done)

    @Slot()
    def open_folder(self) -> None:
        row = self.selected_row()
        if row is not None and row.installed is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(row.installed.path)))

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    # ------------------------------------------------------------- closing
    def wait_idle(self, timeout_ms: int = 60000) -> bool:
        """Block until the running job (if any) has finished; used on close."""
        thread = self._thread
        return True if thread is None else thread.wait(timeout_ms)

    def done(self, result: int) -> None:  # Close button, Esc, window close
        if self.busy:
            self.cancel()
            self.wait_idle()
            # queued signals of the finished call are not delivered after this point
            self._finish()
        super().done(result)

    def closeEvent(self, event) -> None:
        if self.busy:
            self.cancel()
            self.wait_idle()
            self._finish()
        super().closeEvent(event)
