"""What the alignment views draw: labels, a target × source matrix and hard links.

No Qt here. ``AlignmentData.from_result`` builds the word-level view (subwords merged by
``core.alignment.merge_subwords``: source pieces summed, target rows averaged, special
and language tokens dropped, rows renormalized) or the raw subword view (every model
token, ``</s>`` and prefixes included, flagged as special so the views can grey them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from s2s_desktop.core.alignment import WordAlignment, merge_subwords, word_ids
from s2s_desktop.core.alignment_export import drop_prompt_words

METHODS = ("none", "argmax", "threshold")


@dataclass
class AlignmentData:
    source_labels: list[str]
    target_labels: list[str]
    matrix: np.ndarray  # (len(target_labels), len(source_labels))
    subwords: bool = False
    source_special: list[bool] = field(default_factory=list)
    target_special: list[bool] = field(default_factory=list)
    source_detail: list[str] = field(default_factory=list)  # tooltip: the tokens of a word
    target_detail: list[str] = field(default_factory=list)
    title: str = ""

    def __post_init__(self) -> None:
        self.matrix = np.asarray(self.matrix, dtype=np.float32)
        if self.matrix.shape != (len(self.target_labels), len(self.source_labels)):
            raise ValueError(
                f"matrix shape {self.matrix.shape} does not match {len(self.target_labels)} target × "
                f"{len(self.source_labels)} source labels"
            )
        self.source_special = self.source_special or [False] * len(self.source_labels)
        self.target_special = self.target_special or [False] * len(self.target_labels)
        self.source_detail = self.source_detail or list(self.source_labels)
        self.target_detail = self.target_detail or list(self.target_labels)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape  # type: ignore[return-value]

    def labels(self, side: str) -> list[str]:
        return self.source_labels if side == "source" else self.target_labels

    def hard(self, method: str = "argmax", threshold: float = 0.3) -> set[tuple[int, int]]:
        """(source, target) index pairs; special tokens never take part."""
        if method == "none" or self.matrix.size == 0:
            return set()
        m = self.matrix.copy()
        m[:, np.asarray(self.source_special, dtype=bool)] = 0
        m[np.asarray(self.target_special, dtype=bool), :] = 0
        return set(WordAlignment(self.source_labels, self.target_labels, m).hard(method, threshold))

    def with_matrix(self, matrix: np.ndarray, title: str = "") -> "AlignmentData":
        return AlignmentData(self.source_labels, self.target_labels, matrix, self.subwords, self.source_special,
                             self.target_special, self.source_detail, self.target_detail, title or self.title)

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_tokens(cls, source_tokens: Sequence[str], target_tokens: Sequence[str], attention, tokenizer,
                    subwords: bool = False, source_text: str | None = None) -> "AlignmentData":
        """``source_text``: the sentence; words of a text prompt before it (T5's
        ``summarize:``) are then left out of the word view (see drop_prompt_words)."""
        att = np.asarray(attention, dtype=np.float32)
        if subwords:
            return cls._subword_view(source_tokens, target_tokens, att, tokenizer)
        words = merge_subwords(source_tokens, target_tokens, att, tokenizer)
        src_details = _details(source_tokens, word_ids(source_tokens, tokenizer), words.source_words)
        if source_text is not None:
            kept = drop_prompt_words(words, source_text)
            src_details = src_details[len(words.source_words) - len(kept.source_words):]
            words = kept
        return cls(
            words.source_words,
            words.target_words,
            words.matrix,
            False,
            source_detail=src_details,
            target_detail=_details(target_tokens, word_ids(target_tokens, tokenizer), words.target_words),
        )

    @classmethod
    def from_result(cls, result, tokenizer, subwords: bool = False) -> "AlignmentData":
        if result is None or result.attention is None:
            raise ValueError("this sentence has no attention")
        return cls.from_tokens(result.source_tokens, result.target_tokens, result.attention, tokenizer, subwords,
                               result.source)

    @classmethod
    def _subword_view(cls, source_tokens, target_tokens, att, tokenizer) -> "AlignmentData":
        src_sp = [bool(tokenizer is not None and tokenizer.is_special(t)) for t in source_tokens]
        tgt_sp = [bool(tokenizer is not None and tokenizer.is_special(t)) for t in target_tokens]
        att = att[: len(target_tokens), : len(source_tokens)]
        return cls(
            [display_token(t, tokenizer, sp) for t, sp in zip(source_tokens, src_sp)],
            [display_token(t, tokenizer, sp) for t, sp in zip(target_tokens, tgt_sp)],
            att,
            True,
            src_sp,
            tgt_sp,
            [f"token {i}: {t!r}" for i, t in enumerate(source_tokens)],
            [f"token {i}: {t!r}" for i, t in enumerate(target_tokens)],
        )


SPACE_MARKERS = ("\u2581", "\u0120", "\u010a")

_tokenizers: dict = {}


def tokenizer_for(model_dir) -> object:
    """The model's tokenizer, loaded once per folder (for a GUI thread that does not own
    the engine; sentencepiece/tokenizers load in tens of milliseconds)."""
    from pathlib import Path

    from s2s_desktop.core.manifest import ModelManifest
    from s2s_desktop.core.tokenizer import load_tokenizer

    key = str(Path(model_dir).resolve())
    if key not in _tokenizers:
        _tokenizers[key] = load_tokenizer(model_dir, ModelManifest.load(model_dir))
    return _tokenizers[key]


def display_token(token: str, tokenizer=None, special: bool = False) -> str:
    """A readable label for a raw token: ``▁`` marks a word start for every tokenizer
    kind, byte-level BPE bytes are decoded when they form whole characters."""
    if special or tokenizer is None:
        return token
    starts = token[:1] in SPACE_MARKERS
    try:
        text = tokenizer.decode([token])
    except Exception:  # an odd token must not break the view
        text = ""
    if not text or "\ufffd" in text:
        text = token[1:] if starts else token
    text = text.strip() or token
    return ("\u2581" + text) if starts else text


def _details(tokens: Sequence[str], ids: Sequence[int], words: Sequence[str]) -> list[str]:
    pieces: dict[int, list[str]] = {}
    for tok, wid in zip(tokens, ids):
        if wid >= 0:
            pieces.setdefault(wid, []).append(tok)
    return [f"{w}  [{' '.join(pieces.get(i, []))}]" for i, w in enumerate(words)]


# ------------------------------------------------------------------ colours (no Qt)
# matplotlib's "Blues" stops: readable in print and for most colour-vision deficiencies.
_STOPS = [(0.0, (247, 251, 255)), (0.125, (222, 235, 247)), (0.25, (198, 219, 239)), (0.375, (158, 202, 225)),
          (0.5, (107, 174, 214)), (0.625, (66, 146, 198)), (0.75, (33, 113, 181)), (0.875, (8, 81, 156)),
          (1.0, (8, 48, 107))]


def ramp(n: int = 256) -> list[tuple[int, int, int]]:
    xs = np.linspace(0, 1, n)
    pos = [s for s, _ in _STOPS]
    # one vectorized interpolation per channel (per-value np.interp calls cost ~20 ms)
    channels = [np.rint(np.interp(xs, pos, [c[k] for _, c in _STOPS])).astype(int) for k in range(3)]
    return [(int(r), int(g), int(b)) for r, g, b in zip(*channels)]
