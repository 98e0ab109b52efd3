"""Scaling: app throughput vs batch size (max_batch_tokens) and vs threads.

Through the app's pipeline (``Engine.translate_sentences``, attention on, as the GUI
runs it) on the OPUS-MT-sized model, fixed output length, greedy and beam 4:

- ``TranslationOptions.max_batch_tokens`` swept (the default is 2048);
- ``Engine(intra_threads=1)`` vs ``intra_threads=2``;
- raw CTranslate2 with ``inter_threads=2, intra_threads=1`` (two batches in parallel) vs
  ``inter_threads=1, intra_threads=2``, both with the same sub-batches — the engine sends
  one batch at a time, so it could only use inter_threads if it submitted batches
  concurrently.

Every configuration runs once per round, rounds interleave; the median over rounds is
reported with the best settings.

    .venv/bin/python bench/scaling.py [--sentences 100] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

MODES = {"greedy": 1, "beam4": 4}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_common_args(ap)
    ap.add_argument("--sentences", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out-tokens", type=int, default=25)
    ap.add_argument("--batch-tokens", default="256,1024,2048,4096")
    args = ap.parse_args(argv)
    import ctranslate2

    from s2s_desktop.core.engine import Engine, TranslationOptions
    from s2s_desktop.core.jobs import CancelToken

    info = bl.machine()
    print(bl.machine_line(info), flush=True)
    if args.smoke:
        model, sentences, out_tokens, repeats = bl.tiny_dir(args) / "tiny-en-de", bl.SMOKE_SENTENCES, 8, 1
        sweep = [64, 2048]
    else:
        model, out_tokens, repeats = bl.opus_sized_models()["opus"], args.out_tokens, args.repeats
        sentences = bl.ddtp_sentences(args.sentences)
        sweep = [int(x) for x in args.batch_tokens.split(",")]
    cores = bl.threads_or_default(0)
    engines = {t: Engine(model, intra_threads=t) for t in sorted({1, cores})}
    raw = {(1, cores): ctranslate2.Translator(str(model), compute_type="int8", intra_threads=cores, inter_threads=1)}
    if cores > 1:
        raw[(cores, 1)] = ctranslate2.Translator(str(model), compute_type="int8", intra_threads=1, inter_threads=cores)
    first = engines[cores]
    tokens = [first.encode(s) for s in sentences]
    text = "\n\n".join(" ".join(sentences[i:i + 5]) for i in range(0, len(sentences), 5))

    def app(engine, beam: int, batch_tokens: int) -> tuple[int, float]:
        engine.clear_cache()
        started = time.perf_counter()
        job = engine.start_text(text)
        opts = TranslationOptions(beam_size=beam, max_output_tokens=out_tokens, min_output_tokens=out_tokens,
                                  max_batch_tokens=batch_tokens)
        n = 0
        for r in engine.translate_sentences(job.sentences, opts, cancel=CancelToken(),
                                            on_token=(lambda e: None) if beam == 1 else None):
            n += len(r.target_tokens)
        return n, time.perf_counter() - started

    def raw_run(translator, beam: int, batch_tokens: int) -> tuple[int, float]:
        started = time.perf_counter()
        res = translator.translate_batch(tokens, max_batch_size=batch_tokens, batch_type="tokens", beam_size=beam,
                                         min_decoding_length=out_tokens, max_decoding_length=out_tokens)
        return sum(len(r.hypotheses[0]) for r in res), time.perf_counter() - started

    configs = []  # (group, label, fn)
    for bt in sweep:
        configs.append(("batch", f"max_batch_tokens {bt}", lambda beam, bt=bt: app(engines[cores], beam, bt)))
    for t in sorted(engines):
        if t != cores:
            configs.append(("threads", f"app, intra_threads {t} (2048)", lambda beam, t=t: app(engines[t], beam, 2048)))
    configs.append(("threads", f"app, intra_threads {cores} (2048)", None))  # = the batch row for 2048
    sub = 512 if not args.smoke else 64
    for (inter, intra), tr in raw.items():
        configs.append(("threads", f"raw CT2, inter {inter} × intra {intra} (batches of {sub} tokens)",
                        lambda beam, tr=tr: raw_run(tr, beam, sub)))
    for _, _, fn in configs:  # warm-up
        if fn:
            for beam in MODES.values():
                fn(beam)
    results: dict[tuple[str, str], list[float]] = {}
    load_before = bl.load_average()
    for r in range(repeats):
        for mode, beam in MODES.items():
            for i in range(len(configs)):
                group, label, fn = configs[(i + r) % len(configs)]
                if fn is None:
                    continue
                n, secs = fn(beam)
                results.setdefault((label, mode), []).append(n / secs)
            bl._log(f"round {r + 1} {mode} done (load {bl.load_average()})")
    default_label = "max_batch_tokens 2048"
    for mode in MODES:
        if (default_label, mode) in results:
            results[(f"app, intra_threads {cores} (2048)", mode)] = results[(default_label, mode)]
    rows = []
    med = {k: bl.median(v) for k, v in results.items()}
    for group, label, _ in configs:
        rows.append([group, label] + [f"{med[(label, m)]:,.0f} ({bl.spread(results[(label, m)])})"
                                      if (label, m) in med else "–" for m in MODES])
    text = bl.table(["", "configuration", "greedy tok/s (min–max)", "beam 4 tok/s (min–max)"], rows)
    recs = []
    for mode in MODES:
        batch = {bt: med.get((f"max_batch_tokens {bt}", mode)) for bt in sweep}
        best = max((bt for bt in batch if batch[bt]), key=lambda bt: batch[bt])
        base = batch.get(2048)
        if base:
            gain = batch[best] / base - 1
            verdict = "keep 2048" if best == 2048 or gain < 0.05 else f"{best} is {gain * 100:.0f} % faster"
            recs.append(f"- {mode}: best max_batch_tokens {best} ({batch[best]:,.0f} tok/s) vs 2048 "
                        f"({base:,.0f} tok/s): {verdict} (differences under 5 % are within this machine's noise).")
        if cores > 1 and (f"app, intra_threads 1 (2048)", mode) in med:
            one, many = med[("app, intra_threads 1 (2048)", mode)], med[(f"app, intra_threads {cores} (2048)", mode)]
            recs.append(f"- {mode}: intra_threads {cores} vs 1: {many / one:.2f}× "
                        f"(default: all cores up to 8 — {'keep' if many >= one else 'the other load here eats the second core'}).")
        inter = [med.get((label, mode)) for _, label, _ in configs if label.startswith("raw CT2")]
        if len(inter) == 2 and all(inter):
            recs.append(f"- {mode}: raw CT2 inter {cores} × intra 1 vs inter 1 × intra {cores}: {inter[1] / inter[0]:.2f}×.")
    body = (f"{len(sentences)} sentences, output fixed at {out_tokens} tokens, medians of {repeats} interleaved rounds; "
            f"load average before: {load_before}, after: {bl.load_average()}.\n\n{text}\n\n" + "\n".join(recs))
    print("\n" + body)
    if not args.smoke:
        bl.CACHE.mkdir(parents=True, exist_ok=True)
        (bl.CACHE / "scaling.json").write_text(json.dumps({f"{k[0]}/{k[1]}": v for k, v in results.items()}, indent=1))
        if not args.no_docs:
            bl.write_section("scaling", "## Scaling: batch size and threads\n\n" + bl.machine_line(info) + "\n\n" + body)


if __name__ == "__main__":
    main()
