"""Latency: time to the first streamed token and to the first finished sentence.

Measured through the app's pipeline as the GUI worker drives it (``start_text`` →
``translate_sentences`` with a CancelToken; greedy mode streams tokens through
``on_token``), for one ~20-token sentence and for a 20-sentence paragraph, greedy and
beam 4 (beam search cannot stream: its first visible output is the first finished
sentence). The clock starts before segmentation. Also: model load time, and the first
call right after loading (cold) apart from the warm median.

    .venv/bin/python bench/latency.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402


def one(engine, text: str, beam: int, out_tokens: int, batch_tokens: int = 2048) -> dict:
    from s2s_desktop.core.engine import TranslationOptions
    from s2s_desktop.core.jobs import CancelToken

    engine.clear_cache()
    marks: dict[str, float] = {}
    started = time.perf_counter()

    def on_token(_event) -> None:
        marks.setdefault("token", time.perf_counter() - started)

    job = engine.start_text(text)
    options = TranslationOptions(beam_size=beam, max_output_tokens=out_tokens or None, min_output_tokens=out_tokens,
                                 max_batch_tokens=batch_tokens)
    for result in engine.translate_sentences(job.sentences, options, cancel=CancelToken(),
                                             on_token=on_token if beam == 1 else None):
        marks.setdefault("sentence", time.perf_counter() - started)
        job.add(result)
    marks["all"] = time.perf_counter() - started
    marks["sentences"] = len(job.sentences)
    return marks


def pick_sentence(engine, candidates: list[str], tokens: int = 20) -> str:
    return min(candidates, key=lambda s: (abs(len(engine.encode(s)) - 1 - tokens), len(s)))


def run_model(label: str, model: Path, sentences: list[str], out_tokens: int, repeats: int, threads: int) -> tuple[list, dict]:
    from s2s_desktop.core.engine import Engine

    started = time.perf_counter()
    engine = Engine(model, intra_threads=threads)
    load = time.perf_counter() - started
    single = pick_sentence(engine, sentences[20:])
    paragraph = " ".join(sentences[:20])
    cases = [
        ("1 sentence", single, 1, 2048),
        ("20-sentence paragraph", paragraph, 1, 2048),
        ("20-sentence paragraph, max_batch_tokens 256", paragraph, 1, 256),
        ("1 sentence", single, 4, 2048),
        ("20-sentence paragraph", paragraph, 4, 2048),
        ("20-sentence paragraph, max_batch_tokens 256", paragraph, 4, 256),
    ]
    cold = one(engine, single, 1, out_tokens)  # the first call after loading
    for _, text, beam, bt in cases:  # warm-up
        one(engine, text, beam, out_tokens, bt)
    samples: dict[int, list[dict]] = {i: [] for i in range(len(cases))}
    for _ in range(repeats):
        for i, (_, text, beam, bt) in enumerate(cases):
            samples[i].append(one(engine, text, beam, out_tokens, bt))
    rows = []
    ms = lambda xs: f"{bl.median(xs) * 1000:,.0f}"  # noqa: E731
    for i, (name, text, beam, bt) in enumerate(cases):
        s = samples[i]
        rows.append([label, name, "greedy, streamed" if beam == 1 else "beam 4", s[0]["sentences"],
                     ms([x["token"] for x in s]) if beam == 1 else "–", ms([x["sentence"] for x in s]),
                     ms([x["all"] for x in s]), f"{min(x['all'] for x in s) * 1000:,.0f}–{max(x['all'] for x in s) * 1000:,.0f}"])
    extra = {"label": label, "load_seconds": load, "cold_first_token": cold.get("token"), "cold_all": cold["all"],
             "single_tokens": len(engine.encode(single)), "single": single,
             "first_token_ms": bl.median([x["token"] for x in samples[0]]) * 1000}
    return rows, extra


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out-tokens", type=int, default=20, help="fixed output length for the random-weight model")
    args = ap.parse_args(argv)
    threads = bl.threads_or_default(args.threads)
    info = bl.machine()
    print(bl.machine_line(info), flush=True)
    jobs = []
    if args.smoke:
        sentences = (bl.SMOKE_SENTENCES * 4)[:28]
        jobs.append(("tiny en→de (smoke)", bl.tiny_dir(args) / "tiny-en-de", sentences, 8, 1))
    else:
        sentences = bl.ddtp_sentences(200)
        jobs.append(("OPUS-MT-sized (random, output fixed at %d)" % args.out_tokens, bl.opus_sized_models()["opus"],
                     sentences, args.out_tokens, args.repeats))
        if (bl.BUNDLED_EN_DE / "model.bin").is_file():
            jobs.append(("bundled ddtp-en-de (natural length)", bl.BUNDLED_EN_DE, bl.ddtp_sentences(200, skip=500), 0, args.repeats))
    rows, extras = [], []
    load_before = bl.load_average()
    for label, model, sents, out_tokens, repeats in jobs:
        r, e = run_model(label, model, sents, out_tokens, repeats, threads)
        rows += r
        extras.append(e)
    text = bl.table(["model", "input", "decoding", "sentences", "first token ms", "first sentence ms", "all done ms",
                     "all done min–max"], rows)
    notes = []
    for e in extras:
        cold = f"{e['cold_first_token'] * 1000:,.0f} ms" if e["cold_first_token"] is not None else "n/a"
        notes.append(f"- {e['label']}: model load {e['load_seconds'] * 1000:,.0f} ms; first call after loading: first token "
                     f"{cold}, done {e['cold_all'] * 1000:,.0f} ms; single sentence = {e['single_tokens']} source tokens incl. </s>.")
    if not args.smoke and not (bl.BUNDLED_EN_DE / "model.bin").is_file():
        notes.append("- The bundled en→de model was not there yet: its row (the one the < 150 ms target is about) is pending; "
                     "the OPUS-MT-sized model is far bigger than the bundled one will be, so it is the pessimistic case.")
    body = (text + "\n\n" + "\n".join(notes) +
            f"\n\nMedians of {args.repeats if not args.smoke else 1} runs per case (interleaved), {threads} threads; "
            f"load average before: {load_before}, after: {bl.load_average()}.")
    print("\n" + body)
    if not args.smoke and not args.no_docs:
        bl.write_section("latency", "## Latency\n\n" + bl.machine_line(info) + "\n\n" + body)


if __name__ == "__main__":
    main()
