"""What the app adds to CTranslate2, measured in one process on one Translator.

(a) is the app's pipeline as the GUI worker runs it (segmentation, batching, tokenization,
token streaming with a CancelToken, attention on, merging, reassembly); (b) is
``translate_batch`` called on the very same ``ctranslate2.Translator`` with the app's own
pre-tokenized batches and nothing else. Output length is fixed (min = max), so both do
identical work. Rounds alternate the order; the figure is the median of the per-round
paired ratio a/b. One process and one Translator take out the process-to-process spread of
CTranslate2 (up to ~15 % here) that ``throughput.py``'s separate workers are exposed to.

    .venv/bin/python bench/overhead.py [--rounds 20] [--sentences 200] [--modes greedy,beam4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

MODES = {"greedy": 1, "beam4": 4}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_common_args(ap)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--sentences", type=int, default=200)
    ap.add_argument("--out-tokens", type=int, default=25)
    ap.add_argument("--modes", default="greedy,beam4")
    args = ap.parse_args(argv)
    from s2s_desktop.core.engine import Engine, TranslationOptions
    from s2s_desktop.core.jobs import CancelToken

    threads = bl.threads_or_default(args.threads)
    info = bl.machine()
    print(bl.machine_line(info), flush=True)
    if args.smoke:
        model, label = bl.tiny_dir(args) / "tiny-en-de", "tiny Marian (smoke)"
        sentences, rounds, n_out = list(bl.SMOKE_SENTENCES), 2, 8
    else:
        model, label = bl.opus_sized_models()["opus"], "OPUS-MT-sized Marian, random weights"
        sentences, rounds, n_out = bl.ddtp_sentences(args.sentences), args.rounds, args.out_tokens
    engine = Engine(model, intra_threads=threads)
    translator = engine._translator  # (b) runs on the app's own Translator
    text = "\n\n".join(" ".join(sentences[i:i + 5]) for i in range(0, len(sentences), 5))
    job = engine.start_text(text)
    units = [u for i, s in enumerate(job.sentences) for u in engine._units(i, s)]
    batches = engine._batches(units, TranslationOptions().max_batch_tokens)
    tokens = len(job.sentences) * n_out

    def run_a(beam: int) -> float:
        engine.clear_cache()
        started = time.perf_counter()
        tt = engine.start_text(text)
        partials: dict = {}
        options = TranslationOptions(beam_size=beam, min_output_tokens=n_out, max_output_tokens=n_out)

        def on_token(event) -> None:  # what the GUI worker does with each streamed token
            partials[event.index] = event

        for result in engine.translate_sentences(tt.sentences, options, cancel=CancelToken(),
                                                 on_token=on_token if beam == 1 else None):
            tt.add(result)
            partials.pop(result.index, None)
        assert tt.done and tt.text
        return tokens / (time.perf_counter() - started)

    def run_b(beam: int) -> float:
        started = time.perf_counter()
        for batch in batches:
            translator.translate_batch([u.tokens for u in batch], beam_size=beam, min_decoding_length=n_out,
                                       max_decoding_length=n_out)
        return tokens / (time.perf_counter() - started)

    load_before = bl.load_average()
    rows = []
    for mode in args.modes.split(","):
        beam = MODES[mode]
        run_a(beam), run_b(beam)  # warm-up
        a, b = [], []
        for r in range(rounds):
            for system in ("ab" if r % 2 else "ba"):
                (a if system == "a" else b).append(run_a(beam) if system == "a" else run_b(beam))
        ratios = sorted(x / y for x, y in zip(a, b))
        q = len(ratios) // 4
        rows.append([mode, f"{statistics.median(a):,.0f}", f"{statistics.median(b):,.0f}",
                     f"{statistics.median(ratios):.3f}", f"{ratios[q]:.3f}–{ratios[-1 - q]:.3f}",
                     f"{ratios[0]:.2f}–{ratios[-1]:.2f}", len(ratios)])
        bl._log(f"  {mode}: a/b {statistics.median(ratios):.3f}")
    body = (f"{label}; {len(job.sentences)} sentences, {len(batches)} batches, output fixed at {n_out} tokens; "
            f"{threads} threads; load average before: {load_before}, after: {bl.load_average()}.\n\n"
            + bl.table(["mode", "(a) app tok/s", "(b) raw tok/s, same Translator", "a/b median (target ≥ 0.95)",
                        "a/b interquartile", "a/b min–max", "rounds"], rows))
    print("\n" + body)
    if not args.smoke and not args.no_docs:
        bl.write_section("overhead", "## The app's overhead, one process\n\n`bench/overhead.py`\n\n"
                         + bl.machine_line(info) + "\n\n" + body)


if __name__ == "__main__":
    main()
