"""Shared helpers for the benchmark scripts (not a benchmark itself).

- the inputs: real English sentences from the Debian Description Translation Project
  (``*_i18n_Translation-en.lz4`` that apt keeps), or a small built-in list in smoke mode;
- the models: an OPUS-MT-sized Marian (6+6 layers, d512, 8 heads, FFN 2048, vocab 58,101
  like Helsinki-NLP/opus-mt-en-de) with random weights and a sentencepiece vocabulary
  trained on DDTP English, converted to CTranslate2 int8 with the app's own converter and
  cached under ``bench/.cache/``; a same-shaped summarizer whose vocabulary is exactly the
  sentencepiece one (so its random output detokenizes to real words);
- the machine description, process memory (RSS from /proc), median/table helpers, and
  writing a section of ``docs/benchmarks.md`` between ``<!-- bench:NAME -->`` markers.

Smoke mode (``--smoke`` or ``S2S_BENCH_SMOKE=1``) uses the tiny test models given with
``--tiny-models DIR`` (the ``tiny_models`` fixture's directory) and writes nothing to docs.
"""

from __future__ import annotations

import glob
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable, Sequence

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
CACHE = ROOT / "bench" / ".cache"
DOCS = ROOT / "docs" / "benchmarks.md"
BUNDLED = Path(os.environ.get("S2S_BENCH_BUNDLED") or ROOT / "resources" / "models")
BUNDLED_EN_DE = BUNDLED / "ddtp-en-de"
DDTP_DIRS = [os.environ.get("S2S_DDTP_LISTS", ""), "/var/lib/apt/lists", str(CACHE / "apt-lists")]

OPUS_VOCAB = 58101  # Helsinki-NLP/opus-mt-en-de
BUILD_VERSION = "1"  # bump to rebuild the cached models

SMOKE_SENTENCES = [
    "The program is free software and you can redistribute it.",
    "This package contains the documentation for the library.",
    "The weather is good today, so the children play in the garden.",
    "We need a new computer because the old one is very slow.",
    "My friend lives in Berlin and works for a small company.",
    "The file is empty, but the window is still open.",
    "This tool converts images between many different formats.",
    "It provides a simple command line interface for the server.",
]


# --------------------------------------------------------------------- arguments
def smoke_requested(argv: Sequence[str] | None = None) -> bool:
    argv = sys.argv[1:] if argv is None else argv
    return "--smoke" in argv or os.environ.get("S2S_BENCH_SMOKE") == "1"


def add_common_args(parser) -> None:
    parser.add_argument("--smoke", action="store_true", default=os.environ.get("S2S_BENCH_SMOKE") == "1",
                        help="tiny models, tiny inputs, one repeat; writes nothing to docs (for the test suite)")
    parser.add_argument("--tiny-models", type=Path, default=os.environ.get("S2S_BENCH_TINY"),
                        help="directory holding the tiny test models (tiny-en-de, tiny-t5-sum, ...), smoke mode")
    parser.add_argument("--threads", type=int, default=0, help="intra threads for every system (0: all cores)")
    parser.add_argument("--no-docs", action="store_true", help="print only; do not update docs/benchmarks.md")


def threads_or_default(n: int) -> int:
    from s2s_desktop.core.device import default_threads

    return n if n > 0 else default_threads()


# ----------------------------------------------------------------------- machine
def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return " ".join(f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8") if f in flags)
    except OSError:
        pass
    return ""


def busy_processes(limit: int = 4) -> list[str]:
    """Other processes using CPU right now (the contamination the figures carry)."""
    try:
        out = subprocess.run(["ps", "-eo", "pid,ni,pcpu,comm", "--sort=-pcpu", "--no-headers"],
                             capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    me = os.getpid()
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[0] != str(me) and float(parts[2]) >= 5.0:
            rows.append(f"{parts[3]} (nice {parts[1]}, {parts[2]}% CPU)")
    return rows[:limit]


def machine() -> dict:
    import ctranslate2

    versions = {"ctranslate2": ctranslate2.__version__}
    for name in ("torch", "transformers", "sentencepiece"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - optional
            pass
    try:
        mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
        mem_gb = int(mem.split()[1]) / 1024 / 1024
    except (OSError, StopIteration):
        mem_gb = 0.0
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return {
        "cpu": cpu_model(),
        "flags": cpu_flags(),
        "cores": cores,
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "versions": versions,
        "load": load_average(),
        "busy": busy_processes(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def machine_line(info: dict) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    busy = "; ".join(info["busy"]) or "none above 5 %"
    return (f"{info['date']} · {info['cpu']} ({info['flags'] or 'no AVX2/512 flags'}) · {info['cores']} cores · "
            f"{info['memory_gb']} GB · Python {info['python']} · {versions} · "
            f"load average (1/5/15 min) before: {info['load']} · other busy processes: {busy}")


# ------------------------------------------------------------------------ memory
def _status_kb(field: str) -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def rss_mb() -> float:
    kb = _status_kb("VmRSS")
    if not kb:  # not Linux: best effort through resource (peak, not current)
        return peak_rss_mb()
    return kb / 1024


def peak_rss_mb() -> float:
    kb = _status_kb("VmHWM")
    if kb:
        return kb / 1024
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def dir_size_mb(path: Path, pattern: str = "*") -> float:
    return sum(p.stat().st_size for p in Path(path).rglob(pattern) if p.is_file() and "hf" not in p.relative_to(path).parts) / 1e6


# ------------------------------------------------------------------------- stats
def median(xs: Iterable[float]) -> float:
    xs = list(xs)
    return statistics.median(xs) if xs else float("nan")


def spread(xs: Sequence[float]) -> str:
    """'min–max' of the repeats, for the table."""
    return f"{min(xs):,.0f}–{max(xs):,.0f}" if len(xs) > 1 else "1 run"


def table(headers: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A Markdown table (also readable in a terminal)."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    fmt = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    lines = [fmt(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join([lines[0], lines[1]] + [fmt(r) for r in cells[1:]])


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section between <!-- bench:name --> markers in docs."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text, encoding="utf-8")


# -------------------------------------------------------------------------- DDTP
def _ddtp_files() -> list[str]:
    for d in DDTP_DIRS:
        if d:
            files = sorted(glob.glob(os.path.join(d, "*_i18n_Translation-en.lz4")))
            if files:
                return files
    return []


def ddtp_paragraphs(limit: int | None = None) -> list[str]:
    """English long-description paragraphs (wrapped lines joined), in file order."""
    files = _ddtp_files()
    if not files:
        raise SystemExit(
            "No DDTP English descriptions found (*_i18n_Translation-en.lz4). Fetch them without touching "
            f"the system lists:\n  mkdir -p {CACHE}/apt-lists/partial && apt-get -o Dir::State::Lists={CACHE}/apt-lists "
            "-o Acquire::Languages=en update\nor set S2S_DDTP_LISTS to a directory holding them.")
    import lz4.frame

    out: list[str] = []
    for f in files:
        text = lz4.frame.decompress(Path(f).read_bytes()).decode("utf-8", "replace")
        for block in text.split("\n\n"):
            lines = block.split("\n")
            body: list[str] = []
            in_desc = False
            for line in lines:
                if line.startswith("Description-en:"):
                    in_desc = True
                    continue
                if in_desc and line.startswith(" "):
                    body.append(line[1:])
                elif in_desc:
                    break
            para: list[str] = []
            for line in body + ["."]:
                if line.strip() == ".":
                    if para:
                        out.append(" ".join(x.strip() for x in para))
                    para = []
                else:
                    para.append(line)
            if limit and len(out) >= limit:
                return out
    return out


_SENT = re.compile(r"(?<=[a-z][.!?])\s+(?=[A-Z])")
_CLEAN = re.compile(r"^[A-Z][A-Za-z0-9 ,;:'()/-]*[a-z)]\.$")


def ddtp_sentences(count: int, min_words: int = 8, max_words: int = 30, skip: int = 0) -> list[str]:
    """``count`` distinct, clean, prose-like English sentences (deterministic order)."""
    seen: set[str] = set()
    out: list[str] = []
    for para in ddtp_paragraphs():
        if para.lstrip().startswith(("*", "-", "+", "o ")):
            continue
        for s in _SENT.split(para):
            s = s.strip()
            if s in seen or not _CLEAN.match(s) or not (min_words <= len(s.split()) <= max_words):
                continue
            seen.add(s)
            if skip:
                skip -= 1
                continue
            out.append(s)
            if len(out) >= count:
                return out
    return out


def ddtp_document(words: int) -> str:
    """About ``words`` words of real English prose: DDTP paragraphs joined as a document."""
    paras, total = [], 0
    for para in ddtp_paragraphs():
        n = len(para.split())
        if n < 25 or para.lstrip().startswith(("*", "-", "+")):
            continue
        paras.append(para)
        total += n
        if total >= words:
            break
    return "\n\n".join(paras)


# ------------------------------------------------------------------------ models
def _train_spm(lines: list[str], prefix: Path, vocab_size: int) -> Path:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_prefix=str(prefix), vocab_size=vocab_size,
        hard_vocab_limit=False, character_coverage=0.9995, num_threads=os.cpu_count() or 1,
        input_sentence_size=300_000, shuffle_input_sentence=True, max_sentence_length=4096,
        unk_id=1, eos_id=0, bos_id=-1, pad_id=-1, minloglevel=2,
    )
    return prefix.with_suffix(".model")


def _marian_checkpoint(out: Path, spm_model: Path, vocab_size: int | None, seed: int = 0) -> Path:
    """A random-weight Marian 6+6 d512 checkpoint whose vocab.json holds the SP pieces,
    padded with dummy pieces up to ``vocab_size`` (None: no padding), ``<pad>`` last."""
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel

    torch.manual_seed(seed)
    out.mkdir(parents=True, exist_ok=True)
    sp = spm.SentencePieceProcessor(model_file=str(spm_model))
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    target = (vocab_size or len(vocab) + 1) - 1
    i = 0
    while len(vocab) < target:
        vocab.setdefault(f"\u2581dummy{i}", len(vocab))
        i += 1
    vocab["<pad>"] = len(vocab)
    pad = vocab["<pad>"]
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.copy(spm_model, out / "source.spm")
    shutil.copy(spm_model, out / "target.spm")
    (out / "tokenizer_config.json").write_text(json.dumps({"source_lang": "en", "target_lang": "de"}))
    config = MarianConfig(
        vocab_size=len(vocab), decoder_vocab_size=len(vocab), d_model=512,
        encoder_layers=6, decoder_layers=6, encoder_attention_heads=8, decoder_attention_heads=8,
        encoder_ffn_dim=2048, decoder_ffn_dim=2048, max_position_embeddings=512,
        pad_token_id=pad, eos_token_id=0, decoder_start_token_id=pad, forced_eos_token_id=0,
        share_encoder_decoder_embeddings=True, scale_embedding=True, dropout=0.0,
        activation_function="swish", static_position_embeddings=True,
    )
    model = MarianMTModel(config)
    with torch.no_grad():  # CTranslate2 starts decoding from a zero <pad> embedding
        model.get_input_embeddings().weight[pad].zero_()
    model.eval()
    model.save_pretrained(out, safe_serialization=True)
    return out


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def opus_sized_models() -> dict[str, Path]:
    """{'opus': translator dir, 'summarizer': summarizer dir, 'hf': HF checkpoint of the
    translator} — built once (a few minutes) and cached under bench/.cache/."""
    root = CACHE / f"models-v{BUILD_VERSION}"
    done = root / "complete"
    paths = {"opus": root / "ct2" / "opus-sized-en-de", "summarizer": root / "ct2" / "opus-sized-summarizer",
             "hf": root / "hf" / "opus-sized-en-de"}
    if done.exists():
        return paths
    from s2s_desktop.models.convert import convert_checkpoint, infer_manifest

    started = time.time()
    root.mkdir(parents=True, exist_ok=True)
    spm_model = root / "ddtp-en.model"
    if not spm_model.exists():
        lines = [p for p in ddtp_paragraphs() if len(p) < 4000]
        _log(f"training sentencepiece on {len(lines):,} DDTP paragraphs (vocab up to {OPUS_VOCAB - 1:,})")
        _train_spm(lines, root / "ddtp-en", OPUS_VOCAB - 1)
    import sentencepiece as spm

    size = spm.SentencePieceProcessor(model_file=str(spm_model)).get_piece_size()
    _log(f"sentencepiece vocabulary: {size:,} pieces; building random-weight checkpoints")
    ckpt = _marian_checkpoint(paths["hf"], spm_model, OPUS_VOCAB)
    manifest = infer_manifest(ckpt, "opus-sized-en-de", source="en", target="de",
                              name=f"OPUS-MT-sized Marian (random weights, SP vocab {size:,} padded to {OPUS_VOCAB:,})")
    convert_checkpoint(ckpt, paths["opus"], manifest, force=True)
    sum_ckpt = _marian_checkpoint(root / "hf" / "opus-sized-summarizer", spm_model, None, seed=1)
    manifest = infer_manifest(sum_ckpt, "opus-sized-summarizer", task="summarize", source="en",
                              name=f"Marian 6+6 d512 summarizer (random weights, vocab {size + 1:,})")
    convert_checkpoint(sum_ckpt, paths["summarizer"], manifest, force=True)
    shutil.rmtree(root / "hf" / "opus-sized-summarizer", ignore_errors=True)
    (root / "info.json").write_text(json.dumps({"spm_pieces": size, "vocab": OPUS_VOCAB,
                                                "build_seconds": round(time.time() - started, 1)}))
    done.touch()
    _log(f"models built in {time.time() - started:.0f} s under {root}")
    return paths


def model_info() -> dict:
    try:
        return json.loads((CACHE / f"models-v{BUILD_VERSION}" / "info.json").read_text())
    except (OSError, ValueError):
        return {}


def bundled_models() -> dict[str, Path]:
    """Bundled models that are complete (have a manifest and model.bin)."""
    if not BUNDLED.is_dir():
        return {}
    return {p.name: p for p in sorted(BUNDLED.iterdir())
            if (p / "s2s-model.json").is_file() and (p / "model.bin").is_file()}


def tiny_dir(args) -> Path:
    if not args.tiny_models:
        raise SystemExit("--smoke needs --tiny-models DIR (or S2S_BENCH_TINY) holding tiny-en-de etc.")
    return Path(args.tiny_models)
