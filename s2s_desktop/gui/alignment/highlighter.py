"""Alignment highlights in the two text panes, both ways, with weights.

Hovering (or putting the cursor on / selecting) a word in the target pane tints the
source words it attends to, colour intensity proportional to the weight (relative to
the strongest one); the same from the source pane to the target. The highlights are
extra selections (the document is never modified) marked with a private property, so
selections other code sets on the panes are left alone.

Never stale: the highlighter checks that each pane still shows the text it was given
(the source text, and the TextTranslation's ``text``) before drawing, and editing the
source drops everything until ``set_translation`` is called again.
"""

from __future__ import annotations

import bisect
import re

import numpy as np
from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit

from s2s_desktop.core.alignment_export import TextLayout, text_layout, word_alignment

MARK = QTextFormat.Property.UserProperty + 0x5A1  # "this selection is ours"
WEIGHT = QTextFormat.Property.UserProperty + 0x5A2  # the word's weight (tests, tooltips)
ROLE = QTextFormat.Property.UserProperty + 0x5A3  # "focus" (the hovered word) or "weight"
_WORD = re.compile(r"\S+")
MIN_SHOWN = 0.08  # relative weight under which a word is not tinted


class _Pane:
    """Python string offsets ↔ Qt (UTF-16) document positions for one pane."""

    def __init__(self, text: str):
        self.text = text
        wide = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]
        self._wide = wide  # code points that take two UTF-16 units

    def to_qt(self, i: int) -> int:
        return i + bisect.bisect_left(self._wide, i)

    def from_qt(self, pos: int) -> int:
        # the k-th wide char before i shifts positions by k
        lo, hi = 0, len(self.text)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.to_qt(mid) < pos:
                lo = mid + 1
            else:
                hi = mid
        return lo


class PaneHighlighter(QObject):
    sentenceActivated = Signal(int)  # the cursor / mouse entered sentence i (follow it in the dock)
    wordFocused = Signal(int, str, int)  # sentence, side, word index (-1: none)
    invalidated = Signal()  # the source pane no longer shows the translated text

    def __init__(self, source_edit: QPlainTextEdit | QTextEdit, target_edit: QPlainTextEdit | QTextEdit,
                 parent: QObject | None = None, color: QColor | None = None, hover: bool = True):
        super().__init__(parent or source_edit)
        self.edits = {"source": source_edit, "target": target_edit}
        self.color = QColor(color or QColor(255, 140, 0))
        self.focus_color = QColor(255, 214, 102)
        self._tt = None
        self._tokenizer = None
        self._layout: TextLayout | None = None
        self._layout_key = None
        self._words: dict[int, object] = {}  # sentence -> WordAlignment
        self._spans: dict[tuple[str, int], list[tuple[int, int]]] = {}  # (side, sentence) -> word spans (str offsets)
        self._panes: dict[str, _Pane] = {}
        self._spans_of: dict[str, dict[int, tuple[int, int]]] = {"source": {}, "target": {}}  # sentence -> chars
        self._current: tuple[str, int, tuple[int, ...]] | None = None  # side, sentence, words
        self._hovering = False
        self._last_sentence = -1
        self.enabled = True
        self._dirty = {"source": False, "target": False}
        for side, edit in self.edits.items():
            edit.cursorPositionChanged.connect(lambda s=side: self._cursor_moved(s))
            edit.selectionChanged.connect(lambda s=side: self._cursor_moved(s))
            edit.document().contentsChange.connect(lambda _p, removed, added, s=side: self._edited(s, removed, added))
            if hover:
                edit.viewport().setMouseTracking(True)
                edit.viewport().installEventFilter(self)

    # ================================================================== API
    def set_translation(self, text_translation, tokenizer=None, model_dir=None) -> None:
        """Highlight with this TextTranslation (None: clear). Without a tokenizer it is
        loaded from ``model_dir``."""
        if text_translation is None:
            self.clear()
            return
        if tokenizer is None and model_dir:
            from s2s_desktop.gui.alignment.data import tokenizer_for

            tokenizer = tokenizer_for(model_dir)
        self._tt = text_translation
        self._tokenizer = tokenizer
        self._words.clear()
        self._spans.clear()
        self._layout = None
        self._layout_key = None
        self._dirty = {"source": False, "target": False}
        self._current = None
        self._apply()

    def refresh(self) -> None:
        """New results arrived / the target pane was updated: re-check the layout."""
        self._layout = None
        self._apply()

    def clear(self) -> None:
        """Drop the translation and every highlight (source edited: no stale links)."""
        self._tt = None
        self._layout = None
        self._words.clear()
        self._spans.clear()
        self._current = None
        self._remove_all()

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        if not on:
            self._remove_all()
        else:
            self._apply()

    def highlight(self, sentence: int, side: str, words) -> None:
        """Highlight from a word (or words) of ``side`` in ``sentence``; words=-1/[] clears."""
        if isinstance(words, int):
            words = () if words < 0 else (words,)
        self._current = (side, sentence, tuple(words)) if words and side in self.edits else None
        self._apply()

    def highlight_word(self, sentence: int, side: str, word: int) -> None:
        """Slot for ``AlignmentPanel.wordHovered``."""
        self.highlight(sentence, side, word)

    def word_at(self, side: str, qt_pos: int) -> tuple[int, int]:
        """(sentence, word index) at a document position of a pane, or (-1, -1)."""
        if self._valid_layout(side) is None:
            return -1, -1
        pos = self._panes[side].from_qt(qt_pos)
        for index, (start, end) in self._spans_of[side].items():
            if start <= pos <= end:
                for k, (a, b) in enumerate(self._word_spans(side, index)):
                    if a <= pos - start < b or (pos - start == b and pos > start):
                        return index, k
                return index, -1
        return -1, -1

    def weights(self, side: str) -> list[tuple[int, int, float]]:
        """Currently shown (qt start, qt end, weight) on ``side`` (tests, debugging)."""
        out = []
        for sel in self.edits[side].extraSelections():
            if sel.format.property(MARK) and sel.format.property(ROLE) == "weight":
                out.append((sel.cursor.selectionStart(), sel.cursor.selectionEnd(), float(sel.format.property(WEIGHT))))
        return out

    # ================================================================== events
    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        et = event.type()
        if et in (QEvent.Type.MouseMove, QEvent.Type.Leave) and self.enabled:
            side = "source" if obj is self.edits["source"].viewport() else "target" if obj is self.edits["target"].viewport() else ""
            if side:
                if et == QEvent.Type.Leave:
                    if self._hovering:
                        self._hovering = False
                        self._from_cursor(self._focused_side())
                else:
                    self._hover(side, event.position().toPoint())
        return False

    def _focused_side(self) -> str:
        for side, edit in self.edits.items():
            if edit.hasFocus():
                return side
        return ""

    def _hover(self, side: str, point) -> None:
        edit = self.edits[side]
        cursor = edit.cursorForPosition(point)
        rect = edit.cursorRect(cursor)
        near = abs(rect.center().y() - point.y()) <= rect.height() and abs(rect.x() - point.x()) <= rect.height() * 1.5
        sentence, word = self.word_at(side, cursor.position()) if near else (-1, -1)
        if word < 0:
            if self._hovering:
                self._hovering = False
                self._from_cursor(self._focused_side())
            return
        self._hovering = True
        new = (side, sentence, (word,))
        if new != self._current:
            self._current = new
            self._activate(sentence)
            self.wordFocused.emit(sentence, side, word)
            self._apply()

    def _cursor_moved(self, side: str) -> None:
        if self._hovering or not self.edits[side].hasFocus():
            return
        self._from_cursor(side)

    def _from_cursor(self, side: str) -> None:
        if not side or self._tt is None:
            if self._current is not None:
                self._current = None
                self._apply()
            return
        cursor = self.edits[side].textCursor()
        if cursor.hasSelection():
            a, b = cursor.selectionStart(), cursor.selectionEnd()
            s0, _ = self.word_at(side, a)
            words = []
            for k, (start, end) in enumerate(self._word_spans(side, s0) if s0 >= 0 else []):
                qs, qe = self._qt_range(side, s0, start, end)
                if qs < b and qe > a:
                    words.append(k)
            sentence = s0
        else:
            sentence, word = self.word_at(side, cursor.position())
            words = [word] if word >= 0 else []
        new = (side, sentence, tuple(words)) if words else None
        if sentence >= 0:
            self._activate(sentence)
        if new != self._current:
            self._current = new
            self.wordFocused.emit(sentence, side, words[0] if words else -1)
            self._apply()

    def _activate(self, sentence: int) -> None:
        if sentence >= 0 and sentence != self._last_sentence:
            self._last_sentence = sentence
            self.sentenceActivated.emit(sentence)

    def _edited(self, side: str, removed: int, added: int) -> None:
        if not (removed or added):
            return
        self._dirty[side] = True
        self._layout = None
        if side == "source" and self._tt is not None and self.edits["source"].toPlainText() != self._tt.source:
            self.clear()  # the alignments belong to the old text
            self.invalidated.emit()
            return
        if self._current is not None:
            self._apply()

    # ================================================================== model
    def _valid_layout(self, side: str) -> TextLayout | None:
        """The layout, if ``side``'s pane shows the text it belongs to. The source pane
        must show exactly the translated source; the target pane may render the
        translation its own way (e.g. without reassemble's joining spaces, or with
        pending sentences shown differently): each translated sentence is then found
        in order in the pane's text."""
        if self._tt is None or not self.enabled:
            return None
        key = len(self._tt.results)
        if self._layout is None or self._layout_key != key:
            self._layout = text_layout(self._tt)
            self._layout_key = key
            self._spans = {}
            self._panes = {}
            self._spans_of = {"source": {}, "target": {}}
        for s in ("source", "target"):
            if s in self._panes:
                continue
            text = self.edits[s].toPlainText()
            spans = self._locate(s, text)
            self._panes[s] = _Pane(text) if spans is not None else None  # type: ignore[assignment]
            self._spans_of[s] = spans or {}
        return self._layout if self._panes.get(side) is not None else None

    def _locate(self, side: str, text: str) -> dict[int, tuple[int, int]] | None:
        layout = self._layout
        if side == "source":
            if text != layout.source:
                return None  # edited since: stale
            return {sp.index: (sp.source_start, sp.source_end) for sp in layout.spans}
        if text == layout.target:
            return {sp.index: (sp.target_start, sp.target_end) for sp in layout.spans if sp.translated}
        spans, pos = {}, 0
        for sp in layout.spans:
            if not sp.translated:
                continue
            piece = layout.target[sp.target_start : sp.target_end]
            at = text.find(piece, pos) if piece else -1
            if at < 0:
                return None
            spans[sp.index] = (at, at + len(piece))
            pos = at + len(piece)
        return spans

    def _word_spans(self, side: str, sentence: int) -> list[tuple[int, int]]:
        key = (side, sentence)
        if key not in self._spans:
            start, end = self._spans_of[side][sentence]
            self._spans[key] = [(m.start(), m.end()) for m in _WORD.finditer(self._panes[side].text[start:end])]
        return self._spans[key]

    def _qt_range(self, side: str, sentence: int, start: int, end: int) -> tuple[int, int]:
        base = self._spans_of[side][sentence][0]
        pane = self._panes[side]
        return pane.to_qt(base + start), pane.to_qt(base + end)

    def _alignment(self, sentence: int):
        if sentence not in self._words:
            result = self._tt.results.get(sentence) if self._tt is not None else None
            if result is None or result.attention is None:
                return None
            self._words[sentence] = word_alignment(result, self._tokenizer)
        return self._words[sentence]

    # ================================================================== drawing
    def _remove_all(self) -> None:
        for edit in self.edits.values():
            self._set(edit, [])

    @staticmethod
    def _set(edit, mine: list) -> None:
        others = [sel for sel in edit.extraSelections() if not sel.format.property(MARK)]
        if not mine and len(others) == len(edit.extraSelections()):
            return
        edit.setExtraSelections(others + mine)

    def _selection(self, side: str, sentence: int, word: int, color: QColor, weight: float, role: str):
        spans = self._word_spans(side, sentence)
        if not (0 <= word < len(spans)):
            return None
        qs, qe = self._qt_range(side, sentence, *spans[word])
        sel = QTextEdit.ExtraSelection()
        cursor = QTextCursor(self.edits[side].document())
        cursor.setPosition(qs)
        cursor.setPosition(qe, QTextCursor.MoveMode.KeepAnchor)
        sel.cursor = cursor
        fmt = QTextCharFormat()
        fmt.setBackground(color)
        if role == "focus":
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
        fmt.setProperty(MARK, True)
        fmt.setProperty(WEIGHT, float(weight))
        fmt.setProperty(ROLE, role)
        sel.format = fmt
        return sel

    def _apply(self) -> None:
        mine: dict[str, list] = {"source": [], "target": []}
        current = self._current
        if current is not None and self.enabled:
            side, sentence, words = current
            other = "target" if side == "source" else "source"
            ok = (sentence >= 0 and self._valid_layout(side) is not None and self._valid_layout(other) is not None
                  and sentence in self._spans_of["source"] and sentence in self._spans_of["target"])
            words_al = self._alignment(sentence) if ok else None
            if words_al is not None and words_al.matrix.size:
                n_other = len(self._word_spans(other, sentence))
                m = words_al.matrix
                idx = [w for w in words if 0 <= w < (m.shape[0] if side == "target" else m.shape[1])]
                if idx:
                    vec = m[idx].sum(axis=0) if side == "target" else m[:, idx].sum(axis=1)
                    vec = vec / max(len(idx), 1)
                    peak = float(vec.max()) if vec.size else 0.0
                    for w in idx:
                        sel = self._selection(side, sentence, w, self.focus_color, 1.0, "focus")
                        if sel is not None:
                            mine[side].append(sel)
                    if peak > 0:
                        for k in np.argsort(vec)[::-1]:
                            rel = float(vec[k]) / peak
                            if rel < MIN_SHOWN or k >= n_other:
                                continue
                            color = QColor(self.color)
                            color.setAlpha(int(round(40 + 200 * rel)))
                            sel = self._selection(other, sentence, int(k), color, float(vec[k]), "weight")
                            if sel is not None:
                                mine[other].append(sel)
        for side, edit in self.edits.items():
            self._set(edit, mine[side])
