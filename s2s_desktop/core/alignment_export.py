"""Word-alignment exports for a whole text (Qt-free; the GUI viewer and the CLI share it).

Two formats, one line per input line:

* Pharaoh: space-separated ``i-j`` pairs, 0-based whitespace-word indices of the
  *line*, source first (what fast_align, eflomal and awesome-align write).
* JSON: one object per line, ``{"source", "target", "sentences": [...]}`` where each
  sentence holds its text, its word offsets in the line, the model tokens, the merged
  words, the soft word×word matrix (target rows) and the hard alignment (line indices).

A line is made of sentences; a sentence's *records* are ``(source_word_offset,
target_word_offset, SentenceResult)`` tuples, exactly what ``cli.translate_lines``
yields, so the CLI can call :func:`alignment_line` directly.

For a :class:`~s2s_desktop.core.engine.TextTranslation` (what the GUI holds),
:func:`text_layout` finds where every sentence sits in the source and the translated
text (character offsets, used by the pane highlighter) and :func:`line_records` builds
the per-line records. Sentences without a result yet (or without attention) are left
out of the alignments, never guessed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from s2s_desktop.core.alignment import WordAlignment, merge_subwords, pharaoh
from s2s_desktop.core.tokenizer import Tokenizer

try:  # the same rule reassemble() uses to put a space between touching translations
    from s2s_desktop.core.text import _JOIN_AFTER
except ImportError:  # pragma: no cover - kept in step with core.text
    _JOIN_AFTER = frozenset(".!?;:,)\"'\u00bb\u201d\u2019\u2026")

FORMATS = ("pharaoh", "json")
METHODS = ("argmax", "threshold")
Record = tuple  # (source_word_offset, target_word_offset, SentenceResult)


# ------------------------------------------------------------------ one sentence
def token_alignment(result, tokenizer: Tokenizer | None = None) -> WordAlignment:
    """The raw subword matrix as a WordAlignment (labels are the model tokens)."""
    att = np.asarray(result.attention, dtype=np.float32)
    return WordAlignment(list(result.source_tokens), list(result.target_tokens), att)


def word_alignment(result, tokenizer: Tokenizer) -> WordAlignment:
    """Merged words of one sentence, indices matching ``result.source.split()``."""
    words = merge_subwords(result.source_tokens, result.target_tokens, result.attention, tokenizer)
    return drop_prompt_words(words, result.source)


def drop_prompt_words(words: WordAlignment, source_text: str) -> WordAlignment:
    """Remove the words of a text prompt the engine put before the sentence (T5's
    ``summarize: ``/``translate English to German: ``), so that word indices are the
    sentence's own whitespace words; rows are renormalized over the remaining words.
    Only when the remaining words are exactly the sentence's words."""
    src = source_text.split()
    n = len(words.source_words) - len(src)
    if n <= 0 or not _same_words(words.source_words[n:], src):
        return words
    matrix = np.asarray(words.matrix, dtype=np.float32)[:, n:]
    sums = matrix.sum(axis=1, keepdims=True)
    matrix = np.divide(matrix, sums, out=np.zeros_like(matrix), where=sums > 0)
    return WordAlignment(list(words.source_words[n:]), list(words.target_words), matrix)


def _same_words(a: Sequence[str], b: Sequence[str]) -> bool:
    import unicodedata

    norm = lambda w: unicodedata.normalize("NFKC", w).replace(" ", "")  # noqa: E731
    return len(a) == len(b) and all(norm(x) == norm(y) for x, y in zip(a, b))


def hard_pairs(words: WordAlignment, method: str = "argmax", threshold: float = 0.3) -> list[tuple[int, int]]:
    if method not in METHODS:
        raise ValueError(f"Unknown alignment method {method!r}; choose one of {', '.join(METHODS)}")
    return words.hard(method, threshold)


def sentence_json(result, words: WordAlignment, pairs: Sequence[tuple[int, int]], src_off: int = 0, tgt_off: int = 0,
                  digits: int = 4) -> dict:
    return {
        "source": result.source,
        "target": result.target,
        "source_offset": src_off,
        "target_offset": tgt_off,
        "source_tokens": list(result.source_tokens),
        "target_tokens": list(result.target_tokens),
        "source_words": list(words.source_words),
        "target_words": list(words.target_words),
        "attention": [[round(float(x), digits) for x in row] for row in words.matrix],
        "alignment": [[s + src_off, t + tgt_off] for s, t in pairs],
    }


# ------------------------------------------------------------------ one line
def alignment_line(
    source_line: str,
    target_line: str,
    records: Iterable[Record],
    tokenizer: Tokenizer,
    fmt: str = "pharaoh",
    method: str = "argmax",
    threshold: float = 0.3,
) -> str:
    """One output line (no newline) for one input line, in ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown alignment format {fmt!r}; choose one of {', '.join(FORMATS)}")
    parts: list[str] = []
    sentences: list[dict] = []
    for src_off, tgt_off, result in records:
        if result is None or result.attention is None:
            continue
        words = word_alignment(result, tokenizer)
        pairs = hard_pairs(words, method, threshold)
        if fmt == "pharaoh":
            if pairs:
                parts.append(pharaoh(pairs, src_off, tgt_off))
        else:
            sentences.append(sentence_json(result, words, pairs, src_off, tgt_off))
    if fmt == "pharaoh":
        return " ".join(parts)
    return json.dumps({"source": source_line, "target": target_line, "sentences": sentences}, ensure_ascii=False)


# ------------------------------------------------------------------ a whole text
@dataclass
class SentenceSpan:
    """Where sentence ``index`` sits: character offsets in the source text and in the
    translated text (``TextTranslation.text``); target offsets are None until its result
    arrives (the translated text shows the source sentence meanwhile)."""

    index: int
    segment: int
    source_start: int
    source_end: int
    target_start: int
    target_end: int
    translated: bool


@dataclass
class TextLayout:
    source: str
    target: str
    spans: list[SentenceSpan]
    # per segment: (source piece, target piece incl. a joining space, sentence index or -1)
    pieces: list[tuple[str, str, int]] = field(default_factory=list)

    def sentence_at(self, pos: int, side: str = "source") -> int:
        """Sentence index whose text covers character ``pos`` (-1 if none)."""
        for span in self.spans:
            start, end = (span.source_start, span.source_end) if side == "source" else (span.target_start, span.target_end)
            if start <= pos <= end and (side == "source" or span.translated):
                return span.index
        return -1


def text_layout(tt) -> TextLayout:
    """Character layout of a TextTranslation; mirrors core.text.reassemble exactly."""
    translations = {tt.segment_of[i]: r.target for i, r in tt.results.items()}
    sentence_of = {seg: k for k, seg in enumerate(tt.segment_of)}
    spans: list[SentenceSpan] = []
    pieces: list[tuple[str, str, int]] = []
    src_pos = tgt_pos = 0
    tgt_parts: list[str] = []
    prev_translated = False
    for i, seg in enumerate(tt.segments):
        new = translations.get(i) if seg.translatable else None
        k = sentence_of.get(i, -1)
        if new is None:
            tgt_text = seg.text
            if k >= 0:
                spans.append(SentenceSpan(k, i, src_pos, src_pos + len(seg.text), tgt_pos, tgt_pos + len(seg.text), False))
            prev_translated = False
            joiner = ""
        else:
            new = new.strip()
            joiner = ""
            if prev_translated and tgt_parts and tgt_parts[-1] and tgt_parts[-1][-1] in _JOIN_AFTER and new:
                joiner = " "
            spans.append(SentenceSpan(k, i, src_pos, src_pos + len(seg.text), tgt_pos + len(joiner),
                                      tgt_pos + len(joiner) + len(new), True))
            tgt_text = new
            prev_translated = True
        if joiner:
            tgt_parts.append(joiner)
        tgt_parts.append(tgt_text)
        pieces.append((seg.text, joiner + tgt_text, k))
        src_pos += len(seg.text)
        tgt_pos += len(joiner) + len(tgt_text)
    return TextLayout(tt.source, "".join(tgt_parts), spans, pieces)


@dataclass
class LineRecords:
    source: str
    target: str
    records: list[Record]


def line_records(tt) -> list[LineRecords]:
    """Split a TextTranslation into its input lines with per-sentence word offsets."""
    layout = text_layout(tt)
    lines: list[LineRecords] = []
    src: list[str] = []
    tgt: list[str] = []
    records: list[Record] = []
    for src_piece, tgt_piece, k in layout.pieces:
        if k >= 0:
            result = tt.results.get(k)
            if result is not None:
                records.append((len("".join(src).split()), len("".join(tgt).split()), result))
            src.append(src_piece)
            tgt.append(tgt_piece.replace("\n", " ").replace("\r", " "))
            continue
        s_lines = src_piece.split("\n")
        t_lines = tgt_piece.split("\n")
        for n, (s_part, t_part) in enumerate(zip(s_lines, t_lines)):
            if n:
                lines.append(LineRecords("".join(src), "".join(tgt), records))
                src, tgt, records = [], [], []
            src.append(s_part)
            tgt.append(t_part)
    lines.append(LineRecords("".join(src), "".join(tgt), records))
    if len(lines) > 1 and tt.source.endswith("\n") and not lines[-1].source and not lines[-1].records:
        lines.pop()  # a final newline ends the last line; it does not start a new one
    return lines


def export_text(tt, tokenizer: Tokenizer, fmt: str = "pharaoh", method: str = "argmax", threshold: float = 0.3) -> str:
    """The whole text's alignments in ``fmt``: one line per input line, newline-terminated."""
    return "".join(
        alignment_line(line.source, line.target, line.records, tokenizer, fmt, method, threshold) + "\n"
        for line in line_records(tt)
    )


def write_export(path: str | os.PathLike, tt, tokenizer: Tokenizer, fmt: str | None = None,
                 method: str = "argmax", threshold: float = 0.3) -> str:
    """Write :func:`export_text` to ``path`` (format from the suffix when not given:
    ``.json``/``.jsonl`` → JSON, anything else → Pharaoh). Returns the format used."""
    if fmt is None:
        fmt = "json" if str(path).lower().endswith((".json", ".jsonl")) else "pharaoh"
    data = export_text(tt, tokenizer, fmt, method, threshold)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(data)
    return fmt
