"""Export a trained checkpoint: CTranslate2 int8 + manifest + MODEL_CARD.md, atomically.

The model is converted into a hidden staging directory beside the destination, scored
on the held-out test split (CTranslate2 int8 through the app's engine, and the
transformers fp32 checkpoint for comparison), the card is written, and only then is the
staging directory renamed into place.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shlex
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from s2s_desktop.core.manifest import DecodingDefaults
from s2s_desktop.training import TrainingError
from s2s_desktop.training.corpus import read_tsv

DEFAULT_LICENSE = "MIT"


def _checkpoint_of(path: Path) -> tuple[Path, Path | None]:
    """(HF checkpoint dir, run dir or None)."""
    if (path / "best" / "config.json").is_file():
        return path / "best", path
    if (path / "config.json").is_file():
        run = path.parent if (path.parent / "run.json").is_file() else None
        return path, run
    raise TrainingError(f"{path} is neither a training run directory (with best/) nor a checkpoint")


def config_command(config: dict) -> str:
    """A `s2s train run` command line equivalent to a run's configuration."""
    from s2s_desktop.training.trainer import TrainConfig

    defaults = dataclasses.asdict(TrainConfig(run_dir=""))
    args = ["s2s", "train", "run", "--run-dir", config["run_dir"]]
    skip = {"run_dir", "threads", "device", "precision"}
    for key, value in config.items():
        if key in skip or value == defaults.get(key) or value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            if value:
                args.append(flag)
        elif isinstance(value, list):
            for v in value:
                args += [flag, str(v)]
        else:
            args += [flag, str(value)]
    return " ".join(shlex.quote(a) for a in args)


def export_model(
    source: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    model_id: str,
    name: str | None = None,
    task: str | None = None,
    source_lang: str | None = None,
    target_lang: str | None = None,
    license: str = DEFAULT_LICENSE,
    quantization: str = "int8",
    decoding: DecodingDefaults | None = None,
    max_input_tokens: int | None = None,
    max_output_tokens: int | None = None,
    test_file: str | os.PathLike | None = None,
    test_limit: int = 1000,
    compare_fp32: bool = True,
    threads: int = 1,
    export_command: str | None = None,
    corpus_note: str | None = None,
    extra_notes: list[str] | None = None,
    log: Callable[[str], None] = print,
    force: bool = False,
) -> dict:
    from s2s_desktop.models.convert import convert_checkpoint, infer_manifest, publish_model_dir
    from s2s_desktop.models.store import dir_size
    from s2s_desktop.training.decode import engine_generate, hf_generate
    from s2s_desktop.training.metrics import score
    from s2s_desktop.training.trainer import quiet_transformers

    quiet_transformers()
    src = Path(source)
    out = Path(out_dir)
    if out.exists() and not force:
        raise TrainingError(f"{out} already exists (use --force to replace it)")
    ckpt, run = _checkpoint_of(src)
    run_info = json.loads((run / "run.json").read_text(encoding="utf-8")) if run else {}
    cfg = run_info.get("config", {})
    state = json.loads((run / "checkpoint" / "state.json").read_text()) if run and (run / "checkpoint" / "state.json").is_file() else {}
    best_state = json.loads((ckpt / "train_state.json").read_text()) if (ckpt / "train_state.json").is_file() else {}
    task = task or cfg.get("task", "translate")
    source_lang = source_lang or cfg.get("source_lang")
    target_lang = target_lang or (cfg.get("target_lang") if task == "translate" else source_lang)
    model_config = json.loads((ckpt / "config.json").read_text())
    max_pos = int(model_config.get("max_position_embeddings", 512))
    if decoding is None:
        decoding = (DecodingDefaults(beam_size=4, length_penalty=1.0, no_repeat_ngram_size=3, min_output_tokens=2)
                    if task == "summarize" else DecodingDefaults(beam_size=4, length_penalty=1.0))
    manifest = infer_manifest(
        ckpt, model_id, task=task, source=source_lang, target=target_lang,
        name=name or model_id, license=license, decoding=decoding,
        max_input_tokens=min(max_pos - 1, max_input_tokens or cfg.get("max_src_len", 256)),
        max_output_tokens=min(max_pos - 1, max_output_tokens or (64 if task == "summarize" else 256)),
    )
    manifest.source_repo = "trained locally (s2s train)"
    staging = out.parent / f".{out.name}.export"
    if staging.exists():
        shutil.rmtree(staging)
    log(f"Converting {ckpt} to CTranslate2 {quantization}")
    try:
        convert_checkpoint(ckpt, staging, manifest, quantization=quantization, average_attention_heads=True, force=True)
    except OSError as exc:
        from s2s_desktop.training.trainer import _disk

        raise _disk(exc, staging) from None
    try:
        results: dict = {"int8": None, "fp32": None}
        test_path = Path(test_file) if test_file else (run / "data" / "test.tsv" if run else None)
        test_pairs = read_tsv(test_path)[:test_limit] if test_path and test_path.is_file() and test_path.stat().st_size else []
        if test_pairs:
            sources = [p.source for p in test_pairs]
            refs = [p.target for p in test_pairs]
            log(f"Scoring {quantization} on {len(sources)} test pairs ({test_path})")
            dec = engine_generate(staging, sources, task=task, beam_size=decoding.beam_size, threads=threads)
            results["int8"] = {**score(task, dec.outputs, refs), "tokens_per_s": round(dec.tokens_per_second, 1),
                               "seconds": round(dec.seconds, 1)}
            results["samples"] = [(s, r, h) for s, r, h in zip(sources[:5], refs[:5], dec.outputs[:5])]
            log(f"  {quantization}: {results['int8']}")
            if compare_fp32:
                import torch

                torch.set_num_threads(max(1, threads))
                log("Scoring the transformers fp32 checkpoint (same beam)")
                ref = hf_generate(ckpt, sources, beam_size=decoding.beam_size,
                                  max_input_tokens=manifest.max_input_tokens,
                                  max_output_tokens=manifest.max_output_tokens if task == "summarize" else 256,
                                  no_repeat_ngram_size=decoding.no_repeat_ngram_size)
                results["fp32"] = {**score(task, ref.outputs, refs), "tokens_per_s": round(ref.tokens_per_second, 1),
                                   "seconds": round(ref.seconds, 1)}
                log(f"  fp32: {results['fp32']}")
        size = dir_size(staging)
        info = {
            "model_id": model_id, "name": manifest.name, "task": task, "source": source_lang, "target": target_lang,
            "run": str(run) if run else None, "config": cfg, "commands": run_info.get("commands", []),
            "state": state, "best": best_state, "model_config": model_config, "results": results,
            "size_bytes": size, "test_file": str(test_path) if test_pairs else None, "test_count": len(test_pairs),
            "export_command": export_command, "manifest": manifest, "corpus_note": corpus_note,
            "notes": extra_notes or [], "quantization": quantization,
            "data_counts": _data_counts(run) if run else {},
        }
        (staging / "MODEL_CARD.md").write_text(model_card(info), encoding="utf-8")
        manifest.extra = {
            "training": {
                "preset": cfg.get("preset"), "steps": best_state.get("step") or state.get("step"),
                "train_minutes": round((state.get("seconds") or 0) / 60, 1),
                "test": results.get("int8"), "test_fp32": results.get("fp32"),
            }
        }
        publish_model_dir(staging, out, manifest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log(f"Exported {model_id} to {out} ({size / 1e6:.1f} MB)")
    return {"path": str(out), "size_bytes": size, "results": results}


def _data_counts(run: Path) -> dict:
    counts = {}
    for name in ("train", "dev", "test"):
        f = run / "data" / f"{name}.tsv"
        if f.is_file():
            with open(f, encoding="utf-8") as fh:
                counts[name] = sum(1 for _ in fh)
    return counts


def _fmt_scores(r: dict | None, task: str) -> str:
    if not r:
        return "n/a"
    if task == "summarize":
        return f"ROUGE-L {r['rougeL']:.2f}, chrF {r['chrf']:.2f}"
    return f"BLEU {r['bleu']:.2f}, chrF {r['chrf']:.2f}"


def model_card(info: dict) -> str:
    m = info["manifest"]
    cfg = info["config"]
    st = info["state"]
    mc = info["model_config"]
    task = info["task"]
    res = info["results"]
    lines = [f"# {m.name}", ""]
    pair = f"{info['source']}→{info['target']}" if task == "translate" else f"summarization ({info['source']})"
    lines += [
        f"- **id**: `{m.id}`  ",
        f"- **task**: {pair}  ",
        f"- **architecture**: Marian Transformer (preset `{cfg.get('preset', '?')}`): d_model {mc.get('d_model')}, "
        f"{mc.get('encoder_layers')}+{mc.get('decoder_layers')} layers, {mc.get('encoder_attention_heads')} heads, "
        f"FFN {mc.get('encoder_ffn_dim')}, shared sentencepiece vocabulary of {mc.get('vocab_size')} pieces, "
        f"tied embeddings  ",
        f"- **format**: CTranslate2 {info['quantization']}, alignment layer heads averaged; "
        f"{info['size_bytes'] / 1e6:.1f} MB on disk  ",
        f"- **license**: {m.license} (weights); training data from Debian package descriptions and their "
        f"DDTP translations (free-software licenses of the respective packages)" if "ddtp" in (cfg.get("train") or "")
        else f"- **license**: {m.license}  ",
        f"- **created**: {m.created}",
        "",
        "## Training data",
        "",
    ]
    if info.get("corpus_note"):
        lines += [info["corpus_note"], ""]
    counts = info.get("data_counts") or {}
    lines += [
        f"Corpus `{cfg.get('train')}`{' (columns swapped)' if cfg.get('swap') else ''}"
        f"{' — denoising objective' if cfg.get('objective') == 'dae' else ''}; after cleaning and a deterministic "
        f"split by description group: {counts.get('train', '?')} train / {counts.get('dev', '?')} dev / "
        f"{counts.get('test', '?')} test pairs.",
        "",
        "## Training",
        "",
        f"- steps: {st.get('step')} ({st.get('epoch')} full epochs), best dev checkpoint at step "
        f"{info['best'].get('step')} (dev {info['best'].get('metric', 'chrf')} {info['best'].get('dev')}, greedy)",
        f"- training time: {(st.get('seconds') or 0) / 60:.1f} minutes on {cfg.get('threads', 1)} CPU thread(s) "
        f"({platform.processor() or platform.machine()}), {cfg.get('precision', 'auto')} precision; "
        f"{st.get('tokens', 0):,} target tokens seen",
        f"- optimizer: Adam (0.9, 0.98), peak lr {cfg.get('lr')}, warmup {cfg.get('warmup')} steps then "
        f"{cfg.get('schedule')}, label smoothing {cfg.get('label_smoothing')}, dropout {cfg.get('dropout')}, "
        f"gradient clipping {cfg.get('clip')}, batches of ≤ {cfg.get('max_tokens')} tokens",
    ]
    if cfg.get("init"):
        lines.append(f"- initialized from `{cfg['init']}`")
    hist = st.get("history") or []
    if hist:
        lines += ["", "Dev curve (greedy, int8):", "", "| step | minutes | dev |", "|---:|---:|---:|"]
        for h in hist[:: max(1, len(hist) // 12)]:
            lines.append(f"| {h['step']} | {h['seconds'] / 60:.1f} | {h['dev']} |")
    lines += ["", "## Held-out test scores", ""]
    if res.get("int8"):
        beam = m.decoding.beam_size
        lines += [
            f"{info['test_count']} pairs of the held-out test split, beam {beam}"
            f"{', no-repeat-ngram ' + str(m.decoding.no_repeat_ngram_size) if m.decoding.no_repeat_ngram_size else ''}; "
            "sacrebleu defaults" + (", ROUGE-L F1 (rouge-score, no stemming)" if task == "summarize" else "") + ".",
            "",
            "| model | scores | tokens/s (1 thread) |",
            "|---|---|---:|",
            f"| CTranslate2 {info['quantization']} (this model) | {_fmt_scores(res['int8'], task)} | {res['int8']['tokens_per_s']} |",
        ]
        if res.get("fp32"):
            lines.append(f"| transformers fp32 checkpoint | {_fmt_scores(res['fp32'], task)} | {res['fp32']['tokens_per_s']} |")
            delta = res["int8"]["chrf"] - res["fp32"]["chrf"]
            lines += ["", f"Quantization changes chrF by {delta:+.2f}."]
        if res.get("samples"):
            lines += ["", "Examples from the test split:", ""]
            for s, r, h in res["samples"][:3]:
                lines += [f"- source: {s[:300]}", f"  - reference: {r[:300]}", f"  - model: {h[:300]}"]
    else:
        lines.append("No test split was available.")
    for note in info.get("notes") or []:
        lines += ["", note]
    lines += ["", "## Reproduce", "", "```sh"]
    if info.get("corpus_note") and "ddtp" in (cfg.get("train") or ""):
        lines.append("s2s train ddtp-corpus --out runs/corpus   # needs apt's Translation-de files")
    if cfg.get("init") and "dae" in cfg["init"]:
        lines.append("# (first run the denoising pre-training stage; see its run directory's run.json)")
    lines.append(config_command({**cfg, "max_minutes": cfg.get("max_minutes")}))
    if info.get("export_command"):
        lines.append(info["export_command"])
    lines += ["```", ""]
    if info.get("commands"):
        lines += ["Commands that actually ran on the run directory (resumes included):", "", "```sh"]
        lines += info["commands"]
        lines += ["```", ""]
    return "\n".join(lines)


def append_card_note(model_dir: str | os.PathLike, title: str, text: str) -> None:
    """Add a section to an exported model's card and refresh the manifest checksums."""
    from s2s_desktop.core.manifest import ModelManifest
    from s2s_desktop.models.convert import checksum_dir

    d = Path(model_dir)
    manifest = ModelManifest.load(d)
    card = d / "MODEL_CARD.md"
    body = card.read_text(encoding="utf-8") if card.is_file() else f"# {manifest.name}\n"
    marker = f"## {title}"
    if marker in body:  # replace an earlier version of the same section
        head, _, rest = body.partition(marker)
        nxt = rest.find("\n## ")
        body = head.rstrip() + "\n" + (rest[nxt:] if nxt >= 0 else "")
    tmp = card.with_name(card.name + ".tmp")
    tmp.write_text(body.rstrip() + f"\n\n{marker}\n\n{text.strip()}\n", encoding="utf-8")
    os.replace(tmp, card)
    manifest.files = checksum_dir(d)
    manifest.save(d)
