"""Scores: BLEU and chrF (sacrebleu), ROUGE-L (rouge-score when installed, else an
identical LCS implementation with rouge-score's tokenization)."""

from __future__ import annotations

import re


def bleu(hyps: list[str], refs: list[str]) -> float:
    import sacrebleu

    return round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2)


def chrf(hyps: list[str], refs: list[str]) -> float:
    import sacrebleu

    return round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2)


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _tokens(text: str) -> list[str]:
    return [t for t in _NON_ALNUM.sub(" ", text.lower()).split() if t]


def _lcs(a: list[str], b: list[str]) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[-1]))
        prev = cur
    return prev[-1]


def rouge_l_f(hyp: str, ref: str) -> float:
    """ROUGE-L F1 of one pair, tokenized like rouge-score (lower case, [a-z0-9]+)."""
    h, r = _tokens(hyp), _tokens(ref)
    lcs = _lcs(h, r)
    if lcs == 0:
        return 0.0
    p, rc = lcs / len(h), lcs / len(r)
    return 2 * p * rc / (p + rc)


def rouge_l(hyps: list[str], refs: list[str]) -> float:
    """Mean ROUGE-L F1 x 100 over the pairs."""
    if not hyps:
        return 0.0
    try:
        from rouge_score import rouge_scorer

        scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
        scores = [scorer.score(r, h)["rougeL"].fmeasure for h, r in zip(hyps, refs)]
    except ImportError:
        scores = [rouge_l_f(h, r) for h, r in zip(hyps, refs)]
    return round(100 * sum(scores) / len(scores), 2)


def score(task: str, hyps: list[str], refs: list[str]) -> dict[str, float]:
    if task == "summarize":
        return {"rougeL": rouge_l(hyps, refs), "chrf": chrf(hyps, refs)}
    return {"bleu": bleu(hyps, refs), "chrf": chrf(hyps, refs)}
