"""How well do attention-derived word alignments agree with a statistical aligner?

Reference: eflomal (``pip install eflomal``), trained unsupervised on Debian's
description translations (DDTP, ``/var/lib/apt/lists/*Translation-{en,de}.lz4`` paired by
Description-md5) plus the test pairs themselves (the usual transductive set-up for
unsupervised aligners), forward + reverse, symmetrized with grow-diag-final-and.

Model side: the same Hugging Face checkpoint converted twice to CTranslate2, once
returning head 0 of the last layer's cross-attention (CTranslate2's default) and once the
average of all its heads (this project's default, ``average_attention_heads=True``).
Each held-out pair is teacher-forced (``target_prefix`` = the reference translation's
tokens) so the attention is over the *reference* words; subwords are merged into
whitespace words exactly as the viewer does (``core.alignment.merge_subwords``) and
turned into hard links with argmax or a threshold. Optionally (``--layers``) every
layer's head average comes from transformers (the viewer's all-heads code).

Figures: precision, recall, F1 and AER of the attention links against eflomal's links,
with no sure/possible distinction (so AER = 1 − F1); plus a diagonal baseline.

    .venv/bin/python bench/alignment_quality.py --model runs/en-de/best \\
        --test runs/en-de/data/test.tsv --n 1000 --layers

(``runs/en-de/best`` is the checkpoint the bundled ``resources/models/ddtp-en-de`` was
exported from; the bundled folder itself keeps no ``hf/`` checkpoint, and both
conversions need one. Its ``data/test.tsv`` split is held out from training.)
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from s2s_desktop.core.alignment import merge_subwords  # noqa: E402

_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ0-9\"'(])")


# ------------------------------------------------------------------ DDTP pairs
def _read_lz4(path: str) -> str:
    import lz4.frame

    with open(path, "rb") as handle:
        return lz4.frame.decompress(handle.read()).decode("utf-8")


def _descriptions(lang: str, lists: str) -> dict[str, tuple[str, list[str]]]:
    """md5 → (synopsis, paragraphs) for one language."""
    out: dict[str, tuple[str, list[str]]] = {}
    key = f"Description-{lang}:"
    for path in sorted(glob.glob(os.path.join(lists, f"*_i18n_Translation-{lang}.lz4"))):
        for block in _read_lz4(path).split("\n\n"):
            md5, synopsis, paras, cur, in_desc = None, None, [], [], False
            for line in block.split("\n"):
                if line.startswith("Description-md5:"):
                    md5 = line.split(":", 1)[1].strip()
                    in_desc = False
                elif line.startswith(key):
                    synopsis, in_desc = line.split(":", 1)[1].strip(), True
                elif in_desc and line.startswith(" "):
                    if line.strip() == ".":
                        if cur:
                            paras.append(" ".join(cur))
                        cur = []
                    else:
                        cur.append(line.strip())
                elif not line.startswith(" "):
                    in_desc = False
            if cur:
                paras.append(" ".join(cur))
            if md5 and synopsis:
                out.setdefault(md5, (synopsis, paras))
    return out


def ddtp_pairs(lists: str = "/var/lib/apt/lists", max_words: int = 60) -> list[tuple[str, str, str]]:
    """(en, de, md5) sentence pairs: synopses, and sentences of paragraphs whose
    paragraph and sentence counts match."""
    en, de = _descriptions("en", lists), _descriptions("de", lists)
    pairs, seen = [], set()
    for md5, (syn_de, paras_de) in de.items():
        if md5 not in en:
            continue
        syn_en, paras_en = en[md5]
        cands = [(syn_en, syn_de)]
        if len(paras_en) == len(paras_de):
            for pe, pd in zip(paras_en, paras_de):
                se, sd = _SENT_END.split(pe), _SENT_END.split(pd)
                if len(se) == len(sd):
                    cands += list(zip(se, sd))
        for a, b in cands:
            a, b = " ".join(a.split()), " ".join(b.split())
            if a and b and (a, b) not in seen and len(a.split()) <= max_words and len(b.split()) <= max_words:
                seen.add((a, b))
                pairs.append((a, b, md5))
    return pairs


def read_tsv(path: str) -> list[tuple[str, str, str]]:
    out = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 2 and cols[0].strip() and cols[1].strip():
                out.append((" ".join(cols[0].split()), " ".join(cols[1].split()), cols[2] if len(cols) > 2 else ""))
    return out


# ------------------------------------------------------------------ eflomal
def _norm_words(sentence: str) -> str:
    return " ".join((_PUNCT.sub("", w) or w).lower() for w in sentence.split())


def gdfa(fwd: set, rev: set, n_src: int, n_tgt: int) -> set:
    """grow-diag-final-and (Koehn et al.) over (s, t) links."""
    union = fwd | rev
    links = set(fwd & rev)
    neigh = [(-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1)]
    src_on = lambda s: any((s, t) in links for t in range(n_tgt))  # noqa: E731
    tgt_on = lambda t: any((s, t) in links for s in range(n_src))  # noqa: E731
    added = True
    while added:
        added = False
        for s, t in sorted(links):
            for ds, dt in neigh:
                ns, nt = s + ds, t + dt
                if (ns, nt) in union and (ns, nt) not in links and (not src_on(ns) or not tgt_on(nt)):
                    links.add((ns, nt))
                    added = True
    for s, t in sorted(fwd):
        if (not src_on(s) and not tgt_on(t)):
            links.add((s, t))
    for s, t in sorted(rev):
        if (not src_on(s) and not tgt_on(t)):
            links.add((s, t))
    return links


def eflomal_links(corpus: list[tuple[str, str]], keep: int, workdir: Path) -> list[set]:
    """Symmetrized eflomal links for the first ``keep`` pairs of ``corpus``."""
    import eflomal

    fwd_path, rev_path = workdir / "fwd.align", workdir / "rev.align"
    eflomal.Aligner().align([_norm_words(a) for a, _ in corpus], [_norm_words(b) for _, b in corpus],
                            links_filename_fwd=str(fwd_path), links_filename_rev=str(rev_path), quiet=True)

    def parse(line: str) -> set:
        return {tuple(map(int, x.split("-"))) for x in line.split()}

    fwd = fwd_path.read_text().split("\n")
    rev = rev_path.read_text().split("\n")
    out = []
    for k in range(keep):
        a, b = corpus[k]
        out.append(gdfa(parse(fwd[k]), parse(rev[k]), len(a.split()), len(b.split())))
    return out


# ------------------------------------------------------------------ model attention
def hf_dir(model: Path) -> Path:
    ckpt = model / "hf" if (model / "hf" / "config.json").is_file() else model
    weights = any(ckpt.glob("*.safetensors")) or (ckpt / "pytorch_model.bin").is_file()
    if not (ckpt / "config.json").is_file() or not weights:
        raise SystemExit(f"{model}: no Hugging Face checkpoint (config.json + weights, or an hf/ folder); "
                         "the head 0 / all-heads comparison converts it twice")
    return ckpt


def convert(model: Path, out: Path, average: bool) -> Path:
    from s2s_desktop.models.convert import convert_checkpoint, infer_manifest

    ckpt = hf_dir(model)
    manifest = infer_manifest(ckpt, f"bench-{'avg' if average else 'head0'}", source="en", target="de")
    return convert_checkpoint(ckpt, out, manifest, average_attention_heads=average, force=True, keep_checkpoint=average)


def forced_attention(model_dir: Path, pairs, threads: int = 2):
    """Per pair: (plain, shifted) word-level WordAlignments of the reference translation
    (None when the words do not line up with whitespace words). "plain" is what the app
    shows: for target token k the attention of the step that *predicts* it; "shifted"
    (Shift-Att, Chen et al. 2020) uses the next step, where token k is the decoder input."""
    import ctranslate2

    from s2s_desktop.core.manifest import ModelManifest
    from s2s_desktop.core.tokenizer import load_tokenizer

    man = ModelManifest.load(model_dir)
    tok = load_tokenizer(model_dir, man)
    tr = ctranslate2.Translator(str(model_dir), device="cpu", intra_threads=threads, compute_type="int8")
    prefix = list(man.target_prefix)
    limit = man.max_input_tokens
    out = []
    batch = 32
    for i in range(0, len(pairs), batch):
        chunk = pairs[i : i + batch]
        src = [(man.source_prefix + tok.encode(a) + man.source_suffix)[:limit] for a, _, _ in chunk]
        tgt = [tok.encode(b)[: man.max_output_tokens - len(prefix) - 1] for _, b, _ in chunk]
        res = tr.translate_batch(src, target_prefix=[prefix + t for t in tgt],
                                 max_decoding_length=max(len(prefix) + len(t) for t in tgt) + 1, return_end_token=True,
                                 beam_size=1, return_attention=True, max_input_length=0)
        for (a, b, _), s, t, r in zip(chunk, src, tgt, res):
            full = np.asarray(r.attention[0], dtype=np.float32)
            pair = []
            for shift in (0, 1):
                att = full[len(prefix) + shift : len(prefix) + shift + len(t), : len(s)]
                if att.shape != (len(t), len(s)):
                    pair.append(None)
                    continue
                att = att / np.maximum(att.sum(axis=1, keepdims=True), 1e-9)
                words = merge_subwords(s, t, att, tok)
                ok = len(words.source_words) == len(a.split()) and len(words.target_words) == len(b.split())
                pair.append(words if ok else None)
            out.append(tuple(pair))
    return out


def layer_attention(model_dir: Path, pairs):
    """Per pair: (layers, T, S) head-averaged attention per layer, from transformers."""
    from s2s_desktop.core.manifest import ModelManifest
    from s2s_desktop.core.tokenizer import load_tokenizer
    from s2s_desktop.gui.alignment.heads import compute_cross_attentions

    import torch

    torch.set_num_threads(2)
    man = ModelManifest.load(model_dir)
    tok = load_tokenizer(model_dir, man)
    out = []
    for a, b, _ in pairs:
        s = (man.source_prefix + tok.encode(a) + man.source_suffix)[: man.max_input_tokens]
        t = tok.encode(b)[: man.max_output_tokens - len(man.target_prefix) - 1]
        heads = compute_cross_attentions(model_dir, s, t, man.target_prefix)
        out.append((s, t, heads))
    return out, tok


# ------------------------------------------------------------------ scoring
def score(pred: list[set], ref: list[set]) -> dict:
    inter = sum(len(p & r) for p, r in zip(pred, ref))
    n_pred = sum(len(p) for p in pred)
    n_ref = sum(len(r) for r in ref)
    precision = inter / n_pred if n_pred else 0.0
    recall = inter / n_ref if n_ref else 0.0
    f1 = 2 * inter / (n_pred + n_ref) if n_pred + n_ref else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "aer": 1 - f1, "links": n_pred}


def bootstrap_f1_difference(pred_a: list[set], pred_b: list[set], ref: list[set], n: int = 1000, seed: int = 0):
    """Paired bootstrap over sentences: (F1(a) - F1(b), 95% interval)."""
    rng = np.random.default_rng(seed)
    counts = np.array([[len(a & r), len(a), len(b & r), len(b), len(r)] for a, b, r in zip(pred_a, pred_b, ref)],
                      dtype=np.float64)

    def diff(c):
        s = c.sum(axis=0)
        return 2 * s[0] / max(s[1] + s[4], 1) - 2 * s[2] / max(s[3] + s[4], 1)

    samples = [diff(counts[rng.integers(0, len(counts), len(counts))]) for _ in range(n)]
    return diff(counts), float(np.percentile(samples, 2.5)), float(np.percentile(samples, 97.5))


def diagonal(words) -> set:
    s, t = len(words.source_words), len(words.target_words)
    return {(min(s - 1, int(round(j * (s - 1) / max(1, t - 1)))) if t > 1 else 0, j) for j in range(t)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="CT2 model dir with hf/, or a Hugging Face checkpoint dir")
    ap.add_argument("--test", help="held-out pairs (TSV en<TAB>de); default: DDTP pairs from apt lists")
    ap.add_argument("--n", type=int, default=500, help="test pairs to score")
    ap.add_argument("--max-words", type=int, default=40)
    ap.add_argument("--corpus", type=int, default=40000, help="extra DDTP pairs eflomal learns from")
    ap.add_argument("--lists", default="/var/lib/apt/lists")
    ap.add_argument("--thresholds", default="0.2,0.3,0.5")
    ap.add_argument("--layers", action="store_true", help="also score each layer's head average (transformers)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    started = time.time()
    rng = random.Random(args.seed)
    model = Path(args.model)
    hf_dir(model)  # fail early, before the slow parts
    ddtp = ddtp_pairs(args.lists, max_words=60)
    print(f"DDTP: {len(ddtp)} en-de sentence pairs from {args.lists}", file=sys.stderr)
    if args.test:
        test = [p for p in read_tsv(args.test) if max(len(p[0].split()), len(p[1].split())) <= args.max_words]
    else:
        test = [p for p in ddtp if max(len(p[0].split()), len(p[1].split())) <= args.max_words]
    rng.shuffle(test)
    test = test[: args.n]
    test_set = {(a, b) for a, b, _ in test}
    extra = [(a, b) for a, b, _ in ddtp if (a, b) not in test_set]
    rng.shuffle(extra)
    corpus = [(a, b) for a, b, _ in test] + extra[: args.corpus]

    with tempfile.TemporaryDirectory(prefix="s2s-align-bench-") as tmp:
        tmp = Path(tmp)
        t0 = time.time()
        ref = eflomal_links(corpus, len(test), tmp)
        t_eflomal = time.time() - t0
        print(f"eflomal on {len(corpus)} pairs: {t_eflomal:.1f}s", file=sys.stderr)
        systems: dict[str, list] = {}
        for name, average in (("head 0", False), ("all-heads average", True)):
            t0 = time.time()
            ct2 = convert(model, tmp / name.replace(" ", "_"), average)
            both = forced_attention(ct2, test, args.threads)
            systems[name] = [b[0] for b in both]
            systems[f"{name}, shifted"] = [b[1] for b in both]
            print(f"{name}: converted + forced-decoded {len(test)} pairs in {time.time() - t0:.1f}s", file=sys.stderr)
        keep = [k for k in range(len(test)) if all(systems[n][k] is not None for n in systems)]
        figures = {"model": str(model), "test": args.test or "DDTP from apt lists", "pairs": len(keep),
                   "skipped": len(test) - len(keep), "eflomal_corpus": len(corpus),
                   "ref_links": sum(len(ref[k]) for k in keep), "rows": []}
        rows = figures["rows"]
        r = [ref[k] for k in keep]
        any_words = systems["head 0"]
        rows.append({"system": "diagonal baseline", "method": "argmax", **score([diagonal(any_words[k]) for k in keep], r)})
        thresholds = [float(x) for x in args.thresholds.split(",") if x]
        for name, words in systems.items():
            rows.append({"system": name, "method": "argmax", **score([set(words[k].hard("argmax")) for k in keep], r)})
            for th in thresholds:
                rows.append({"system": name, "method": f"threshold {th}",
                             **score([set(words[k].hard("threshold", th)) for k in keep], r)})
        figures["bootstrap"] = []
        for label, method in (("argmax", ("argmax",)), ("threshold 0.3", ("threshold", 0.3))):
            a = [set(systems["head 0"][k].hard(*method)) for k in keep]
            b = [set(systems["all-heads average"][k].hard(*method)) for k in keep]
            d, lo, hi = bootstrap_f1_difference(a, b, r)
            figures["bootstrap"].append({"method": label, "f1_head0_minus_average": d, "ci95": [lo, hi]})
        if args.layers:
            avg_dir = tmp / "all-heads_average"
            per, tok = layer_attention(avg_dir, [test[k] for k in keep])
            n_layers = per[0][2].shape[0]
            for layer in range(n_layers):
                for label, pick in (("average", None), ("head 0", 0)):
                    pred = []
                    for s, t, heads in per:
                        m = heads[layer].mean(axis=0) if pick is None else heads[layer, pick]
                        pred.append(set(merge_subwords(s, t, m, tok).hard("argmax")))
                    rows.append({"system": f"layer {layer + 1} {label} (transformers)", "method": "argmax",
                                 **score(pred, r)})
        figures["seconds"] = round(time.time() - started, 1)
    print(f"\n{len(keep)} held-out pairs ({figures['skipped']} skipped), eflomal gdfa reference: "
          f"{figures['ref_links']} links; model {model}\n")
    print(f"| system | hard links | precision | recall | F1 | AER |\n|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['system']} | {row['method']} | {row['precision']:.3f} | {row['recall']:.3f} | "
              f"{row['f1']:.3f} | {row['aer']:.3f} |")
    for row in figures["bootstrap"]:
        lo, hi = row["ci95"]
        print(f"\nF1(head 0) - F1(all-heads average), {row['method']}: {row['f1_head0_minus_average']:+.3f} "
              f"(95% paired bootstrap interval {lo:+.3f} .. {hi:+.3f})", end="")
    print()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
