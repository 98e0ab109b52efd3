"""Throughput: the app's pipeline vs raw CTranslate2 vs transformers, interleaved.

Same model, same sentences, same fixed output length (min = max decoding length, so every
system generates exactly the same number of tokens), greedy and beam 4:

  (a)  the app: ``Engine.start_text`` (segmentation) → ``translate_sentences`` (batching,
       tokenization, detokenization, attention on, result cache) run as the GUI worker
       runs it (a CancelToken, and in greedy mode token streaming with incremental
       detokenization), then ``TextTranslation.text`` (reassembly);
  (a') the same with attention off (the cost of alignments);
  (b)  raw ``ctranslate2.Translator.translate_batch`` on pre-tokenized input, CTranslate2's
       own batching (``max_batch_size=2048, batch_type="tokens"``, the app's budget);
  (c)  transformers ``generate`` in fp32 with torch on all cores, pre-tokenized input,
       length-sorted batches of at most 2048 padded tokens.

Each system runs in its own process (so its peak RSS is its own); the parent drives them
round by round, rotating the order, so they share the machine's conditions. Reported:
median tokens/s over the rounds, the min–max spread, ratios a/b and b/c, RSS after
loading and peak RSS.

    .venv/bin/python bench/throughput.py                  # OPUS-MT-sized model, 500 sentences
    .venv/bin/python bench/throughput.py --repeats 5 --torch-repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

SYSTEMS = {
    "a": "(a) app pipeline, attention on",
    "a0": "(a') app pipeline, attention off",
    "b": "(b) raw CTranslate2 translate_batch",
    "bin": "(b) raw CTranslate2, inside (a)'s process",
    "a0in": "(a') attention off, inside (a)'s process",
    "c": "(c) transformers generate fp32",
}
MODES = {"greedy": 1, "beam4": 4}


# =========================================================================== worker
class _Step:
    """Stands in for ctranslate2.GenerationStepResult when replaying."""

    __slots__ = ("step", "batch_id", "token", "token_id", "hypothesis_id", "log_prob", "is_last")

    def __init__(self, step, batch_id, token, is_last):
        self.step, self.batch_id, self.token, self.is_last = step, batch_id, token, is_last
        self.token_id, self.hypothesis_id, self.log_prob = 0, 0, None


class _Recorder:
    """Wraps the engine's Translator and keeps what each translate_batch returned."""

    def __init__(self, translator):
        self.translator, self.calls = translator, []

    def translate_batch(self, *args, **kwargs):
        results = self.translator.translate_batch(*args, **kwargs)
        self.calls.append(results)
        return results


class _Replay:
    """Returns recorded results instantly, invoking the streaming callback once per token
    in CTranslate2's order (step by step, batch index inside): running the app's pipeline
    against it measures everything the app does besides the model itself."""

    def __init__(self, calls):
        self.calls = iter(calls)

    def translate_batch(self, source, target_prefix=None, callback=None, **kwargs):
        results = next(self.calls)
        if callback is not None:
            hyps = [r.hypotheses[0] for r in results]
            for step in range(max(map(len, hyps))):
                for b, hyp in enumerate(hyps):
                    if step < len(hyp):
                        callback(_Step(step, b, hyp[step], step == len(hyp) - 1))
        return results


class Worker:
    """Runs inside its own process: loads one system, then times runs on request."""

    def __init__(self, system: str, model: Path, hf: Path | None, inputs: dict, threads: int):
        self.system, self.inputs, self.threads = system, inputs, threads
        self.out_tokens = inputs["out_tokens"]
        started = time.perf_counter()
        if system in ("a", "a0"):
            from s2s_desktop.core.engine import Engine

            self.engine = Engine(model, intra_threads=threads)
            self.recorded: dict = {}
            # (b) on the very same Translator, for the same-process comparison
            self.translator = self.engine._translator
            self.tokens = [self.engine.encode(s) for s in inputs["sentences"]]
            self.target_prefix = self.engine.manifest.target_prefix
        elif system == "b":
            import ctranslate2

            from s2s_desktop.core.manifest import ModelManifest
            from s2s_desktop.core.tokenizer import load_tokenizer

            manifest = ModelManifest.load(model)
            self.translator = ctranslate2.Translator(str(model), device="cpu", compute_type="int8",
                                                     intra_threads=threads, inter_threads=1)
            tok = load_tokenizer(model, manifest)
            self.tokens = [manifest.source_prefix + tok.encode(manifest.source_text_prefix + s) + manifest.source_suffix
                           for s in inputs["sentences"]]
            self.target_prefix = manifest.target_prefix
        else:
            import torch
            from transformers import AutoModelForSeq2SeqLM

            torch.set_num_threads(threads)
            self.torch = torch
            self.model = AutoModelForSeq2SeqLM.from_pretrained(hf, dtype=torch.float32).eval()
            vocab = json.loads((hf / "vocab.json").read_text(encoding="utf-8"))
            import sentencepiece as spm

            sp = spm.SentencePieceProcessor(model_file=str(hf / "source.spm"))
            unk = vocab.get("<unk>", 1)
            self.ids = [[vocab.get(p, unk) for p in sp.encode(s, out_type=str)] + [vocab["</s>"]] for s in inputs["sentences"]]
            self.pad = vocab["<pad>"]
        self.load_seconds = time.perf_counter() - started

    def run(self, mode: str, part: int, n: int | None = None, replay: bool = False, raw: bool = False,
            attention_off: bool = False) -> dict:
        beam = MODES[mode]
        piece = self.inputs["slices"][part]
        count = n or len(piece["sentences"])
        if raw:  # (b) inside this process, on the engine's own Translator
            started, cpu = time.perf_counter(), time.process_time()
            tokens = self._run_b(beam, piece["first"], count, piece)
            return {"tokens": tokens, "seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                    "sentences": count, "slice": part}
        if self.system in ("a", "a0"):
            real = getattr(self.engine._translator, "translator", self.engine._translator)
            if replay:  # the pipeline alone, against the results recorded from the last real run
                self.engine._translator = _Replay(self.recorded[(mode, part)])
            else:
                self.engine._translator = _Recorder(real)
        self.attention = self.system == "a" and not attention_off
        started, cpu = time.perf_counter(), time.process_time()
        tokens = getattr(self, f"_run_{'a' if self.system == 'a0' else self.system}")(beam, piece["first"], count, piece)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if self.system in ("a", "a0"):
            if not replay and n is None and not attention_off:
                self.recorded[(mode, part)] = self.engine._translator.calls
            self.engine._translator = real
        return {"tokens": tokens, "seconds": seconds, "cpu": cpu, "sentences": count, "slice": part}

    def _run_a(self, beam: int, first: int, count: int, piece: dict) -> int:
        from s2s_desktop.core.engine import TranslationOptions
        from s2s_desktop.core.jobs import CancelToken

        self.engine.clear_cache()
        text = piece["text"] if count == len(piece["sentences"]) else " ".join(piece["sentences"][:count])
        job = self.engine.start_text(text)
        fixed = self.out_tokens or None
        options = TranslationOptions(beam_size=beam, max_output_tokens=fixed, min_output_tokens=fixed or 0,
                                     return_attention=self.attention)
        partials: dict = {}

        def on_token(event) -> None:  # what the GUI worker does with each streamed token
            partials[event.index] = event  # (the GUI decodes the latest ones when it polls)

        for result in self.engine.translate_sentences(job.sentences, options, cancel=CancelToken(),
                                                      on_token=on_token if beam == 1 else None):
            job.add(result)
            partials.pop(result.index, None)
        assert job.done and job.text
        return sum(len(r.target_tokens) for r in job.results.values())

    def _run_b(self, beam: int, first: int, count: int, piece: dict) -> int:
        kwargs = dict(max_batch_size=2048, batch_type="tokens", beam_size=beam)
        if self.out_tokens:
            kwargs.update(min_decoding_length=self.out_tokens + len(self.target_prefix),
                          max_decoding_length=self.out_tokens + len(self.target_prefix))
        prefix = [list(self.target_prefix)] * count if self.target_prefix else None
        results = self.translator.translate_batch(self.tokens[first:first + count], target_prefix=prefix, **kwargs)
        return sum(len(r.hypotheses[0]) - len(self.target_prefix) for r in results)

    def _run_c(self, beam: int, first: int, count: int, piece: dict) -> int:
        torch = self.torch
        order = sorted(range(first, first + count), key=lambda i: len(self.ids[i]))
        batches, batch = [], []
        for i in order:
            if batch and len(self.ids[i]) * (len(batch) + 1) > 2048:
                batches.append(batch)
                batch = []
            batch.append(i)
        if batch:
            batches.append(batch)
        produced = 0
        kwargs = dict(num_beams=beam, do_sample=False, early_stopping=False if beam > 1 else None)
        if self.out_tokens:
            kwargs.update(min_new_tokens=self.out_tokens, max_new_tokens=self.out_tokens)
        else:
            kwargs.update(max_new_tokens=256)
        with torch.inference_mode():
            for batch in batches:
                width = max(len(self.ids[i]) for i in batch)
                input_ids = torch.tensor([self.ids[i] + [self.pad] * (width - len(self.ids[i])) for i in batch])
                out = self.model.generate(input_ids=input_ids, attention_mask=(input_ids != self.pad).long(), **kwargs)
                gen = out[:, 1:]  # drop the decoder start token
                if self.out_tokens:
                    produced += gen.numel()
                else:  # natural lengths: count up to and excluding the first </s>
                    eos = self.model.config.eos_token_id
                    for row in gen.tolist():
                        produced += row.index(eos) if eos in row else len(row)
        return produced


def worker_main(args) -> None:
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # library chatter goes to stderr; replies use the saved stdout
    reply = os.fdopen(reply_fd, "w", buffering=1)
    inputs = json.loads(Path(args.inputs).read_text(encoding="utf-8"))
    w = Worker(args.worker, Path(args.model), Path(args.hf) if args.hf else None, inputs, args.threads)
    reply.write(json.dumps({"ready": True, "load_seconds": w.load_seconds, "rss_after_load": bl.rss_mb()}) + "\n")
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get("quit"):
            reply.write(json.dumps({"peak_rss": bl.peak_rss_mb(), "rss": bl.rss_mb()}) + "\n")
            return
        reply.write(json.dumps(w.run(cmd["mode"], cmd["part"], cmd.get("n"), cmd.get("replay", False), cmd.get("raw", False),
                                    cmd.get("attention_off", False))) + "\n")


# =========================================================================== parent
class Proc:
    def __init__(self, system: str, model: Path, hf: Path | None, inputs: Path, threads: int):
        cmd = [sys.executable, __file__, "--worker", system, "--model", str(model), "--inputs", str(inputs),
               "--threads", str(threads)]
        if hf:
            cmd += ["--hf", str(hf)]
        self.system = system
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.hello: dict = {}

    def _read(self) -> dict:
        line = self.p.stdout.readline()
        if not line:
            raise SystemExit(f"worker {self.system} died (exit {self.p.wait()})")
        return json.loads(line)

    def ask(self, **cmd) -> dict:
        self.p.stdin.write(json.dumps(cmd) + "\n")
        self.p.stdin.flush()
        return self._read()

    def close(self) -> dict:
        bye = self.ask(quit=True)
        self.p.wait(timeout=60)
        return bye


def prepare_inputs(sentences: list[str], out_tokens: int, slice_size: int, path: Path) -> dict:
    """Slices of ``slice_size`` sentences; each slice is a text of paragraphs of five
    sentences for the app, and the sentence list its segmenter finds in that text for
    (b) and (c), pre-tokenized by the workers."""
    from s2s_desktop.core.text import segment_text

    slices, everything = [], []
    for start in range(0, len(sentences), slice_size):
        part = sentences[start:start + slice_size]
        text = "\n\n".join(" ".join(part[i:i + 5]) for i in range(0, len(part), 5))
        found = [seg.text for seg in segment_text(text, "en") if seg.translatable]
        slices.append({"text": text, "sentences": found, "first": len(everything)})
        everything += found
    inputs = {"slices": slices, "sentences": everything, "out_tokens": out_tokens, "given": len(sentences)}
    path.write_text(json.dumps(inputs, ensure_ascii=False), encoding="utf-8")
    return inputs


def measure(label: str, model: Path, hf: Path | None, sentences: list[str], out_tokens: int, systems: list[str],
            modes: list[str], repeats: int, torch_repeats: int, torch_slices: int, slice_size: int, threads: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="s2s-bench-"))
    inputs = prepare_inputs(sentences, out_tokens, slice_size, tmp / "inputs.json")
    n, parts = len(inputs["sentences"]), len(inputs["slices"])
    bl._log(f"{label}: {n} sentences in {parts} slices (the segmenter found {n} in the {inputs['given']} given), "
            f"output {'fixed at ' + str(out_tokens) if out_tokens else 'natural'} tokens")
    if "c" in systems and (hf is None or not all((hf / f).is_file() for f in ("config.json", "vocab.json", "source.spm"))):
        bl._log(f"  (c) skipped: no Marian Hugging Face checkpoint (config.json, vocab.json, source.spm) at {hf}")
        systems = [s for s in systems if s != "c"]
    # Each round runs in fresh worker processes: one CTranslate2 process can run up to
    # ~15 % faster or slower than another on the same work for its whole life (measured:
    # raw CTranslate2 alone, 1,633-1,923 tok/s over six processes), so a single process
    # per system would bias every paired ratio of the run the same way. (c) loads slowly
    # and runs little: it keeps one process.
    procs: dict[str, Proc] = {}
    rss: dict[str, dict] = {}
    runs: list[dict] = []
    replays: list[dict] = []
    load_samples = [bl.load_average()]

    def start(which: list[str]) -> None:
        for s in which:  # started together: loading overlaps
            procs[s] = Proc(s, model, hf if s == "c" else None, tmp / "inputs.json", threads)
        for s in which:
            procs[s].hello = procs[s]._read()
            bl._log(f"  {SYSTEMS[s]}: loaded in {procs[s].hello['load_seconds']:.2f} s, RSS {procs[s].hello['rss_after_load']:.0f} MB")
            for mode in modes:  # warm-up: first-call allocations stay out of the figures
                procs[s].ask(mode=mode, part=0, n=min(16, n))

    def stop(which: list[str]) -> None:
        for s in which:
            hello, bye = procs[s].hello, procs.pop(s).close()
            old = rss.get(s)
            rss[s] = {"after_load": max(hello["rss_after_load"], old["after_load"]) if old else hello["rss_after_load"],
                      "peak_rss": max(bye["peak_rss"], old["peak_rss"]) if old else bye["peak_rss"]}

    try:
        fresh = [s for s in systems if s != "c"]
        start(systems)
        for r in range(repeats):
            if r:
                start(fresh)
            for mode in modes:
                for part in range(parts):
                    k = r * parts + part  # rotate the order so no system always goes first
                    order = systems[k % len(systems):] + systems[: k % len(systems)]
                    for s in order:
                        if s == "c" and (r >= torch_repeats or part >= torch_slices):
                            continue
                        if s == "a":  # with (b) and (a') in the same process too, the order rotating
                            group = [("a", {})] + ([("bin", {"raw": True})] if "b" in systems else []) \
                                + ([("a0in", {"attention_off": True})] if "a0" in systems else [])
                            for name, extra in group[k % len(group):] + group[: k % len(group)]:
                                res = procs["a"].ask(mode=mode, part=part, **extra)
                                runs.append({"system": name, "mode": mode, "round": r, **res})
                            continue
                        res = procs[s].ask(mode=mode, part=part)
                        runs.append({"system": s, "mode": mode, "round": r, **res})
                done = [x for x in runs if x["round"] == r and x["mode"] == mode]
                bl._log(f"  round {r + 1} {mode:6}: " + ", ".join(
                    f"{s} {sum(x['tokens'] for x in done if x['system'] == s) / sum(x['seconds'] for x in done if x['system'] == s):,.0f}"
                    for s in systems if any(x["system"] == s for x in done)) + f" tok/s (load {bl.load_average()})")
            load_samples.append(bl.load_average())
            if "a" in procs and r == repeats - 1:  # the app's own cost: its pipeline against recorded model results
                for k in range(3):
                    for mode in modes:
                        for part in range(parts):
                            replays.append({"mode": mode, "round": k, **procs["a"].ask(mode=mode, part=part, replay=True)})
            stop(fresh if r < repeats - 1 else list(procs))
    finally:
        for p in procs.values():
            if p.p.poll() is None:
                p.p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return {"label": label, "sentences": n, "slices": parts, "slice_size": slice_size, "out_tokens": out_tokens,
            "runs": runs, "replays": replays, "rss": rss, "load": load_samples, "threads": threads, "systems": systems, "modes": modes,
            "torch_sentences": sum(len(inputs["slices"][i]["sentences"]) for i in range(min(torch_slices, parts)))}


def _rate(runs: list[dict]) -> float:
    return sum(r["tokens"] for r in runs) / sum(r["seconds"] for r in runs)


def summarize_runs(result: dict) -> tuple[str, dict]:
    """Per system: tokens/s of each full round (all slices), median over rounds. Ratios:
    the median over (round, slice) of the paired ratio, since the two runs of a pair ran
    back to back under the same load."""
    runs = result["runs"]
    rows, med = [], {}
    shown = list(result["systems"]) + [x for x in ("bin", "a0in") if any(r["system"] == x for r in runs)]
    for mode in result["modes"]:
        for s in shown:
            mine = [r for r in runs if r["system"] == s and r["mode"] == mode]
            if not mine:
                continue
            rounds = sorted({r["round"] for r in mine})
            rates = [_rate([r for r in mine if r["round"] == k]) for k in rounds]
            med[(s, mode)] = bl.median(rates)
            tokens = sum(r["tokens"] for r in mine if r["round"] == 0)
            sents = sum(r["sentences"] for r in mine if r["round"] == 0)
            cpu_rates = [sum(r["tokens"] for r in mine if r["round"] == k) / sum(r["cpu"] for r in mine if r["round"] == k)
                         for k in rounds if all("cpu" in r for r in mine)]
            rows.append([mode, SYSTEMS[s], f"{med[(s, mode)]:,.0f}", bl.spread(rates),
                         f"{bl.median(cpu_rates):,.0f}" if cpu_rates else "–", len(rounds), sents, f"{tokens:,}",
                         f"{result['rss'][s]['after_load']:,.0f}" if s in result["rss"] else "(a)'s",
                         f"{result['rss'][s]['peak_rss']:,.0f}" if s in result["rss"] else "(a)'s"])
    out = bl.table(["mode", "system", "tok/s (median)", "min–max", "tok per CPU-s", "rounds", "sentences", "tokens/round",
                    "RSS loaded MB", "peak RSS MB"], rows)

    def paired(x: str, y: str, mode: str, clock: str = "seconds") -> list[float]:
        index = {(r["round"], r["slice"]): r for r in runs if r["system"] == y and r["mode"] == mode}
        return [(r["tokens"] / r[clock]) / (index[k]["tokens"] / index[k][clock])
                for r in runs if r["system"] == x and r["mode"] == mode and (k := (r["round"], r["slice"])) in index
                and clock in r and clock in index[k]]

    ratio_rows = []
    for mode in result["modes"]:
        ab, bc = paired("a", "b", mode), paired("b", "c", mode)
        a0a = paired("a0in", "a", mode) or paired("a0", "a", mode)  # same process when measured there
        ab_cpu = paired("a", "b", mode, "cpu")
        same = paired("a", "bin", mode)
        med[("a/b same", mode)] = bl.median(same) if same else None
        med[("a/b cpu", mode)] = bl.median(ab_cpu) if ab_cpu else None
        med[("a/b", mode)] = bl.median(ab) if ab else None
        med[("b/c", mode)] = bl.median(bc) if bc else None
        med[("att", mode)] = (bl.median(a0a) - 1) if a0a else None
        ratio_rows.append([
            mode,
            f"{bl.median(same):.3f} ({min(same):.2f}–{max(same):.2f}, n={len(same)})" if same else "–",
            f"{bl.median(ab):.3f} ({min(ab):.2f}–{max(ab):.2f}, n={len(ab)})" if ab else "–",
            f"{bl.median(ab_cpu):.3f} ({min(ab_cpu):.2f}–{max(ab_cpu):.2f})" if ab_cpu else "–",
            f"{bl.median(bc):.2f} (n={len(bc)})" if bc else "–",
            f"{(bl.median(a0a) - 1) * 100:+.1f} % ({(min(a0a) - 1) * 100:+.0f}…{(max(a0a) - 1) * 100:+.0f} %, n={len(a0a)})" if a0a else "–",
        ])
    replay_rows = []
    for mode in result["modes"]:
        reps = [r for r in result.get("replays", []) if r["mode"] == mode]
        b_runs = [r for r in runs if r["system"] == "b" and r["mode"] == mode]
        if not reps or not b_runs:
            continue
        per_round = {}
        for r in reps:
            per_round.setdefault(r["round"], []).append(r)
        wall = bl.median(sum(x["seconds"] for x in v) for v in per_round.values())
        cpu = bl.median(sum(x["cpu"] for x in v) for v in per_round.values())
        tokens = sum(x["tokens"] for x in per_round[0])
        b_secs = tokens / med[("b", mode)]
        med[("pipeline_share", mode)] = wall / b_secs
        replay_rows.append([mode, f"{tokens:,}", f"{wall * 1000:,.0f}", f"{cpu * 1000:,.0f}", f"{wall / tokens * 1e6:.1f}",
                            f"{b_secs:.1f}", f"{wall / b_secs * 100:.2f} %",
                            f"{wall / (tokens / 1100) * 100:.1f} %"])
    if replay_rows:
        out += "\n\nThe app's own cost, measured apart from the model: (a)'s pipeline run against the CTranslate2 results " \
               "recorded from its last real run (returned instantly, streaming callbacks replayed token by token), " \
               "median of 3:\n\n" + bl.table(
                   ["mode", "tokens", "pipeline wall ms", "pipeline CPU ms", "µs/token", "(b) s for these tokens",
                    "pipeline / (b)", "same at 1,100 tok/s (idle machine)"], replay_rows)
    out += "\n\n" + bl.table(["mode", "a/b same process (target ≥ 0.95)", "a/b separate processes", "a/b separate, per CPU-second",
                              "b/c paired (target ≥ 4 at beam 4)", "attention cost a'/a − 1, same process (target < 10 %)"], ratio_rows)
    out += ("\n\n*a/b same process* pairs each slice's (a) run with (b) run on the very same CTranslate2 Translator in "
            "(a)'s worker, back to back in alternating order: the process-to-process spread of CTranslate2 itself "
            "(up to ~15 % between two processes doing identical work) cancels out. *Separate processes* pairs (a) with "
            "(b)'s own worker; every round starts fresh workers. The attention cost compares (a) with (a') run in "
            "(a)'s worker as well.")
    return out, {f"{s}/{m}": v for (s, m), v in med.items()}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_common_args(ap)
    ap.add_argument("--sentences", type=int, default=500)
    ap.add_argument("--out-tokens", type=int, default=25, help="fixed output length for the random-weight model")
    ap.add_argument("--repeats", type=int, default=2, help="rounds for (a), (a') and (b)")
    ap.add_argument("--torch-repeats", type=int, default=1, help="rounds for (c), the slow one")
    ap.add_argument("--slice", type=int, default=100, help="sentences per slice (the unit of interleaving)")
    ap.add_argument("--torch-slices", type=int, default=1, help="slices (c) runs per round (it is ~5x slower)")
    ap.add_argument("--systems", default="a,a0,b,c")
    ap.add_argument("--modes", default="greedy,beam4")
    ap.add_argument("--skip-bundled", action="store_true")
    ap.add_argument("--bundled-hf", type=Path, help="the bundled en→de model's Hugging Face checkpoint, for (c) "
                    "(default: its hf/ folder, when the export kept one)")
    ap.add_argument("--section", default="throughput", help="docs/benchmarks.md section to (re)write")
    ap.add_argument("--worker"), ap.add_argument("--model"), ap.add_argument("--hf"), ap.add_argument("--inputs")
    args = ap.parse_args(argv)
    if args.worker:
        return worker_main(args)

    threads = bl.threads_or_default(args.threads)
    systems, modes = args.systems.split(","), args.modes.split(",")
    info = bl.machine()
    print(bl.machine_line(info), flush=True)
    results = []
    if args.smoke:
        tiny = bl.tiny_dir(args) / "tiny-en-de"
        results.append(measure("tiny en→de (smoke)", tiny, tiny / "hf", bl.SMOKE_SENTENCES, 8, systems, modes, 1, 1, 1, 4, threads))
    else:
        models = bl.opus_sized_models()
        sentences = bl.ddtp_sentences(args.sentences)
        results.append(measure("OPUS-MT-sized Marian, random weights", models["opus"], models["hf"], sentences,
                               args.out_tokens, systems, modes, args.repeats, args.torch_repeats, args.torch_slices,
                               args.slice, threads))
        if bl.BUNDLED_EN_DE.is_dir() and (bl.BUNDLED_EN_DE / "model.bin").is_file() and not args.skip_bundled:
            real = bl.ddtp_sentences(args.sentences, skip=args.sentences)  # not the first 500 (training data)
            results.append(measure("bundled ddtp-en-de, real sentences, natural length", bl.BUNDLED_EN_DE,
                                   args.bundled_hf or bl.BUNDLED_EN_DE / "hf", real, 0, systems, modes, max(1, args.repeats - 1), 1,
                                   args.torch_slices, args.slice, threads))
    sections = []
    for res in results:
        text, med = summarize_runs(res)
        res["median_tok_s"] = med
        head = (f"**{res['label']}** — {res['sentences']} sentences in slices of {res['slice_size']} "
                f"(interleaved: each slice runs on every system back to back; (c) runs the first {res['torch_sentences']}), "
                f"{'output fixed at ' + str(res['out_tokens']) + ' tokens' if res['out_tokens'] else 'natural output length'}, "
                f"{res['threads']} threads; load average during the rounds: {' → '.join(res['load'])}")
        print("\n" + head + "\n\n" + text, flush=True)
        sections.append(head + "\n\n" + text)
    if not args.smoke:
        if not (bl.BUNDLED_EN_DE / "model.bin").is_file():
            note = "*The bundled en→de model (resources/models/ddtp-en-de) was not there yet: pending.*"
            print("\n" + note)
            sections.append(note)
        bl.CACHE.mkdir(parents=True, exist_ok=True)
        (bl.CACHE / "throughput.json").write_text(json.dumps({"machine": info, "results": results}, indent=1, default=str))
        if not args.no_docs:
            title = "Throughput" if args.section == "throughput" else f"Throughput ({args.section})"
            bl.write_section(args.section, f"## {title}\n\n`bench/throughput.py {' '.join(argv if argv is not None else sys.argv[1:])}`\n\n"
                             + bl.machine_line(info) + "\n\n" + "\n\n".join(sections))


if __name__ == "__main__":
    main()
