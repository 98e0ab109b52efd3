"""Noise for the denoising-autoencoder stage (BART-style): sentence shuffling and span
masking, each masked span replaced by one ``<mask>`` token."""

from __future__ import annotations

import math
import random

MASK = "<mask>"


def shuffle_sentences(text: str, rng: random.Random) -> str:
    from s2s_desktop.training.ddtp import split_sentences

    sentences = split_sentences(text)
    if len(sentences) > 1:
        rng.shuffle(sentences)
    return " ".join(sentences)


def _poisson(lam: float, rng: random.Random) -> int:
    # Knuth; lam is small
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def mask_spans(ids: list[int], mask_id: int, rng: random.Random, *, ratio: float = 0.3, mean_span: float = 3.0,
               keep_last: int = 1) -> list[int]:
    """Replace about ``ratio`` of the tokens by spans (Poisson lengths, one <mask> each).

    The last ``keep_last`` ids (``</s>``) are left alone.
    """
    body, tail = (ids[:-keep_last], ids[-keep_last:]) if keep_last else (ids, [])
    n = len(body)
    budget = int(round(n * ratio))
    if n == 0 or budget == 0:
        return list(ids)
    masked = [False] * n
    starts: set[int] = set()
    covered = 0
    tries = 0
    while covered < budget and tries < 4 * n:
        tries += 1
        length = max(1, min(_poisson(mean_span, rng), budget - covered))
        start = rng.randrange(0, max(1, n - length + 1))
        if any(masked[start: start + length]):
            continue
        for j in range(start, start + length):
            masked[j] = True
        starts.add(start)
        covered += length
    out: list[int] = []
    for j, tok in enumerate(body):
        if masked[j]:
            if j in starts:
                out.append(mask_id)
        else:
            out.append(tok)
    return out + tail
