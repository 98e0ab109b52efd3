"""The main window: source and target panes, toolbar, status bar, documents, settings.

All slow work goes to the :class:`~s2s_desktop.gui.worker.JobRunner`; this module only
submits jobs and displays what comes back.

Plug-in points for other parts of the app:

* ``alignment_dock`` -- an empty dock on the right for the alignment viewer;
* ``translationUpdated(object)`` -- the TextTranslation shown in the target pane, each
  time it changes (at most every 40 ms while a job streams; None when the pane shows
  something else, e.g. a summary). ``current_translation`` is that object (its
  ``results`` maps sentence index → SentenceResult with tokens and attention) and
  ``latest_results`` the SentenceResults added by the last update;
* ``open_model_manager()`` -- Tools → Manage models…;
* ``jobFinished(kind)`` / ``jobFailed(kind, message)`` / ``jobCancelled(kind)`` and
  ``documentLoaded(Document)`` for translate/summarize/open jobs.

Connect to these window signals, not to the worker's: a plain Python callable
connected to a worker signal runs on the worker thread.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Q_ARG, QByteArray, QMetaObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QDragEnterEvent, QDropEvent, QFont, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from s2s_desktop import APP_NAME
from s2s_desktop.core.documents import SUPPORTED_EXTENSIONS
from s2s_desktop.gui.autosave import Autosave
from s2s_desktop.gui.qtcompat import emit
from s2s_desktop.gui.settings import AppSettings, SettingsDialog, open_qsettings
from s2s_desktop.gui.theme import apply_theme
from s2s_desktop.gui.widgets import MessageBar, OutputRenderer, Pane, SourceEdit
from s2s_desktop.gui.worker import EngineKey, Job, JobRunner

TASKS = ("translate", "summarize")
TASK_LABELS = {"translate": "Translate", "summarize": "Summarize"}
DEBOUNCE_MS = 400
STREAM_POLL_MS = 40
MAX_STREAMING = 12  # sentences shown token by token at once
MAX_RECENT = 8
LANGUAGES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "pl": "Polish", "ru": "Russian", "uk": "Ukrainian", "cs": "Czech", "sv": "Swedish",
    "da": "Danish", "fi": "Finnish", "no": "Norwegian", "ja": "Japanese", "zh": "Chinese", "ko": "Korean",
    "ar": "Arabic", "tr": "Turkish", "el": "Greek", "hu": "Hungarian", "ro": "Romanian",
}


_FALLBACK_KEYS = {
    QKeySequence.StandardKey.Open: "Ctrl+O",
    QKeySequence.StandardKey.Save: "Ctrl+S",
    QKeySequence.StandardKey.Quit: "Ctrl+Q",
    QKeySequence.StandardKey.HelpContents: "F1",
}


def _freeze_gc() -> None:
    """Move the objects alive now (Qt wrappers, modules, a loaded model) out of the
    garbage collector's sight: a full collection walking them all took 25-60 ms on the
    GUI thread, a visible stall, and they live as long as the app anyway."""
    import gc

    gc.freeze()


def model_label(name: str, pair: str, sep: str = "  ·  ") -> str:
    """A model's name with its language pair, unless the name already says it."""
    return name if pair in name else f"{name}{sep}{pair}"


def language_name(code: str | None) -> str:
    if not code:
        return ""
    return LANGUAGES.get(code.split("_")[0].split("-")[0].lower(), code)


def file_filter() -> str:
    exts = " ".join(f"*{e}" for e in sorted(SUPPORTED_EXTENSIONS))
    return f"Documents ({exts});;Text (*.txt *.text *.md *.markdown);;Web pages (*.html *.htm);;PDF (*.pdf);;Word (*.docx);;All files (*)"


class MainWindow(QMainWindow):
    translationUpdated = Signal(object)  # TextTranslation in the target pane, or None
    jobFinished = Signal(str)  # kind of a finished output/document job ("translate", "summarize", "open")
    jobFailed = Signal(str, str)  # kind, message
    jobCancelled = Signal(str)  # kind of a stopped output/document job
    documentLoaded = Signal(object)  # Document

    def __init__(self, store=None, qsettings: QSettings | None = None, autosave_path: str | Path | None = None,
                 preload: bool = True):
        super().__init__()
        if store is None:
            from s2s_desktop.models.store import ModelStore

            store = ModelStore()
        self.store = store
        self.qsettings = qsettings if qsettings is not None else open_qsettings()
        self.settings = AppSettings.load(self.qsettings)
        self.autosave = Autosave(autosave_path, parent=self)
        self.runner = JobRunner(self)
        self.models = []  # InstalledModel list, refreshed by refresh_models()
        self.current_translation = None  # TextTranslation shown in the target pane
        self.latest_results: list = []  # SentenceResults added by the last update
        self.document_path: str | None = None
        self._output_job: Job | None = None  # translate/summarize job writing the target pane
        self._open_job: Job | None = None
        self._job_started = 0.0
        self._full_render = False
        self._taken = 0  # results of the output job already shown
        self._closing = False
        self._preload = preload
        self._manager_dialog = None

        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self._build_panes()
        self._build_actions()
        self._build_menus_and_toolbar()
        self._build_status_bar()
        self._build_docks()
        self._build_timers()
        self._connect_worker()

        self.refresh_models()
        self._restore_state()
        self.apply_settings(self.settings, save=False)
        restored = self.autosave.load()
        if restored:
            self.source.setPlainText(restored)
            self.source.moveCursor(self.source.textCursor().MoveOperation.End)
        self.source.textChanged.connect(self._source_changed)
        self._update_counts()
        self._set_busy(False)
        QTimer.singleShot(0, self._after_show)

    # ================================================================ building
    def _build_panes(self) -> None:
        self.source = SourceEdit()
        self.source.setPlaceholderText("Type or paste text here, or drop a document (.txt .md .html .pdf .docx)")
        self.source.setTabChangesFocus(True)
        self.source.fileDropped.connect(self.open_file)
        self.target = SourceEdit()  # read-only; a drop of a file there opens it too
        self.target.setReadOnly(True)
        self.target.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.target.setPlaceholderText("The translation appears here")
        self.target.fileDropped.connect(self.open_file)
        self.renderer = OutputRenderer(self.target)
        for edit in (self.source, self.target):
            edit.document().setDocumentMargin(8)

        self.source_pane = Pane("Source", self.source)
        self.target_pane = Pane("Translation", self.target)
        self.copy_button = QToolButton()
        self.copy_button.setToolTip("Copy the translation (Ctrl+Shift+C)")
        self.target_pane.add_button(self.copy_button)
        self.clear_button = QToolButton()
        self.source_pane.add_button(self.clear_button)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.source_pane)
        self.splitter.addWidget(self.target_pane)
        self.splitter.setSizes([500, 500])

        self.message_bar = MessageBar()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 2)
        layout.setSpacing(6)
        layout.addWidget(self.message_bar)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

    def _action(self, text: str, shortcut=None, slot=None, tip: str = "", checkable: bool = False, icon=None) -> QAction:
        action = QAction(text, self)
        if isinstance(shortcut, QKeySequence.StandardKey):
            # the platform's keys where it defines them (some define none for Quit/Help)
            keys = QKeySequence.keyBindings(shortcut) or [QKeySequence(_FALLBACK_KEYS[shortcut])]
            action.setShortcuts(keys)
        elif shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip or shortcut is not None:
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip or text.replace('&', '').rstrip('…')}" + (f" ({keys})" if keys else ""))
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.setCheckable(checkable)
        if slot is not None:
            (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        return action

    def _build_actions(self) -> None:
        S = QStyle.StandardPixmap
        self.open_action = self._action("&Open…", QKeySequence.StandardKey.Open, self.choose_file, "Open a document", icon=S.SP_DialogOpenButton)
        self.save_action = self._action("&Save Output As…", QKeySequence.StandardKey.Save, self.save_output_as, "Save the translation or summary", icon=S.SP_DialogSaveButton)
        self.quit_action = self._action("&Quit", QKeySequence.StandardKey.Quit, self.close)
        self.copy_action = self._action("&Copy Output", "Ctrl+Shift+C", self.copy_output, "Copy the translation or summary")
        self.copy_action.setIconText("Copy")
        self.clear_action = self._action("C&lear Source", "Ctrl+Shift+Backspace", self.clear_source, "Clear the source text")
        self.clear_action.setIconText("Clear")
        self.settings_action = self._action("&Settings…", "Ctrl+,", self.open_settings)
        self.run_action = self._action("&Translate", "Ctrl+Return", self.run_task, "Translate the source text")
        self.run_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.stop_action = self._action("S&top", "Esc", self.stop, "Stop the running job")
        self.live_action = self._action("Translate As You &Type", "Ctrl+T", self._live_toggled, "Translate as you type", checkable=True)
        self.live_action.setIconText("As You Type")
        self.swap_action = self._action("S&wap Languages", "Ctrl+Shift+S", self.swap_direction, "Swap the translation direction and the texts")
        self.swap_action.setIconText("⇄ Swap")
        self.task_group = QActionGroup(self)
        self.task_actions = {}
        for n, task in enumerate(TASKS, 1):
            a = self._action(TASK_LABELS[task], f"Ctrl+{n}", None, f"Task: {TASK_LABELS[task].lower()}", checkable=True)
            a.setData(task)
            a.triggered.connect(lambda _checked=False, t=task: self.set_task(t))
            self.task_group.addAction(a)
            self.task_actions[task] = a
        self.model_focus_action = self._action("Choose &Model", "Ctrl+M", lambda: (self.model_combo.setFocus(), self.model_combo.showPopup()))
        self.vertical_action = self._action("Stack Panes &Vertically", "Ctrl+L", self.set_vertical, checkable=True)
        self.dismiss_action = self._action("&Dismiss Message", "Ctrl+Shift+D", self.message_bar.dismiss)
        self.models_action = self._action("&Manage Models…", "Ctrl+Shift+M", self.open_model_manager)
        self.about_action = self._action("&About", QKeySequence.StandardKey.HelpContents, self.about)
        self.copy_button.setDefaultAction(self.copy_action)
        self.clear_button.setDefaultAction(self.clear_action)

    def _build_menus_and_toolbar(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addAction(self.save_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.copy_action)
        edit_menu.addAction(self.clear_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.settings_action)
        run_menu = bar.addMenu("&Run")
        for a in self.task_actions.values():
            run_menu.addAction(a)
        run_menu.addAction(self.model_focus_action)
        run_menu.addSeparator()
        run_menu.addAction(self.run_action)
        run_menu.addAction(self.stop_action)
        run_menu.addAction(self.live_action)
        run_menu.addAction(self.swap_action)
        self.view_menu = bar.addMenu("&View")
        self.view_menu.addAction(self.vertical_action)
        self.view_menu.addAction(self.dismiss_action)
        tools_menu = bar.addMenu("&Tools")
        tools_menu.addAction(self.models_action)
        tools_menu.addAction(self.settings_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolBar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar = tb
        self.task_combo = QComboBox()
        self.task_combo.setToolTip("Task (Ctrl+1 / Ctrl+2)")
        for task in TASKS:
            self.task_combo.addItem(TASK_LABELS[task], task)
        self.task_combo.activated.connect(lambda i: self.set_task(self.task_combo.itemData(i)))
        self.model_combo = QComboBox()
        self.model_combo.setToolTip("Model (Ctrl+M)")
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_combo.setMinimumContentsLength(24)
        self.model_combo.activated.connect(self._model_chosen)
        tb.addWidget(self.task_combo)
        tb.addWidget(self.model_combo)
        tb.addAction(self.swap_action)
        tb.addSeparator()
        tb.addAction(self.run_action)
        tb.addAction(self.stop_action)
        tb.addAction(self.live_action)
        tb.addSeparator()
        tb.addAction(self.open_action)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.progress_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setMaximumHeight(16)
        self.progress.setTextVisible(True)
        self.model_label = QLabel()
        self.device_label = QLabel()
        self.speed_label = QLabel()
        self.elapsed_label = QLabel()
        for w in (self.progress_label, self.progress):
            sb.addWidget(w)
        def separator() -> QFrame:
            line = QFrame()
            line.setFrameShape(QFrame.Shape.VLine)
            line.setFrameShadow(QFrame.Shadow.Sunken)
            return line

        first = True
        for w, tip in ((self.model_label, "Model"), (self.device_label, "Device, compute type and threads in use"),
                       (self.speed_label, "Output tokens per second of the last job"), (self.elapsed_label, "Time of the last job")):
            w.setToolTip(tip)
            w.setContentsMargins(4, 0, 4, 0)
            if not first:
                sb.addPermanentWidget(separator())
            first = False
            sb.addPermanentWidget(w)
        self.progress.hide()
        self.progress_label.hide()

    def _build_docks(self) -> None:
        # placeholder for the alignment viewer (another part of the app fills it)
        self.alignment_dock = QDockWidget("Alignment", self)
        self.alignment_dock.setObjectName("alignmentDock")
        self.alignment_dock.setAllowedAreas(Qt.DockWidgetArea.RightDockWidgetArea | Qt.DockWidgetArea.BottomDockWidgetArea)
        placeholder = QLabel("Select a sentence to see how its words align.")
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        placeholder.setWordWrap(True)
        placeholder.setEnabled(False)
        self.alignment_dock.setWidget(placeholder)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.alignment_dock)
        self.alignment_dock.hide()
        self.alignment_panel = None  # built with the first translation (keeps start-up light)
        self.highlighter = None
        self.translationUpdated.connect(self._update_alignment)
        toggle = self.alignment_dock.toggleViewAction()
        toggle.setText("&Alignment")
        toggle.setShortcut(QKeySequence("Ctrl+Shift+A"))
        self.addAction(toggle)
        self.view_menu.addSeparator()
        self.view_menu.addAction(toggle)

    def _build_timers(self) -> None:
        def timer(ms: int, slot) -> QTimer:
            t = QTimer(self)
            t.setSingleShot(True)
            t.setInterval(ms)
            t.timeout.connect(slot)
            return t

        self.debounce = timer(DEBOUNCE_MS, lambda: self.run_task(auto=True))
        self.counts_timer = timer(150, self._update_counts)
        self.elapsed_timer = QTimer(self)
        self.elapsed_timer.setInterval(100)
        self.elapsed_timer.timeout.connect(self._tick)
        self.stream_timer = QTimer(self)
        self.stream_timer.setInterval(STREAM_POLL_MS)
        self.stream_timer.timeout.connect(self._poll)

    def _connect_worker(self) -> None:
        w = self.runner.worker
        w.started.connect(self._on_started)
        w.modelReady.connect(self._on_model_ready)
        w.progress.connect(self._on_progress)
        w.translationStarted.connect(self._on_translation_started)
        w.summaryReady.connect(self._on_summary)
        w.documentLoaded.connect(self._on_document)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        w.cancelled.connect(self._on_cancelled)

    # ============================================================ state, settings
    def _restore_state(self) -> None:
        qs = self.qsettings
        geometry = qs.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 680)
        state = qs.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        vertical = str(qs.value("window/vertical", False)).lower() in ("true", "1")
        self.vertical_action.setChecked(vertical)
        self.set_vertical(vertical)
        splitter = qs.value("window/splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.splitter.restoreState(splitter)
        task = str(qs.value("state/task", "translate"))
        self.set_task(task if task in TASKS else "translate")
        self._rebuild_recent_menu()

    def save_state(self) -> None:
        qs = self.qsettings
        qs.setValue("window/geometry", self.saveGeometry())
        qs.setValue("window/state", self.saveState())
        qs.setValue("window/splitter", self.splitter.saveState())
        qs.setValue("window/vertical", self.vertical_action.isChecked())
        qs.setValue("state/task", self.task)
        self.settings.save(qs)  # syncs

    def apply_settings(self, settings: AppSettings, save: bool = True) -> None:
        old = self.settings
        self.settings = settings
        apply_theme(settings.theme)
        font = QFont(QGuiApplication.font())
        if settings.font_size > 0:
            font.setPointSize(settings.font_size)
        self.source.setFont(font)
        self.target.setFont(font)
        self.live_action.blockSignals(True)
        self.live_action.setChecked(settings.translate_as_you_type)
        self.live_action.blockSignals(False)
        self._update_icons()
        if self.renderer.translation is not None:
            self.renderer.render(full=True)  # pending-sentence colour follows the palette
        if self.message_bar.isVisible():
            self.message_bar.show_message(self.message_bar.text.text(), self.message_bar.level,
                                          self.message_bar.details.toPlainText())  # re-tint for the palette
        if save:
            settings.save(self.qsettings)
            engine_changed = (old.device, old.compute_type, old.threads) != (settings.device, settings.compute_type, settings.threads)
            if engine_changed:
                self._preload_model()

    def _update_icons(self) -> None:
        """Run/stop icons drawn in the palette's text colour (the style's own media icons
        are black, invisible on a dark theme)."""
        from PySide6.QtGui import QIcon, QPainter, QPalette, QPixmap, QPolygonF
        from PySide6.QtCore import QPointF, QRectF

        def icon(shape: str) -> QIcon:
            result = QIcon()
            for mode, group in ((QIcon.Mode.Normal, QPalette.ColorGroup.Active),
                                (QIcon.Mode.Disabled, QPalette.ColorGroup.Disabled)):
                ratio = self.devicePixelRatioF()
                pixmap = QPixmap(int(32 * ratio), int(32 * ratio))
                pixmap.setDevicePixelRatio(ratio)
                pixmap.fill(Qt.GlobalColor.transparent)
                painter = QPainter(pixmap)
                painter.setRenderHint(QPainter.RenderHint.Antialiasing)
                color = self.palette().color(group, QPalette.ColorRole.ButtonText)
                if shape == "play":
                    color = self.palette().color(group, QPalette.ColorRole.Highlight) if group == QPalette.ColorGroup.Active else color
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(color)
                if shape == "play":
                    painter.drawPolygon(QPolygonF([QPointF(9, 6), QPointF(27, 16), QPointF(9, 26)]))
                else:
                    painter.drawRoundedRect(QRectF(8, 8, 16, 16), 2, 2)
                painter.end()
                result.addPixmap(pixmap, mode)
            return result

        self.run_action.setIcon(icon("play"))
        self.stop_action.setIcon(icon("stop"))

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() == SettingsDialog.DialogCode.Accepted:
            self.apply_settings(dialog.values())

    def _live_toggled(self, on: bool) -> None:
        if on != self.settings.translate_as_you_type:
            self.settings.translate_as_you_type = on
            self.settings.save(self.qsettings)
        if on and self.task == "translate" and self.source.toPlainText().strip():
            self.debounce.start()

    def set_vertical(self, vertical: bool) -> None:
        self.splitter.setOrientation(Qt.Orientation.Vertical if vertical else Qt.Orientation.Horizontal)

    def ensure_alignment_viewer(self):
        """The alignment panel in the dock and the hover highlighter on both panes."""
        if self.alignment_panel is None:
            from s2s_desktop.gui.alignment import AlignmentPanel, PaneHighlighter, connect

            self.alignment_panel = AlignmentPanel()
            self.alignment_dock.setWidget(self.alignment_panel)
            self.highlighter = PaneHighlighter(self.source, self.target)
            connect(self.alignment_panel, self.highlighter)
        return self.alignment_panel, self.highlighter

    def _update_alignment(self, translation) -> None:
        if translation is None and self.alignment_panel is None:
            return
        panel, highlighter = self.ensure_alignment_viewer()
        model = self.current_model()
        model_dir = str(model.path) if model is not None else None
        panel.set_translation(translation, model_dir=model_dir)
        highlighter.set_translation(translation, model_dir=model_dir)

    # ==================================================================== models
    @property
    def task(self) -> str:
        return self.task_combo.currentData() or "translate"

    def refresh_models(self) -> None:
        self.models = self.store.list()
        self._fill_model_combo()

    def _fill_model_combo(self) -> None:
        task = self.task
        remembered = str(self.qsettings.value(f"state/model_{task}", ""))
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for model in self.models:
            m = model.manifest
            if m.task != task:
                continue
            self.model_combo.addItem(model_label(m.name or m.id, m.pair), m.id)
            self.model_combo.setItemData(self.model_combo.count() - 1, f"{m.id}\n{model.path}", Qt.ItemDataRole.ToolTipRole)
        if self.model_combo.count() == 0:
            self.model_combo.addItem(f"No {task} model installed", None)
            self.model_combo.setEnabled(False)
        else:
            self.model_combo.setEnabled(True)
            index = self.model_combo.findData(remembered)
            if index < 0:
                try:
                    index = self.model_combo.findData(self.store.default(task).id)
                except Exception:  # noqa: BLE001 - no default is fine
                    index = 0
            self.model_combo.setCurrentIndex(max(0, index))
        self.model_combo.blockSignals(False)
        self._model_changed()

    def current_model(self):
        model_id = self.model_combo.currentData()
        return next((m for m in self.models if m.id == model_id), None)

    def select_model(self, model_id: str) -> bool:
        for task in TASKS:
            if any(m.id == model_id and m.manifest.task == task for m in self.models):
                self.set_task(task)
                index = self.model_combo.findData(model_id)
                self.model_combo.setCurrentIndex(index)
                self._model_chosen(index)
                return True
        return False

    def _model_chosen(self, _index: int) -> None:
        model = self.current_model()
        if model is not None:
            self.qsettings.setValue(f"state/model_{self.task}", model.id)
        self._model_changed()
        self._preload_model()
        if self.task == "translate" and self.live_action.isChecked() and self.source.toPlainText().strip():
            self.debounce.start()

    def _model_changed(self) -> None:
        model = self.current_model()
        m = model.manifest if model else None
        if m is None:
            self.model_label.setText("No model")
        else:
            self.model_label.setText(model_label(m.name or m.id, m.pair, " · "))
        src = language_name(m.source) if m else ""
        self.source_pane.title.setText(f"Source — {src}" if src else "Source")
        if self.task == "translate":
            tgt = language_name(m.target) if m else ""
            self.target_pane.title.setText(f"Translation — {tgt}" if tgt else "Translation")
            self.target.setPlaceholderText("The translation appears here")
        else:
            self.target_pane.title.setText("Summary")
            self.target.setPlaceholderText("The summary appears here (Ctrl+Return)")
        self.swap_action.setEnabled(self.reverse_model() is not None)
        self.run_action.setEnabled(model is not None)

    def reverse_model(self):
        model = self.current_model()
        if model is None or model.manifest.task != "translate":
            return None
        m = model.manifest
        return next((r for r in self.models if r.manifest.task == "translate"
                     and (r.manifest.source, r.manifest.target) == (m.target, m.source)), None)

    def set_task(self, task: str) -> None:
        if task not in TASKS:
            return
        self.task_actions[task].setChecked(True)
        self.task_combo.setCurrentIndex(self.task_combo.findData(task))
        label = TASK_LABELS[task]
        self.run_action.setText(f"&{label}")
        self.run_action.setToolTip(f"{label} the source text (Ctrl+Return)")
        self.live_action.setEnabled(task == "translate")
        self.debounce.stop()
        self._fill_model_combo()

    def _engine_key(self, model) -> EngineKey:
        s = self.settings
        return EngineKey(str(model.path), s.device, s.compute_type, s.threads)

    def _preload_model(self) -> None:
        model = self.current_model()
        if model is not None and self._preload and not self._closing:
            self.runner.submit(Job("load", self._engine_key(model)))

    def _prepare_alignment(self) -> None:
        """Build the alignment viewer and load the model's tokenizer while the window is
        idle: done on the first results instead, they held the GUI thread for 60-120 ms
        in the middle of streaming a translation (measured with bench/gui_stall.py).
        Runs once the worker has loaded a model (the heavy imports are done by then), in
        small steps, one per event-loop turn, so that no step stalls the window."""
        model = self.current_model()
        if self._closing or model is None or self.task != "translate":
            return

        def steps():
            import s2s_desktop.core.alignment_export  # noqa: F401

            yield
            import s2s_desktop.gui.alignment  # noqa: F401  (the widgets)

            yield
            self.ensure_alignment_viewer()
            yield
            from s2s_desktop.core.errors import S2SError
            from s2s_desktop.gui.alignment.data import tokenizer_for

            try:
                tokenizer_for(model.path)
            except (S2SError, OSError, ValueError, RuntimeError):
                pass  # a broken model is reported by the worker when it loads it

        def step(it=steps()):
            if not self._closing and next(it, StopIteration) is not StopIteration:
                QTimer.singleShot(0, step)

        step()

    def open_model_manager(self) -> None:
        """Tools → Manage Models…: non-modal, so translating goes on during a download."""
        if self._manager_dialog is None:
            from s2s_desktop.gui.manager_dialog import ModelManagerDialog
            from s2s_desktop.models.manager import ModelManager

            self._manager_dialog = ModelManagerDialog(self, ModelManager(self.store), unload=self._unload_for_removal)
            self._manager_dialog.modelsChanged.connect(self.refresh_models)
        self._manager_dialog.show()
        self._manager_dialog.raise_()
        self._manager_dialog.activateWindow()

    def _unload_for_removal(self, model) -> None:
        """Called on the manager's thread before a loaded model is removed: stop the
        jobs using it and wait until the worker has released it."""
        self.runner.cancel()
        QMetaObject.invokeMethod(self.runner.worker, "unload_path", Qt.ConnectionType.BlockingQueuedConnection,
                                 Q_ARG(str, str(model.path)))

    # ====================================================================== jobs
    def run_task(self, auto: bool = False) -> Job | None:
        """Translate or summarize the source text (Ctrl+Return). ``auto``: started by
        translate-as-you-type; the latest request wins."""
        self.debounce.stop()
        if auto and (self.task != "translate" or not self.live_action.isChecked()):
            return None
        text = self.source.toPlainText()
        model = self.current_model()
        if not text.strip():
            self.runner.cancel(("translate", "summarize"))
            self._output_job = None
            self._clear_output()
            self._set_busy(False)
            return None
        if model is None:
            self.show_error(f"No {self.task} model is installed. Use Tools → Manage models… to add one.", level="warning")
            return None
        self.runner.cancel(("translate", "summarize"))
        options = {"beam_size": self.settings.beam_size, "max_output_tokens": self.settings.max_length}
        job = Job(self.task, self._engine_key(model), text=text, options=options)
        self._output_job = job
        self.runner.submit(job)
        self._set_busy(True)
        return job

    def stop(self) -> None:
        """Stop the running job(s) (Esc); with nothing running, dismiss the message."""
        self.debounce.stop()
        if self.runner.busy(("translate", "summarize", "open")):
            self.runner.cancel(("translate", "summarize", "open"))
            self.statusBar().showMessage("Stopped", 3000)
        elif self.message_bar.isVisible():
            self.message_bar.dismiss()

    def _is_output(self, job_id: int) -> bool:
        return self._output_job is not None and self._output_job.id == job_id

    def _is_open(self, job_id: int) -> bool:
        return self._open_job is not None and self._open_job.id == job_id

    def _set_busy(self, busy: bool) -> None:
        busy = busy or self.runner.busy(("translate", "summarize", "open"))
        self.stop_action.setEnabled(busy)
        if not busy:
            self.elapsed_timer.stop()
            self.stream_timer.stop()
            self.progress.hide()
            self.progress_label.hide()

    def _on_started(self, job_id: int, kind: str) -> None:
        if self._is_output(job_id) or self._is_open(job_id):
            self._job_started = time.perf_counter()
            self.elapsed_timer.start()

    def _tick(self) -> None:
        self.elapsed_label.setText(f"{time.perf_counter() - self._job_started:.1f} s")

    def _on_model_ready(self, job_id: int, info: dict) -> None:
        if info.get("loaded"):
            _freeze_gc()
            # the worker has imported numpy, sentencepiece, ...: what is left is cheap
            QTimer.singleShot(0, self._prepare_alignment)
        self.device_label.setText(info["describe"])
        self.model_label.setText(model_label(info["name"], info["pair"], " · "))

    def _on_progress(self, job_id: int, done: int, total: int, label: str) -> None:
        if self._is_open(job_id) or (self._is_output(job_id) and (total > 1 or "round" in label)):
            self._show_progress(label, done, total)

    def _show_progress(self, label: str, done: int, total: int) -> None:
        if total <= 0:
            return
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat("%v / %m")
        self.progress_label.setText(label)
        self.progress.show()
        self.progress_label.show()

    def _on_translation_started(self, job_id: int, translation) -> None:
        if not self._is_output(job_id):
            return
        self.current_translation = translation
        self.latest_results = []
        self._taken = 0
        self.renderer.translation = translation
        self.renderer.partials = {}
        self._full_render = True
        # the first poll comes one interval later: cached sentences (re-translating
        # while typing) are in by then, so the source text does not flash
        self.stream_timer.start(STREAM_POLL_MS)

    def _poll(self) -> None:
        """Take the running translation's new results and streamed partial texts (see
        worker.Job) and update the target pane: at most once per STREAM_POLL_MS."""
        job = self._output_job
        translation = self.current_translation
        if job is None or job.kind != "translate" or translation is None:
            return
        new = job.results[self._taken:]
        self._taken += len(new)
        for result in new:
            translation.add(result)
        if new:
            self.latest_results = new
        # greedy decoding streams a whole batch at once; showing the first few unfinished
        # sentences (where the reader is) keeps each update cheap on long documents
        streaming = sorted(i for i in dict(job.partials) if i not in translation.results)[:MAX_STREAMING]
        events = {i: job.partials.get(i) for i in streaming}
        partials = {i: e.text for i, e in events.items() if e is not None}  # decoded here, once per poll
        partials = {i: t for i, t in partials.items() if t}
        changed = bool(new) or partials != self.renderer.partials or self._full_render
        self.renderer.partials = partials
        total = len(translation.sentences)
        if total >= 12:
            self._show_progress("Translating", len(translation.results), total)
        if changed:
            started = time.perf_counter()
            self.renderer.render(full=self._full_render)
            self._full_render = False
            # back off when updates get expensive, so the window stays responsive
            spent_ms = (time.perf_counter() - started) * 1000
            self.stream_timer.setInterval(int(max(STREAM_POLL_MS, min(400, 4 * spent_ms))))
            self.counts_timer.start()
            emit(self.translationUpdated, translation)

    def _clear_output(self) -> None:
        self.stream_timer.stop()
        self.renderer.clear()
        self.current_translation = None
        self.latest_results = []
        self.target.clear()
        emit(self.translationUpdated, None)

    def _set_output_text(self, text: str) -> None:
        self._clear_output()
        self.target.setPlainText(text)
        self.counts_timer.start()

    def _on_summary(self, job_id: int, result) -> None:
        if not self._is_output(job_id):
            return
        self._set_output_text(result.text)
        if result.warnings:
            self.show_error(" ".join(result.warnings), level="warning")

    def _on_document(self, job_id: int, document) -> None:
        if not self._is_open(job_id):
            return
        self.document_path = str(document.path)
        self.source.setPlainText(document.text)
        self.setWindowTitle(f"{Path(document.path).name} — {APP_NAME}")
        self._add_recent(str(document.path))
        pages = f", {document.pages} pages" if document.pages else ""
        self.statusBar().showMessage(f"Opened {Path(document.path).name}{pages}", 5000)
        if document.warnings:
            self.show_error(" ".join(document.warnings), level="warning")
        emit(self.documentLoaded, document)

    def _on_finished(self, job_id: int, stats: dict) -> None:
        if self._is_output(job_id):
            job = self._output_job
            self._poll()
            if stats.get("tokens_per_second"):
                self.speed_label.setText(f"{stats['tokens_per_second']:,.0f} tok/s")
            self.elapsed_label.setText(f"{time.perf_counter() - self._job_started:.1f} s")
            self._output_job = None
            self._set_busy(False)
            emit(self.jobFinished, job.kind)
        elif self._is_open(job_id):
            self._open_job = None
            self._set_busy(False)
            emit(self.jobFinished, "open")

    def _on_failed(self, job_id: int, error) -> None:
        kind = None
        if self._is_output(job_id):
            kind = self._output_job.kind
            self._output_job = None
        elif self._is_open(job_id):
            kind = "open"
            self._open_job = None
        elif self._closing:
            return
        self.show_error(error.message, details=error.details)
        self._set_busy(False)
        if kind:
            emit(self.jobFailed, kind, error.message)

    def _on_cancelled(self, job_id: int) -> None:
        if self._is_output(job_id) or self._is_open(job_id):
            if self._is_output(job_id):
                kind = self._output_job.kind
                self._poll()
                self._output_job = None
            else:
                kind = "open"
                self._open_job = None
            self._set_busy(False)
            emit(self.jobCancelled, kind)

    def show_error(self, message: str, details: str = "", level: str = "error") -> None:
        """Non-modal: the message bar above the panes; the window stays usable."""
        self.message_bar.show_message(message, level, details)

    # ================================================================= documents
    def choose_file(self) -> None:
        start = str(Path(self.document_path).parent) if self.document_path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open document", start, file_filter())
        if path:
            self.open_file(path)

    def open_file(self, path: str) -> Job:
        """Read a document in the worker; its text replaces the source pane."""
        if self._open_job is not None:
            self._open_job.cancel.cancel()
        job = Job("open", path=str(path))
        self._open_job = job
        self.progress_label.setText(f"Opening {Path(path).name}")
        self.runner.submit(job)
        self._set_busy(True)
        return job

    def save_output_as(self) -> None:
        text = self.output_text()
        if not text:
            self.statusBar().showMessage("Nothing to save yet", 3000)
            return
        suffix = "summary" if self.current_translation is None and self.task == "summarize" else "translation"
        base = Path(self.document_path).with_suffix("") if self.document_path else Path.home() / "output"
        path, _ = QFileDialog.getSaveFileName(self, "Save output as", f"{base}.{suffix}.txt", "Text (*.txt);;All files (*)")
        if path:
            self.save_output(path)

    def save_output(self, path: str) -> bool:
        try:
            Path(path).write_text(self.output_text(), encoding="utf-8")
        except OSError as exc:
            self.show_error(f"Cannot save {path}: {exc.strerror or exc}")
            return False
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def output_text(self) -> str:
        return self.target.toPlainText()

    def _recent(self) -> list[str]:
        value = self.qsettings.value("state/recent", [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: str) -> None:
        recent = [path] + [p for p in self._recent() if p != path]
        self.qsettings.setValue("state/recent", recent[:MAX_RECENT])
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self._recent()
        for n, path in enumerate(recent, 1):
            action = self.recent_menu.addAction(f"&{n} {Path(path).name}")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_file(p))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear List", self._clear_recent)
        self.recent_menu.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        self.qsettings.setValue("state/recent", [])
        self._rebuild_recent_menu()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            if url.isLocalFile():
                event.acceptProposedAction()
                self.open_file(url.toLocalFile())
                return

    # ==================================================================== editing
    def _source_changed(self) -> None:
        self.autosave.schedule(self.source.toPlainText())
        self.counts_timer.start()
        if self.task == "translate" and self.live_action.isChecked():
            self.debounce.start()

    def _update_counts(self) -> None:
        self.source_pane.update_counts()
        self.target_pane.update_counts()

    def copy_output(self) -> None:
        text = self.target.textCursor().selectedText().replace("\u2029", "\n") or self.output_text()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.statusBar().showMessage("Copied", 2000)

    def clear_source(self) -> None:
        self.source.clear()
        self.document_path = None
        self.setWindowTitle(APP_NAME)
        self.source.setFocus()

    def swap_direction(self) -> None:
        """Switch to the reverse model; the output becomes the new source."""
        reverse = self.reverse_model()
        if reverse is None:
            return
        self.runner.cancel(("translate",))
        self._output_job = None
        old_source, old_output = self.source.toPlainText(), self.output_text()
        self.select_model(reverse.id)
        self._clear_output()
        self.target.setPlainText(old_source)
        self.source.setPlainText(old_output)

    def about(self) -> None:
        from s2s_desktop.about import about_html

        QMessageBox.about(self, f"About {APP_NAME}", about_html())

    # ================================================================ lifecycle
    def _after_show(self) -> None:
        _freeze_gc()
        self._preload_model()
        if self.task == "translate" and self.live_action.isChecked() and self.source.toPlainText().strip():
            self.debounce.start()

    def closeEvent(self, event) -> None:  # noqa: N802
        self._closing = True
        self.debounce.stop()
        self.autosave.schedule(self.source.toPlainText())
        self.autosave.flush()
        self.save_state()
        self.hide()  # closes at once for the user; a running batch may need a moment to stop
        if not self.runner.stop(timeout_ms=120_000):
            import logging

            logging.getLogger(__name__).warning("the worker thread did not stop in time")
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the worker without closing (tests, embedding)."""
        self._closing = True
        self.runner.stop()
