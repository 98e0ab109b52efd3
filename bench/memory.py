"""Memory: resident set size after loading each model, against its size on disk.

Each model loads in a fresh process: RSS with the engine module imported, after
``import ctranslate2``, after ``Engine(...)`` (load time too), after one short
translation, and the peak after translating 100 sentences with beam 4 (CTranslate2 keeps
its buffers cached, so the peak stays resident). Models: every bundled model that exists,
plus the OPUS-MT-sized benchmark models (random weights).

    .venv/bin/python bench/memory.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402


def probe_batch(model: str, threads: int, batch_tokens: int, beam: int) -> None:
    """In the child: peak RSS translating 100 DDTP sentences (25 tokens out) with one batch budget."""
    from s2s_desktop.core.engine import Engine, TranslationOptions

    engine = Engine(model, intra_threads=threads)
    loaded = bl.rss_mb()
    sentences = bl.ddtp_sentences(100) if "tiny" not in model else bl.SMOKE_SENTENCES
    started = time.perf_counter()
    n = sum(len(r.target_tokens) for r in engine.translate_sentences(sentences, TranslationOptions(
        beam_size=beam, max_output_tokens=25, min_output_tokens=25, max_batch_tokens=batch_tokens)))
    print(json.dumps({"loaded": loaded, "peak": bl.peak_rss_mb(), "tok_s": n / (time.perf_counter() - started)}), flush=True)


def probe(model: str, threads: int) -> None:
    """In the child: print one JSON line of measurements."""
    out = {"start": bl.rss_mb()}
    from s2s_desktop.core.engine import Engine, SummaryOptions, TranslationOptions

    out["engine_module"] = bl.rss_mb()
    import ctranslate2  # noqa: F401

    out["ctranslate2"] = bl.rss_mb()
    started = time.perf_counter()
    engine = Engine(model, intra_threads=threads)
    out["load_seconds"] = time.perf_counter() - started
    out["loaded"] = bl.rss_mb()
    sentences = bl.SMOKE_SENTENCES
    if engine.manifest.task == "summarize":
        engine.summarize(" ".join(sentences), SummaryOptions(max_output_tokens=16))
        out["one_call"] = bl.rss_mb()
        engine.summarize(" ".join(sentences * 12), SummaryOptions(max_output_tokens=32))
    else:
        list(engine.translate_sentences(sentences[:1], TranslationOptions(max_output_tokens=32)))
        out["one_call"] = bl.rss_mb()
        batch = [f"{s} ({i})" for i in range(13) for s in sentences][:100]
        list(engine.translate_sentences(batch, TranslationOptions(beam_size=4, max_output_tokens=32)))
    out["after_100"] = bl.rss_mb()
    out["peak"] = bl.peak_rss_mb()
    print(json.dumps(out), flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_common_args(ap)
    ap.add_argument("--probe")
    ap.add_argument("--probe-batch", type=int)
    ap.add_argument("--beam", type=int, default=4)
    ap.add_argument("--batch-sweep", default="512,1024,2048",
                    help="max_batch_tokens values for the peak-RSS sweep (empty: skip)")
    args = ap.parse_args(argv)
    threads = bl.threads_or_default(args.threads)
    if args.probe and args.probe_batch:
        return probe_batch(args.probe, threads, args.probe_batch, args.beam)
    if args.probe:
        return probe(args.probe, threads)
    info = bl.machine()
    print(bl.machine_line(info), flush=True)
    if args.smoke:
        models = {"tiny-en-de": bl.tiny_dir(args) / "tiny-en-de"}
    else:
        models = {f"bundled {k}": v for k, v in bl.bundled_models().items()}
        built = bl.opus_sized_models()
        models["OPUS-MT-sized en-de (random)"] = built["opus"]
        models["Marian 6+6 summarizer (random)"] = built["summarizer"]
    rows = []
    for name, path in models.items():
        proc = subprocess.run([sys.executable, __file__, "--probe", str(path), "--threads", str(threads)],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"memory probe failed for {name}")
        m = json.loads(proc.stdout.strip().splitlines()[-1])
        manifest = json.loads((path / "s2s-model.json").read_text(encoding="utf-8"))
        model_bin = (path / "model.bin").stat().st_size / 1e6
        rows.append([name, manifest.get("quantization") or "?", f"{model_bin:,.1f}", f"{bl.dir_size_mb(path):,.1f}",
                     f"{m['ctranslate2']:,.0f}", f"{m['loaded'] - m['ctranslate2']:,.0f}", f"{m['loaded']:,.0f}",
                     f"{(m['loaded'] - m['ctranslate2']) / model_bin:.2f}", f"{m['load_seconds'] * 1000:,.0f}",
                     f"{m['one_call']:,.0f}", f"{m['peak']:,.0f}"])
    text = bl.table(["model", "weights", "model.bin MB", "dir MB (no hf/)", "RSS before load MB", "load adds MB",
                     "RSS loaded MB", "added / model.bin", "load ms", "RSS after 1 call MB", "peak RSS (100 sent., beam 4) MB"],
                    rows)
    notes = "" if bl.bundled_models() or args.smoke else (
        "\n\n*No bundled model existed yet (resources/models is being filled by the training job): rows pending. "
        "Rerun `bench/memory.py` once they are there.*")
    body = (text + f"\n\n'RSS before load' is the process with the engine module and ctranslate2 imported (no torch). "
            f"MB = 10^6 bytes for files, MiB for RSS.{notes}")
    sweep = [int(x) for x in args.batch_sweep.split(",") if x] if not args.smoke else [64]
    if sweep:
        target = next(iter(models.values())) if args.smoke else bl.opus_sized_models()["opus"]
        srows = []
        for bt in sweep:
            proc = subprocess.run([sys.executable, __file__, "--probe", str(target), "--probe-batch", str(bt), "--beam",
                                   str(args.beam), "--threads", str(threads)], capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                print(proc.stderr[-2000:], file=sys.stderr)
                raise SystemExit("memory batch probe failed")
            m = json.loads(proc.stdout.strip().splitlines()[-1])
            srows.append([bt, f"{m['loaded']:,.0f}", f"{m['peak']:,.0f}", f"{m['peak'] - m['loaded']:,.0f}", f"{m['tok_s']:,.0f}"])
        body += (f"\n\nPeak RSS against the batch budget ({'tiny model' if args.smoke else 'OPUS-MT-sized model'}, "
                 f"{8 if args.smoke else 100} sentences, beam {args.beam}, 25 output tokens; one fresh process each; tok/s is a single noisy run):"
                 "\n\n" + bl.table(["max_batch_tokens", "RSS loaded MB", "peak RSS MB", "working memory MB", "tok/s"], srows))
    print("\n" + body)
    if not args.smoke and not args.no_docs:
        bl.write_section("memory", "## Memory\n\n" + bl.machine_line(info) + "\n\n" + body)


if __name__ == "__main__":
    main()
