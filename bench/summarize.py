"""Summarization of a 10,000-word document: map-reduce over sentence-aligned chunks.

The document is real English prose (DDTP package descriptions joined as paragraphs).
The summarizer is the bundled one when it exists (resources/models, task "summarize"),
otherwise a Marian 6+6 d512 model with random weights and a 58k DDTP sentencepiece
vocabulary (summary length fixed with min = max output tokens so the work is
deterministic). Reported: input words and tokens, chunks in the first round, rounds,
wall time, output tokens and tokens/s (output and input), through ``Engine.summarize``
exactly as the GUI worker calls it.

    .venv/bin/python bench/summarize.py [--words 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402


def find_summarizer() -> tuple[Path | None, str]:
    for name, path in bl.bundled_models().items():
        manifest = json.loads((path / "s2s-model.json").read_text(encoding="utf-8"))
        if manifest.get("task") == "summarize":
            return path, f"bundled {name}"
    return None, ""


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_common_args(ap)
    ap.add_argument("--words", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--summary-tokens", type=int, default=64, help="summary length per chunk (random model: fixed)")
    args = ap.parse_args(argv)
    from s2s_desktop.core.engine import Engine, SummaryOptions
    from s2s_desktop.core.jobs import CancelToken

    threads = bl.threads_or_default(args.threads)
    info = bl.machine()
    print(bl.machine_line(info), flush=True)
    if args.smoke:
        model, label, fixed = bl.tiny_dir(args) / "tiny-bart-sum", "tiny BART (smoke, random weights)", True
        document = "\n\n".join(" ".join(bl.SMOKE_SENTENCES) for _ in range(4))
        repeats, configs = 1, [(None, 16)]
    else:
        model, label = find_summarizer()
        fixed = model is None
        if model is None:
            model = bl.opus_sized_models()["summarizer"]
            label = "Marian 6+6 d512, vocab 58k, random weights (no bundled summarizer yet)"
        document = bl.ddtp_document(args.words)
        repeats, configs = args.repeats, [(None, args.summary_tokens), (1, args.summary_tokens)]
    engine = Engine(model, intra_threads=threads)
    words = len(document.split())
    rows = []
    load_before = bl.load_average()
    engine.summarize(" ".join(bl.SMOKE_SENTENCES[:3]), SummaryOptions(max_output_tokens=8))  # warm-up
    samples: dict[int, list] = {i: [] for i in range(len(configs))}
    for _ in range(repeats):
        for i, (beam, tokens) in enumerate(configs):
            options = SummaryOptions(beam_size=beam, max_output_tokens=tokens, min_output_tokens=tokens if fixed else None)
            progress = []
            result = engine.summarize(document, options, cancel=CancelToken(), on_progress=progress.append)
            samples[i].append(result)
    for i, (beam, tokens) in enumerate(configs):
        res = samples[i]
        secs = [r.seconds for r in res]
        r0 = res[0]
        beam_label = f"beam {beam or engine.manifest.decoding.beam_size}"
        rows.append([beam_label, f"{words:,}", f"{r0.input_tokens:,}", engine.input_limit, r0.chunks, r0.rounds,
                     f"{bl.median(secs):.1f}", f"{min(secs):.1f}–{max(secs):.1f}", f"{r0.output_tokens:,}",
                     f"{r0.output_tokens / bl.median(secs):,.0f}", f"{r0.input_tokens / bl.median(secs):,.0f}"])
    text = bl.table(["decoding", "words", "input tokens", "chunk limit", "chunks (round 1)", "rounds", "wall s (median)",
                     "min–max", "output tokens", "output tok/s", "input tok/s"], rows)
    warnings = sorted({w for res in samples.values() for r in res for w in r.warnings})
    body = (f"Summarizer: {label}; summaries of at most {configs[0][1]} tokens per chunk"
            f"{' (fixed: min = max)' if fixed else ''}; {threads} threads; {repeats} runs each, interleaved.\n\n{text}\n\n"
            f"Load average before: {load_before}, after: {bl.load_average()}."
            + (f"\n\nWarnings from the engine: {'; '.join(warnings)}" if warnings else ""))
    print("\n" + body)
    if not args.smoke and not args.no_docs:
        bl.write_section("summarize", "## Summarization of a 10,000-word document\n\n" + bl.machine_line(info) + "\n\n" + body)


if __name__ == "__main__":
    main()
