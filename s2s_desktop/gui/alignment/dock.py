"""The alignment viewer: sentence navigator, heatmap / links / all-heads tabs, hard
alignment overlay, zoom and exports. ``AlignmentPanel`` is the widget; ``AlignmentDock``
is a floatable QDockWidget around it (or put the panel into an existing dock with
``dock.setWidget(AlignmentPanel())``).

Integration (the main window):

* ``set_translation(text_translation, tokenizer, model_dir=None)`` when a translation
  starts (the TextTranslation may still be filling up);
* ``refresh()`` when more results arrived in it;
* ``set_current_sentence(i)`` when the cursor enters sentence ``i``;
* ``clear(message)`` when the source is edited: nothing stale stays on screen.

Signals: ``sentenceChanged(int)`` (navigator), ``wordHovered(sentence, side, word)``
(word index in whitespace words, -1 when the hover ends) for the pane highlighter.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from s2s_desktop.core.alignment import merge_subwords, word_ids
from s2s_desktop.core.alignment_export import drop_prompt_words
from s2s_desktop.gui.alignment.data import AlignmentData, tokenizer_for
from s2s_desktop.gui.alignment.export import export_image
from s2s_desktop.gui.alignment.heads import HeadsGrid, HeadsJob, hf_checkpoint
from s2s_desktop.gui.alignment.heatmap import HeatmapView
from s2s_desktop.gui.alignment.links import LinkView

EDITED_MESSAGE = "The source was edited — alignments return with the new translation"


def _preview(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


class AlignmentPanel(QWidget):
    sentenceChanged = Signal(int)
    wordHovered = Signal(int, str, int)  # sentence, "source"/"target", word index (-1: none)

    TABS = ("heatmap", "links", "heads")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._tt = None
        self._tokenizer = None
        self._model_dir: Path | None = None
        self._index = -1
        self._data: AlignmentData | None = None
        self._heads: dict[int, np.ndarray] = {}
        self._heads_pending: dict[int, int] = {}  # request id -> sentence
        self._word_of: dict[str, list[int]] = {"source": [], "target": []}  # token -> word (subword mode)
        self._message = "Translate something to see its alignments"
        self.auto_heads = True  # compute the heads when their tab is shown

        # navigator
        self.prev_button = QToolButton(text="◀", toolTip="Previous sentence (Alt+Up)", autoRaise=True)
        self.next_button = QToolButton(text="▶", toolTip="Next sentence (Alt+Down)", autoRaise=True)
        self.prev_button.setShortcut("Alt+Up")
        self.next_button.setShortcut("Alt+Down")
        self.sentence_box = QComboBox(toolTip="Sentence shown (follows the cursor in the text panes)")
        self.sentence_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.sentence_box.setMinimumContentsLength(12)
        self.sentence_box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        nav = QHBoxLayout()
        nav.setContentsMargins(0, 0, 0, 0)
        nav.addWidget(self.prev_button)
        nav.addWidget(self.sentence_box, 1)
        nav.addWidget(self.next_button)

        # options
        self.subword_check = QCheckBox("Subwords", toolTip="Show the raw model tokens instead of merged words")
        self.hard_box = QComboBox(toolTip="Hard alignment overlay: none, the strongest source word per target word (argmax), or every link above a threshold")
        for label, key in (("No links", "none"), ("Argmax", "argmax"), ("Threshold", "threshold")):
            self.hard_box.addItem(label, key)
        self.hard_box.setCurrentIndex(1)
        self.threshold_spin = QDoubleSpinBox(toolTip="Threshold: links with at least this weight",
                                             minimum=0.01, maximum=1.0, singleStep=0.05, decimals=2, value=0.3)
        self.threshold_spin.setEnabled(False)
        self.zoom_out_button = QToolButton(text="−", toolTip="Zoom out (Ctrl+wheel)", autoRaise=True)
        self.zoom_in_button = QToolButton(text="+", toolTip="Zoom in (Ctrl+wheel)", autoRaise=True)
        self.fit_button = QToolButton(text="Fit", toolTip="Fit the view", autoRaise=True)
        self.export_button = QToolButton(text="Export", toolTip="Export the view or the alignments",
                                         popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        self.action_png = QAction("View as PNG…", self, triggered=lambda: self._ask_image("png"))
        self.action_svg = QAction("View as SVG…", self, triggered=lambda: self._ask_image("svg"))
        self.action_pharaoh = QAction("Whole text: Pharaoh i-j…", self, triggered=lambda: self._ask_alignments("pharaoh"))
        self.action_json = QAction("Whole text: JSON (tokens + weights)…", self,
                                   triggered=lambda: self._ask_alignments("json"))
        menu.addActions([self.action_png, self.action_svg])
        menu.addSeparator()
        menu.addActions([self.action_pharaoh, self.action_json])
        self.export_button.setMenu(menu)
        opts = QHBoxLayout()
        opts.setContentsMargins(0, 0, 0, 0)
        for w in (self.subword_check, self.hard_box, self.threshold_spin):
            opts.addWidget(w)
        opts.addStretch(1)
        for w in (self.zoom_out_button, self.zoom_in_button, self.fit_button, self.export_button):
            opts.addWidget(w)

        # views
        self.heatmap = HeatmapView()
        self.links = LinkView()
        self.heads_grid = HeadsGrid()
        self.heads_view = HeatmapView(cell=18)
        self.heads_button = QPushButton("Compute all layers × heads")
        self.heads_button.setToolTip("Re-runs this sentence through the original model (transformers) in the background")
        self.heads_status = QLabel(wordWrap=True)
        grid_scroll = QScrollArea()
        grid_scroll.setWidget(self.heads_grid)
        grid_scroll.setWidgetResizable(False)
        self.heads_split = heads_split = QSplitter(Qt.Orientation.Vertical)
        heads_split.addWidget(grid_scroll)
        heads_split.addWidget(self.heads_view)
        heads_page = QWidget()
        hl = QVBoxLayout(heads_page)
        hl.setContentsMargins(2, 2, 2, 2)
        hl.addWidget(self.heads_button, 0, Qt.AlignmentFlag.AlignLeft)
        hl.addWidget(self.heads_status)
        hl.addWidget(heads_split, 1)
        heads_split.setStretchFactor(0, 1)
        heads_split.setStretchFactor(1, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.heatmap, "Heatmap")
        self.tabs.addTab(self.links, "Links")
        self.tabs.addTab(heads_page, "All heads")
        self.status = QLabel(wordWrap=True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(nav)
        layout.addLayout(opts)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)

        self._job = HeadsJob(self)
        self._job.finished.connect(self._heads_done)
        self._job.failed.connect(self._heads_failed)

        self.prev_button.clicked.connect(lambda: self._step(-1))
        self.next_button.clicked.connect(lambda: self._step(1))
        self.sentence_box.currentIndexChanged.connect(self._picked)
        self.subword_check.toggled.connect(lambda _on: self._show())
        self.hard_box.currentIndexChanged.connect(self._hard_changed)
        self.threshold_spin.valueChanged.connect(lambda _v: self._apply_hard())
        self.zoom_in_button.clicked.connect(lambda: self.zoom(1))
        self.zoom_out_button.clicked.connect(lambda: self.zoom(-1))
        self.fit_button.clicked.connect(self.fit)
        self.heatmap.hovered.connect(self._heatmap_hover)
        self.links.hovered.connect(self._links_hover)
        self.heads_button.clicked.connect(self.compute_heads)
        self.heads_grid.selected.connect(self._head_selected)
        self.tabs.currentChanged.connect(self._tab_changed)
        self._show()

    # ================================================================== API
    def set_translation(self, text_translation, tokenizer=None, model_dir: str | Path | None = None) -> None:
        """Show the alignments of a (possibly still running) TextTranslation. Without a
        tokenizer it is loaded from ``model_dir``; None as translation clears the view."""
        if text_translation is None:
            self.clear("Translate something to see its alignments")
            return
        if tokenizer is None and model_dir:
            tokenizer = tokenizer_for(model_dir)
        same = text_translation is self._tt
        self._tt = text_translation
        self._tokenizer = tokenizer
        self._model_dir = Path(model_dir) if model_dir else None
        if not same:
            self._heads.clear()
            self._heads_pending.clear()
        self._message = "Translate something to see its alignments"
        self._fill_navigator(keep=self._index if same else 0)
        self._show()

    def refresh(self) -> None:
        """More results arrived in the current TextTranslation."""
        if self._tt is None:
            return
        self._fill_navigator(keep=self._index)
        self._show()

    def set_current_sentence(self, index: int) -> None:
        if self._tt is None or not (0 <= index < len(self._tt.sentences)) or index == self._index:
            return
        self.sentence_box.setCurrentIndex(index)  # → _picked → _show

    def current_sentence(self) -> int:
        return self._index

    def clear(self, message: str = EDITED_MESSAGE) -> None:
        """Forget the translation (e.g. the source was edited): nothing stale stays."""
        self._tt = None
        self._index = -1
        self._heads.clear()
        self._heads_pending.clear()
        self._message = message
        self.sentence_box.blockSignals(True)
        self.sentence_box.clear()
        self.sentence_box.blockSignals(False)
        self._show()

    def set_focus_word(self, side: str, word: int) -> None:
        """Highlight a word (whitespace-word index of the current sentence) in the views."""
        index = word
        if self._data is not None and self._data.subwords and word >= 0:
            ids = self._word_of.get(side, [])
            index = ids.index(word) if word in ids else -1
        for view in (self.heatmap, self.links):
            view.set_focus_word(side if index >= 0 else "", index)

    def current_view(self):
        """The widget the image export paints (the active tab's view)."""
        tab = self.TABS[self.tabs.currentIndex()]
        if tab == "links":
            return self.links
        if tab == "heads":
            return self.heads_view if self.heads_view.data() is not None else self.heads_grid
        return self.heatmap

    def set_view(self, name: str) -> None:
        self.tabs.setCurrentIndex(self.TABS.index(name))

    def set_subwords(self, on: bool) -> None:
        self.subword_check.setChecked(on)

    def set_hard_method(self, method: str, threshold: float | None = None) -> None:
        if threshold is not None:
            self.threshold_spin.setValue(threshold)
        self.hard_box.setCurrentIndex(self.hard_box.findData(method))

    def hard_method(self) -> tuple[str, float]:
        return self.hard_box.currentData(), float(self.threshold_spin.value())

    def data(self) -> AlignmentData | None:
        return self._data

    def zoom(self, steps: int) -> None:
        view = self.current_view()
        if hasattr(view, "zoom"):
            view.zoom(steps)

    def fit(self) -> None:
        view = self.current_view()
        if hasattr(view, "fit"):
            view.fit()

    def export_view(self, path: str | Path) -> str:
        """The current view as PNG or SVG (by suffix); returns the kind written."""
        title = "Attention alignment"
        if self._tt is not None and self._index >= 0:
            title += f": {_preview(self._tt.sentences[self._index], 80)}"
        return export_image(self.current_view(), path, title)

    def export_alignments(self, path: str | Path, fmt: str | None = None) -> str:
        """The whole text's alignments (Pharaoh or JSON); hard links from the overlay's
        method (argmax when the overlay is off)."""
        from s2s_desktop.core.alignment_export import write_export

        if self._tt is None or self._tokenizer is None:
            raise ValueError("There is no translation to export")
        method, threshold = self.hard_method()
        return write_export(path, self._tt, self._tokenizer, fmt, "argmax" if method == "none" else method, threshold)

    # ================================================================== internals
    def _fill_navigator(self, keep: int) -> None:
        box = self.sentence_box
        box.blockSignals(True)
        box.clear()
        tt = self._tt
        for i, sentence in enumerate(tt.sentences):
            mark = "" if i in tt.results else "  (pending)"
            box.addItem(f"{i + 1}. {_preview(sentence)}{mark}")
            box.setItemData(i, sentence, Qt.ItemDataRole.ToolTipRole)
        self._index = keep if 0 <= keep < len(tt.sentences) else (0 if tt.sentences else -1)
        box.setCurrentIndex(self._index)
        box.blockSignals(False)

    def _picked(self, index: int) -> None:
        if index < 0 or index == self._index:
            return
        self._index = index
        self._show()
        self.sentenceChanged.emit(index)

    def _step(self, delta: int) -> None:
        if self._tt is None:
            return
        i = max(0, min(len(self._tt.sentences) - 1, self._index + delta))
        self.sentence_box.setCurrentIndex(i)

    def _result(self):
        if self._tt is None or self._index < 0:
            return None
        return self._tt.results.get(self._index)

    def _show(self) -> None:
        self._data = None
        self._word_of = {"source": [], "target": []}
        message = self._message
        result = self._result()
        has_tt = self._tt is not None
        if has_tt and self._index >= 0 and result is None:
            message = "This sentence is not translated yet"
        elif result is not None and result.attention is None:
            message = "This model returned no attention for this sentence"
        elif result is not None and self._tokenizer is None:
            message = "No tokenizer for this model: pass one (or the model folder) to set_translation"
        elif result is not None:
            try:
                self._data = AlignmentData.from_result(result, self._tokenizer, self.subword_check.isChecked())
            except ValueError as exc:
                message = str(exc)
            if self._data is not None and self._data.subwords:
                src_ids = word_ids(result.source_tokens, self._tokenizer)
                full = merge_subwords(result.source_tokens, result.target_tokens, result.attention, self._tokenizer)
                prompt = len(full.source_words) - len(drop_prompt_words(full, result.source).source_words)
                self._word_of = {"source": [i - prompt if i >= prompt else -1 for i in src_ids],
                                 "target": word_ids(result.target_tokens, self._tokenizer)}
        for view in (self.heatmap, self.links):
            view.set_data(self._data, message)
        n = len(self._tt.sentences) if has_tt else 0
        for w in (self.prev_button, self.next_button, self.sentence_box):
            w.setEnabled(n > 0)
        self.prev_button.setEnabled(self._index > 0)
        self.next_button.setEnabled(0 <= self._index < n - 1)
        for w in (self.action_png, self.action_svg):
            w.setEnabled(self._data is not None)
        for w in (self.action_pharaoh, self.action_json):
            w.setEnabled(has_tt and bool(self._tt.results))
        self._apply_hard()
        self._update_status(message)
        self._show_heads()
        if self.auto_heads and self.TABS[self.tabs.currentIndex()] == "heads":
            self.compute_heads()

    def _update_status(self, message: str) -> None:
        d = self._data
        if d is None:
            self.status.setText(message)
            return
        unit = "tokens" if d.subwords else "words"
        rows, cols = d.shape
        peak = float(d.matrix.max(axis=1).mean()) if d.matrix.size else 0.0
        self.status.setText(f"Sentence {self._index + 1} of {len(self._tt.sentences)}: {rows} target × {cols} source "
                            f"{unit}; mean peak weight {peak:.2f}. Hover for values; Ctrl+wheel zooms.")

    def _hard_changed(self, _i: int) -> None:
        self.threshold_spin.setEnabled(self.hard_box.currentData() == "threshold")
        self._apply_hard()

    def _apply_hard(self) -> None:
        method, threshold = self.hard_method()
        pairs = self._data.hard(method, threshold) if self._data is not None else set()
        self.heatmap.set_hard(pairs)
        self.links.set_hard(pairs)
        hd = self.heads_view.data()
        self.heads_view.set_hard(hd.hard(method, threshold) if hd is not None else set())

    def _to_word(self, side: str, index: int) -> int:
        if index < 0 or self._data is None or not self._data.subwords:
            return index
        ids = self._word_of.get(side, [])
        return ids[index] if index < len(ids) else -1

    def _heatmap_hover(self, t: int, s: int) -> None:
        if t >= 0:
            self.wordHovered.emit(self._index, "target", self._to_word("target", t))
        elif s >= 0:
            self.wordHovered.emit(self._index, "source", self._to_word("source", s))
        else:
            self.wordHovered.emit(self._index, "", -1)

    def _links_hover(self, side: str, index: int) -> None:
        self.wordHovered.emit(self._index, side, self._to_word(side, index) if side else -1)

    # ------------------------------------------------------------------ all heads
    def heads_available(self) -> bool:
        return hf_checkpoint(self._model_dir) is not None

    def compute_heads(self) -> int:
        """Start the layer × head computation for the current sentence (worker thread).
        Returns the request id (0 when nothing was started)."""
        result = self._result()
        if result is None or not self.heads_available() or self._index in self._heads:
            return 0
        if self._index in self._heads_pending.values():
            return 0
        request = self._job.start(self._model_dir, result)
        self._heads_pending[request] = self._index
        self.heads_status.setText("Running the sentence through the original model…")
        self.heads_button.setEnabled(False)
        return request

    def wait_for_heads(self, ms: int = 60000) -> bool:
        return self._job.wait(ms)

    def _heads_done(self, request: int, heads) -> None:
        index = self._heads_pending.pop(request, None)
        if index is None:
            return  # the translation changed meanwhile
        self._heads[index] = heads
        self._show_heads()

    def _heads_failed(self, request: int, message: str) -> None:
        index = self._heads_pending.pop(request, None)
        if index is None:
            return
        self.heads_status.setText(f"Could not compute the heads: {message}")
        self.heads_button.setEnabled(True)

    def _tab_changed(self, _i: int) -> None:
        self._show_heads()
        if self.TABS[self.tabs.currentIndex()] == "heads" and self.auto_heads:
            self.compute_heads()

    def _show_heads(self) -> None:
        available = self.heads_available()
        heads = self._heads.get(self._index)
        pending = self._index in self._heads_pending.values()
        self.heads_button.setEnabled(available and heads is None and not pending and self._result() is not None)
        if not available:
            self.heads_status.setText("Needs the original checkpoint (kept in the model's hf/ folder at conversion).")
            self.heads_grid.set_heads(None, "Not available for this model")
            self.heads_view.set_data(None, "")
            return
        if heads is None:
            if not pending:
                self.heads_status.setText("Every decoder layer's cross-attention, per head.")
            self.heads_grid.set_heads(None, "…" if pending else "Press the button to compute")
            self.heads_view.set_data(None, "")
            return
        layers, n_heads = heads.shape[:2]
        self.heads_status.setText(f"{layers} layers × {n_heads} heads; last column: layer average. Click to enlarge.")
        if self.heads_grid.heads() is not heads:
            self.heads_grid.set_heads(heads)
            total = sum(self.heads_split.sizes())
            grid_h = min(self.heads_grid.sizeHint().height() + 6, int(total * 0.6))
            self.heads_split.setSizes([grid_h, max(60, total - grid_h)])
            self.heads_grid.select(layers - 1, n_heads)  # the last layer's average: what CT2 shows when averaged
        else:
            self._head_selected(*self.heads_grid.selection())

    def _head_selected(self, layer: int, head: int) -> None:
        heads = self._heads.get(self._index)
        result = self._result()
        if heads is None or result is None or layer < 0:
            self.heads_view.set_data(None, "")
            return
        matrix = self.heads_grid.matrix(layer, head)
        name = "average" if head >= heads.shape[1] else f"head {head}"
        data = AlignmentData.from_tokens(result.source_tokens, result.target_tokens, matrix, self._tokenizer,
                                         self.subword_check.isChecked(), result.source)
        data.title = f"layer {layer + 1} of {heads.shape[0]}, {name}"
        self.heads_status.setText(f"{heads.shape[0]} layers × {heads.shape[1]} heads; last column: layer average. "
                                  f"Showing {data.title}.")
        self.heads_view.set_data(data)
        method, threshold = self.hard_method()
        self.heads_view.set_hard(data.hard(method, threshold))

    # ------------------------------------------------------------------ dialogs
    def _ask_image(self, kind: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the view", f"alignment.{kind}",
                                              "PNG image (*.png)" if kind == "png" else "SVG image (*.svg)")
        if path:
            if not path.lower().endswith(f".{kind}"):
                path += f".{kind}"
            try:
                self.export_view(path)
            except OSError as exc:
                QMessageBox.warning(self, "Export failed", str(exc))

    def _ask_alignments(self, fmt: str) -> None:
        suffix = "json" if fmt == "json" else "align"
        path, _ = QFileDialog.getSaveFileName(self, "Export the alignments", f"alignments.{suffix}",
                                              "JSON lines (*.json *.jsonl)" if fmt == "json" else "Pharaoh (*.align *.txt)")
        if path:
            try:
                self.export_alignments(path, fmt)
            except (OSError, ValueError) as exc:
                QMessageBox.warning(self, "Export failed", str(exc))


class AlignmentDock(QDockWidget):
    """A floatable dock around :class:`AlignmentPanel`, delegating its API."""

    def __init__(self, parent: QWidget | None = None, title: str = "Alignments"):
        super().__init__(title, parent)
        self.setObjectName("alignment_dock")
        self.panel = AlignmentPanel(self)
        self.setWidget(self.panel)
        self.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.sentenceChanged = self.panel.sentenceChanged
        self.wordHovered = self.panel.wordHovered

    # the integration API, delegated
    def set_translation(self, text_translation, tokenizer=None, model_dir=None) -> None:
        self.panel.set_translation(text_translation, tokenizer, model_dir)

    def refresh(self) -> None:
        self.panel.refresh()

    def set_current_sentence(self, index: int) -> None:
        self.panel.set_current_sentence(index)

    def current_sentence(self) -> int:
        return self.panel.current_sentence()

    def clear(self, message: str = EDITED_MESSAGE) -> None:
        self.panel.clear(message)

    def set_focus_word(self, side: str, word: int) -> None:
        self.panel.set_focus_word(side, word)

    def export_view(self, path) -> str:
        return self.panel.export_view(path)

    def export_alignments(self, path, fmt: str | None = None) -> str:
        return self.panel.export_alignments(path, fmt)
