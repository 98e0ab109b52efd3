"""From subword attention to word alignments.

The engine returns attention over model tokens (target × source). People read words:
subwords are merged into whitespace words (source weights summed, target rows
averaged); special tokens (``</s>``, language tokens) carry no word and are dropped.
Hard alignments come from argmax or a threshold. Pharaoh ``i-j`` pairs use 0-based
whitespace-word indices, source first, as fast_align and awesome-align write them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from s2s_desktop.core.tokenizer import Tokenizer


def word_ids(tokens: Sequence[str], tokenizer: Tokenizer) -> list[int]:
    """Word index of each token, -1 for special and language tokens."""
    ids, word = [], -1
    for tok, start in zip(tokens, tokenizer.word_starts(tokens)):
        if tokenizer.is_special(tok):
            ids.append(-1)
            continue
        if start or word < 0:
            word += 1
        ids.append(word)
    return ids


@dataclass
class WordAlignment:
    source_words: list[str]
    target_words: list[str]
    matrix: np.ndarray  # (len(target_words), len(source_words)), rows sum to 1 (or 0)

    def hard(self, method: str = "argmax", threshold: float = 0.3) -> list[tuple[int, int]]:
        """(source_index, target_index) pairs."""
        pairs = []
        if self.matrix.size == 0:
            return pairs
        if method == "argmax":
            for t, row in enumerate(self.matrix):
                if row.sum() > 0:
                    pairs.append((int(row.argmax()), t))
        elif method == "threshold":
            for t, s in zip(*np.nonzero(self.matrix >= threshold)):
                pairs.append((int(s), int(t)))
        else:
            raise ValueError(f"Unknown alignment method {method!r}")
        return sorted(pairs)


def _group(tokens: Sequence[str], ids: Sequence[int], tokenizer: Tokenizer) -> list[str]:
    words: dict[int, list[str]] = {}
    for tok, wid in zip(tokens, ids):
        if wid >= 0:
            words.setdefault(wid, []).append(tok)
    return [tokenizer.decode(words[i]) or "".join(words[i]) for i in sorted(words)]


def merge_subwords(
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    attention: np.ndarray,
    tokenizer: Tokenizer,
) -> WordAlignment:
    src_ids = word_ids(source_tokens, tokenizer)
    tgt_ids = word_ids(target_tokens, tokenizer)
    n_src = max(src_ids, default=-1) + 1
    n_tgt = max(tgt_ids, default=-1) + 1
    att = np.asarray(attention, dtype=np.float32)
    cols = np.zeros((att.shape[0], n_src), dtype=np.float32)
    for j, wid in enumerate(src_ids[: att.shape[1]]):
        if wid >= 0:
            cols[:, wid] += att[:, j]  # a word gets the attention of all its pieces
    matrix = np.zeros((n_tgt, n_src), dtype=np.float32)
    counts = np.zeros(n_tgt, dtype=np.float32)
    for i, wid in enumerate(tgt_ids[: att.shape[0]]):
        if wid >= 0:
            matrix[wid] += cols[i]
            counts[wid] += 1
    matrix /= np.maximum(counts, 1)[:, None]  # a target word averages its pieces' rows
    sums = matrix.sum(axis=1, keepdims=True)
    matrix = np.divide(matrix, sums, out=np.zeros_like(matrix), where=sums > 0)
    return WordAlignment(_group(source_tokens, src_ids, tokenizer), _group(target_tokens, tgt_ids, tokenizer), matrix)


def pharaoh(pairs: Sequence[tuple[int, int]], source_offset: int = 0, target_offset: int = 0) -> str:
    return " ".join(f"{s + source_offset}-{t + target_offset}" for s, t in pairs)
