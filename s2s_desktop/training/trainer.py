"""The training loop: Marian-architecture seq2seq with torch.

Run directory layout (everything needed to resume or export)::

    run.json        the configuration and every command that ran on this directory
    data/           train.tsv, dev.tsv, test.tsv (cleaned and split once)
    vocab/          vocab.json, source.spm, target.spm
    checkpoint/     last state: model weights, optimizer.pt, state.json
    best/           best dev checkpoint (Hugging Face layout + vocabulary): export this
    log.jsonl       one line per dev evaluation
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
import os
import random
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from s2s_desktop.training import CorpusError, TrainingError
from s2s_desktop.training.corpus import CleanStats, Pair, clean_pairs, read_corpus, read_tsv, split_pairs, write_tsv


@dataclass
class TrainConfig:
    run_dir: str
    train: str | None = None
    train_target: str | None = None  # second file of a line-aligned pair of files
    dev: str | None = None
    test: str | None = None
    task: str = "translate"  # translate | summarize
    objective: str = "seq2seq"  # seq2seq | dae (denoising autoencoder on the sources)
    source_lang: str | None = None
    target_lang: str | None = None
    swap: bool = False
    dev_size: int = 500
    test_size: int = 1000
    max_words: int = 150
    max_ratio: float = 3.0
    exclude_groups_from: list[str] = field(default_factory=list)
    preset: str = "small"
    vocab_size: int = 8000
    vocab: str | None = None  # reuse a vocabulary directory
    init: str | None = None  # fine-tune from a Hugging Face Marian checkpoint
    max_src_len: int = 128
    max_tgt_len: int = 128
    max_positions: int = 512
    max_tokens: int = 2048  # per batch (padded source + target tokens)
    lr: float = 1e-3
    warmup: int = 400
    schedule: str = "inverse_sqrt"  # inverse_sqrt | linear (needs max_steps)
    label_smoothing: float = 0.1
    clip: float = 1.0
    dropout: float = 0.1
    mask_ratio: float = 0.3
    eval_minutes: float = 4.0
    eval_every: int = 0  # steps; 0 = by time only
    dev_eval_size: int = 400
    patience: int = 5
    max_steps: int = 0
    max_minutes: float = 0.0  # total over resumes; 0 = no limit
    max_epochs: int = 0
    seed: int = 1
    threads: int = 1
    device: str = "cpu"  # cpu | cuda | auto
    precision: str = "auto"  # auto (bf16 autocast where the CPU/GPU supports it) | fp32 | bf16

    def metric_name(self) -> str:
        return "rougeL" if self.task == "summarize" and self.objective == "seq2seq" else "chrf"


RESUMABLE_OVERRIDES = ("max_steps", "max_minutes", "max_epochs", "patience", "eval_minutes", "eval_every", "threads",
                       "device", "precision", "dev_eval_size")


class Interrupted(TrainingError):
    """Training stopped by Ctrl-C/SIGTERM; a checkpoint was saved."""


def _disk(exc: OSError, what) -> TrainingError:
    if exc.errno == errno.ENOSPC:
        return TrainingError(f"Disk full while writing {what}; free some space, then run the same command to resume")
    return TrainingError(f"Cannot write {what}: {exc.strerror or exc}")


def _replace_dir(tmp: Path, dest: Path) -> None:
    old = dest.with_name(dest.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if dest.exists():
        os.replace(dest, old)
    os.replace(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


class Progress:
    """One status line on stderr (\\r-updated on a terminal, periodic lines in a log)."""

    def __init__(self, stream=None, interval: float | None = None):
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = interval if interval is not None else (0.5 if self.tty else 30.0)
        self.last = 0.0

    def update(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.interval:
            return
        self.last = now
        if self.tty:
            self.stream.write("\r" + text[:160].ljust(100))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        if self.tty and self.last:
            self.stream.write("\n")
        self.stream.write(text + "\n")
        self.stream.flush()
        self.last = 0.0


def _fmt_time(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


# ----------------------------------------------------------------------------- data

def prepare_data(cfg: TrainConfig, run: Path, log: Callable[[str], None]) -> dict[str, list[Pair]]:
    data = run / "data"
    if all((data / f"{n}.tsv").is_file() for n in ("train", "dev", "test")):
        return {n: read_tsv(data / f"{n}.tsv") for n in ("train", "dev", "test")}
    if not cfg.train:
        raise TrainingError("No training corpus given (--train FILE.tsv, or --train SRC --train-target TGT)")
    pairs = read_corpus(cfg.train, cfg.train_target)
    if cfg.swap:
        pairs = [Pair(p.target, p.source, p.group) for p in pairs]
    stats = CleanStats()
    identical = cfg.objective != "dae" and cfg.task == "translate"
    pairs = clean_pairs(pairs, max_words=cfg.max_words, max_ratio=cfg.max_ratio if cfg.task == "translate" else 1e9,
                        drop_identical=identical, stats=stats)
    log(f"Corpus {cfg.train}: {stats.summary()}")
    if not pairs:
        raise CorpusError(f"{cfg.train} has no valid pairs after cleaning ({stats.summary()})")
    if cfg.exclude_groups_from:
        banned = set()
        for f in cfg.exclude_groups_from:
            for p in read_tsv(f):
                banned.add(p.group or p.source)
        before = len(pairs)
        pairs = [p for p in pairs if (p.group or p.source) not in banned]
        log(f"Excluded {before - len(pairs)} pairs whose group appears in {', '.join(cfg.exclude_groups_from)}")
    if cfg.dev or cfg.test:
        train = pairs
        dev = clean_pairs(read_tsv(cfg.dev), max_words=10**6, max_ratio=1e9) if cfg.dev else []
        test = clean_pairs(read_tsv(cfg.test), max_words=10**6, max_ratio=1e9) if cfg.test else []
        if cfg.swap:
            dev = [Pair(p.target, p.source, p.group) for p in dev]
            test = [Pair(p.target, p.source, p.group) for p in test]
        if not dev:
            train, dev, _ = split_pairs(pairs, dev=cfg.dev_size, test=0, seed=cfg.seed)
    else:
        train, dev, test = split_pairs(pairs, dev=cfg.dev_size, test=cfg.test_size, seed=cfg.seed)
    if not train or not dev:
        raise CorpusError(f"{cfg.train}: too few pairs to split into train/dev/test ({len(pairs)} valid)")
    for name, split in (("train", train), ("dev", dev), ("test", test)):
        write_tsv(split, data / f"{name}.tsv", with_group=True)
    log(f"Split: {len(train)} train / {len(dev)} dev / {len(test)} test pairs → {data}")
    return {"train": train, "dev": dev, "test": test}


def make_batches(lengths: list[tuple[int, int]], max_tokens: int, rng: random.Random) -> list[list[int]]:
    """Token-based batches of similar lengths: padded (src + tgt) tokens <= max_tokens."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i][0] + rng.random() * 2, lengths[i][1]))
    batches: list[list[int]] = []
    cur: list[int] = []
    ms = mt = 0
    for i in order:
        s, t = lengths[i]
        ns, nt = max(ms, s), max(mt, t)
        if cur and (ns + nt) * (len(cur) + 1) > max_tokens:
            batches.append(cur)
            cur, ns, nt = [], s, t
        cur.append(i)
        ms, mt = ns, nt
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


# ----------------------------------------------------------------------------- loop

class Trainer:
    def __init__(self, cfg: TrainConfig, *, log: Callable[[str], None] | None = None, progress: Progress | None = None,
                 command: str | None = None):
        self.cfg = cfg
        self.run = Path(cfg.run_dir)
        self.progress = progress or Progress()
        self.log = log or self.progress.message
        self.command = command
        self.stop_reason: str | None = None

    # -- setup
    def _load_or_init_config(self) -> bool:
        run_json = self.run / "run.json"
        resume = (self.run / "checkpoint" / "state.json").is_file()
        if resume:
            saved = json.loads(run_json.read_text(encoding="utf-8"))
            fresh = self.cfg
            known = {f.name for f in dataclasses.fields(TrainConfig)}
            cfg = TrainConfig(**{k: v for k, v in saved["config"].items() if k in known})
            for name in RESUMABLE_OVERRIDES:
                value = getattr(fresh, name)
                if value != getattr(TrainConfig(run_dir=""), name):
                    setattr(cfg, name, value)
            self.cfg = cfg
            self.commands = saved.get("commands", [])
        else:
            self.commands = []
        if self.command:
            self.commands.append(self.command)
        try:
            self.run.mkdir(parents=True, exist_ok=True)
            tmp = run_json.with_suffix(".tmp")
            tmp.write_text(json.dumps({"config": dataclasses.asdict(self.cfg), "commands": self.commands}, indent=2,
                                      ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, run_json)
        except OSError as exc:
            raise _disk(exc, run_json) from None
        return resume

    def _device(self):
        import torch

        want = self.cfg.device
        if want == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if want == "cuda" and not torch.cuda.is_available():
            raise TrainingError("--device cuda: no CUDA GPU is available here")
        return torch.device(want)

    def setup(self) -> None:
        import torch
        from transformers import MarianMTModel

        from s2s_desktop.training.model import count_parameters, marian_config

        quiet_transformers()
        from s2s_desktop.training.vocab import Vocab, train_sentencepiece

        resume = self._load_or_init_config()
        cfg = self.cfg
        torch.set_num_threads(max(1, cfg.threads))
        torch.manual_seed(cfg.seed)
        self.device = self._device()
        self.data = prepare_data(cfg, self.run, self.log)
        vocab_dir = self.run / "vocab"
        if not (vocab_dir / "vocab.json").is_file():
            source_dir = cfg.init or cfg.vocab
            tmp = self.run / "vocab.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            if source_dir:
                tmp.mkdir(parents=True)
                Vocab(source_dir).copy_to(tmp)
            else:
                self.log(f"Training a {cfg.vocab_size}-piece sentencepiece vocabulary")
                lines = [p.source for p in self.data["train"]]
                if cfg.objective != "dae":
                    lines += [p.target for p in self.data["train"]]
                symbols = ["<mask>"] if (cfg.objective == "dae" or cfg.task == "summarize") else []
                train_sentencepiece(lines, tmp, vocab_size=cfg.vocab_size, user_symbols=symbols,
                                    source_lang=cfg.source_lang, target_lang=cfg.target_lang)
            _replace_dir(tmp, vocab_dir)
        self.vocab = Vocab(vocab_dir)
        if cfg.objective == "dae" and "<mask>" not in self.vocab.vocab:
            raise TrainingError("The denoising objective needs a vocabulary with a <mask> symbol")
        if resume:
            self.model = MarianMTModel.from_pretrained(str(self.run / "checkpoint"))
            self.state = json.loads((self.run / "checkpoint" / "state.json").read_text())
            self.log(f"Resuming {self.run} at step {self.state['step']} "
                     f"({_fmt_time(self.state['seconds'])} trained, best dev {self.state.get('best')})")
        else:
            if cfg.init:
                self.model = MarianMTModel.from_pretrained(str(cfg.init), dropout=cfg.dropout)
                self.log(f"Fine-tuning from {cfg.init}")
            else:
                config = marian_config(cfg.preset, self.vocab.size, self.vocab.pad_id, self.vocab.eos_id,
                                       max_positions=cfg.max_positions, dropout=cfg.dropout)
                self.model = MarianMTModel(config)
            self.state = {"step": 0, "epoch": 0, "seconds": 0.0, "best": None, "best_step": 0, "bad_evals": 0,
                          "tokens": 0, "history": []}
        if self.model.config.pad_token_id != self.vocab.pad_id:
            raise TrainingError("The checkpoint's pad id does not match its vocabulary")
        self.model.to(self.device)
        self._zero_pad()
        self.autocast = self._autocast_dtype()
        self.params = count_parameters(self.model)
        self.log(f"Model: {self.params / 1e6:.1f}M parameters, vocabulary {self.vocab.size}, device {self.device}"
                 f"{', bf16 autocast' if self.autocast is not None else ''}")
        self.optim = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, betas=(0.9, 0.98), eps=1e-9)
        if resume and (self.run / "checkpoint" / "optimizer.pt").is_file():
            self.optim.load_state_dict(torch.load(self.run / "checkpoint" / "optimizer.pt", map_location=self.device))
        self._encode_train()

    def _autocast_dtype(self):
        import torch

        want = self.cfg.precision
        if want == "fp32":
            return None
        if self.device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        supported = False
        try:
            supported = bool(torch._C._cpu._is_avx512_bf16_supported() or torch._C._cpu._is_amx_tile_supported())
        except AttributeError:
            pass
        if want == "bf16" or supported:
            return torch.bfloat16
        return None

    def _zero_pad(self) -> None:
        import torch

        # CTranslate2 starts decoding from a zero <pad> embedding; keep the row zero.
        with torch.no_grad():
            self.model.get_input_embeddings().weight[self.vocab.pad_id].zero_()

    def _encode_train(self) -> None:
        cfg = self.cfg
        train = self.data["train"]
        self.src_texts = [p.source for p in train]
        if cfg.objective == "dae":
            self.tgt_ids = self.vocab.encode_target(self.src_texts, cfg.max_tgt_len)
            self.src_ids = None  # noised per epoch
        else:
            self.src_ids = self.vocab.encode_source(self.src_texts, cfg.max_src_len)
            self.tgt_ids = self.vocab.encode_target([p.target for p in train], cfg.max_tgt_len)

    def _epoch_sources(self, rng: random.Random) -> list[list[int]]:
        if self.cfg.objective != "dae":
            return self.src_ids
        from s2s_desktop.training.noise import mask_spans, shuffle_sentences

        shuffled = [shuffle_sentences(t, rng) for t in self.src_texts]
        mask_id = self.vocab.vocab["<mask>"]
        return [mask_spans(ids, mask_id, rng, ratio=self.cfg.mask_ratio)
                for ids in self.vocab.encode_source(shuffled, self.cfg.max_src_len)]

    def _lr(self, step: int) -> float:
        cfg = self.cfg
        warm = max(1, cfg.warmup)
        if step < warm:
            return cfg.lr * (step + 1) / warm
        if cfg.schedule == "linear" and cfg.max_steps:
            return cfg.lr * max(0.0, (cfg.max_steps - step) / max(1, cfg.max_steps - warm))
        return cfg.lr * math.sqrt(warm / (step + 1))

    # -- checkpoints
    def save_checkpoint(self) -> None:
        import torch

        dest = self.run / "checkpoint"
        tmp = self.run / "checkpoint.tmp"
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            self.model.save_pretrained(str(tmp), safe_serialization=True)
            torch.save(self.optim.state_dict(), tmp / "optimizer.pt")
            (tmp / "state.json").write_text(json.dumps(self.state, indent=1))
            _replace_dir(tmp, dest)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise _disk(exc, dest) from None

    def _save_hf(self, dest: Path) -> None:
        self.model.save_pretrained(str(dest), safe_serialization=True)
        self.vocab.copy_to(dest)

    def evaluate_dev(self) -> float:
        """Greedy CTranslate2 decoding of the dev split; returns the dev metric."""
        from ctranslate2.converters import TransformersConverter

        from s2s_desktop.training.decode import ct2_generate
        from s2s_desktop.training.metrics import chrf, rouge_l

        cfg = self.cfg
        ev = self.run / ".eval"
        shutil.rmtree(ev, ignore_errors=True)
        was_training = self.model.training
        self.model.eval()
        try:
            self._save_hf(ev / "hf")
            TransformersConverter(str(ev / "hf"), copy_files=["source.spm", "target.spm"]).convert(
                str(ev / "ct2"), quantization="int8", force=True)
        except OSError as exc:
            raise _disk(exc, ev) from None
        finally:
            self.model.train(was_training)
        dev = self.data["dev"][: cfg.dev_eval_size]
        sources = [p.source for p in dev]
        refs = [p.target for p in dev]
        if cfg.objective == "dae":
            rng = random.Random(0)
            sources = [self.vocab.src.decode(ids[:-1]) for ids in
                       (self._noise_one(s, rng) for s in refs)]
        out = ct2_generate(ev / "ct2", sources, beam_size=1, threads=max(1, cfg.threads),
                           max_input_tokens=cfg.max_src_len, max_output_tokens=cfg.max_tgt_len + 8)
        metric = rouge_l(out.outputs, refs) if cfg.metric_name() == "rougeL" else chrf(out.outputs, refs)
        self._last_eval = ev
        self._last_samples = list(zip(sources[:2], out.outputs[:2]))
        return metric

    def _noise_one(self, text: str, rng: random.Random) -> list[int]:
        from s2s_desktop.training.noise import mask_spans, shuffle_sentences

        ids = self.vocab.encode_source([shuffle_sentences(text, rng)], self.cfg.max_src_len)[0]
        return mask_spans(ids, self.vocab.vocab["<mask>"], rng, ratio=self.cfg.mask_ratio)

    def _after_eval(self, metric: float) -> None:
        st = self.state
        improved = st["best"] is None or metric > st["best"]
        st["history"].append({"step": st["step"], "seconds": round(st["seconds"], 1), "dev": metric,
                              "loss": round(self._loss_avg, 4) if self._loss_avg else None})
        try:
            with open(self.run / "log.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps(st["history"][-1]) + "\n")
            if improved:
                st["best"], st["best_step"], st["bad_evals"] = metric, st["step"], 0
                best_tmp = self.run / "best.tmp"
                shutil.rmtree(best_tmp, ignore_errors=True)
                shutil.copytree(self._last_eval / "hf", best_tmp)
                (best_tmp / "train_state.json").write_text(json.dumps(
                    {"step": st["step"], "seconds": st["seconds"], "dev": metric, "metric": self.cfg.metric_name()}))
                _replace_dir(best_tmp, self.run / "best")
            else:
                st["bad_evals"] += 1
        except OSError as exc:
            raise _disk(exc, self.run / "best") from None
        mark = " *best*" if improved else f" (best {st['best']} at step {st['best_step']})"
        sample = self._last_samples[0][1][:90] if self._last_samples else ""
        self.log(f"step {st['step']}  dev {self.cfg.metric_name()} {metric}{mark}  | {sample}")

    # -- main loop
    def train(self) -> dict:
        import torch

        self.setup()
        cfg, st = self.cfg, self.state
        model, optim = self.model, self.optim
        loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100, label_smoothing=cfg.label_smoothing, reduction="sum")
        pad = self.vocab.pad_id
        self._loss_avg = None
        stop = {"flag": None}

        def on_term(signum, frame):
            stop["flag"] = "terminated"

        old_term = signal.signal(signal.SIGTERM, on_term) if _main_thread() else None
        start_wall = time.monotonic()
        base_seconds = st["seconds"]
        last_eval = time.monotonic()
        window_tokens, window_start = 0, time.monotonic()
        tok_rate = 0.0
        model.train()
        try:
            while True:
                rng = random.Random(cfg.seed * 1000 + st["epoch"])
                sources = self._epoch_sources(rng)
                lengths = [(len(s), len(t)) for s, t in zip(sources, self.tgt_ids)]
                batches = make_batches(lengths, cfg.max_tokens, rng)
                skip = st.get("batch_in_epoch", 0)
                for b_index, batch in enumerate(batches):
                    if b_index < skip:
                        continue
                    src = [sources[i] for i in batch]
                    tgt = [self.tgt_ids[i] for i in batch]
                    ws, wt = max(map(len, src)), max(map(len, tgt))
                    input_ids = torch.tensor([s + [pad] * (ws - len(s)) for s in src], device=self.device)
                    labels = torch.tensor([t + [-100] * (wt - len(t)) for t in tgt], device=self.device)
                    dec_in = torch.tensor([[pad] + t[:-1] + [pad] * (wt - len(t)) for t in tgt], device=self.device)
                    with torch.autocast(self.device.type, dtype=self.autocast or torch.float32,
                                        enabled=self.autocast is not None):
                        logits = model(input_ids=input_ids, attention_mask=(input_ids != pad).long(),
                                       decoder_input_ids=dec_in).logits
                    ntok = int((labels != -100).sum())
                    loss = loss_fn(logits.view(-1, logits.size(-1)).float(), labels.view(-1)) / max(1, ntok)
                    for g in optim.param_groups:
                        g["lr"] = self._lr(st["step"])
                    optim.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
                    optim.step()
                    self._zero_pad()
                    st["step"] += 1
                    st["batch_in_epoch"] = b_index + 1
                    st["tokens"] += ntok
                    st["seconds"] = base_seconds + (time.monotonic() - start_wall)
                    value = float(loss.detach())
                    self._loss_avg = value if self._loss_avg is None else 0.98 * self._loss_avg + 0.02 * value
                    window_tokens += ntok + int((input_ids != pad).sum())
                    if time.monotonic() - window_start > 5:
                        tok_rate = window_tokens / (time.monotonic() - window_start)
                        window_tokens, window_start = 0, time.monotonic()
                    self.progress.update(self._status(tok_rate))
                    done = self._budget_done()
                    due = (cfg.eval_every and st["step"] % cfg.eval_every == 0) or (
                        time.monotonic() - last_eval >= cfg.eval_minutes * 60)
                    if due or done or stop["flag"]:
                        if due or done:
                            self._after_eval(self.evaluate_dev())
                            last_eval = time.monotonic()
                            if not done and st["bad_evals"] >= cfg.patience:
                                done = f"early stop: no dev improvement in {cfg.patience} evaluations"
                        st["seconds"] = base_seconds + (time.monotonic() - start_wall)
                        self.save_checkpoint()
                        if stop["flag"]:
                            raise Interrupted(f"Training {stop['flag']}; checkpoint saved in {self.run}. "
                                              "Run the same command to resume.")
                        if done:
                            self.stop_reason = done
                            self.log(f"Stopped: {done}")
                            return self.summary()
                st["epoch"] += 1
                st["batch_in_epoch"] = 0
                if cfg.max_epochs and st["epoch"] >= cfg.max_epochs:
                    self._after_eval(self.evaluate_dev())
                    self.save_checkpoint()
                    self.stop_reason = f"{cfg.max_epochs} epochs"
                    self.log(f"Stopped: {self.stop_reason}")
                    return self.summary()
        except KeyboardInterrupt:
            st["seconds"] = base_seconds + (time.monotonic() - start_wall)
            self.save_checkpoint()
            raise Interrupted(f"Interrupted; checkpoint saved in {self.run} at step {st['step']}. "
                              "Run the same command to resume.") from None
        finally:
            if old_term is not None:
                signal.signal(signal.SIGTERM, old_term)
            shutil.rmtree(self.run / ".eval", ignore_errors=True)

    def _budget_done(self) -> str | None:
        cfg, st = self.cfg, self.state
        if cfg.max_steps and st["step"] >= cfg.max_steps:
            return f"reached {cfg.max_steps} steps"
        if cfg.max_minutes and st["seconds"] >= cfg.max_minutes * 60:
            return f"time budget of {cfg.max_minutes:g} minutes used"
        return None

    def _status(self, tok_rate: float) -> str:
        cfg, st = self.cfg, self.state
        eta = ""
        if cfg.max_minutes:
            eta = f" ETA {_fmt_time(cfg.max_minutes * 60 - st['seconds'])}"
        elif cfg.max_steps and st["step"]:
            eta = f" ETA {_fmt_time((cfg.max_steps - st['step']) * st['seconds'] / st['step'])}"
        best = f" best {st['best']}" if st["best"] is not None else ""
        return (f"step {st['step']} ep {st['epoch']} loss {self._loss_avg:.3f} lr {self._lr(st['step']):.2e} "
                f"{tok_rate:,.0f} tok/s {_fmt_time(st['seconds'])}{eta}{best}")

    def summary(self) -> dict:
        st = self.state
        return {"run_dir": str(self.run), "steps": st["step"], "epochs": st["epoch"], "seconds": round(st["seconds"]),
                "best": st["best"], "best_step": st["best_step"], "metric": self.cfg.metric_name(),
                "stop_reason": self.stop_reason, "parameters": self.params}


def quiet_transformers() -> None:
    """No per-save progress bars or tokenizer warnings in the training log."""
    import warnings

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    warnings.filterwarnings("ignore", message=".*sacremoses.*")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def train(cfg: TrainConfig, **kwargs) -> dict:
    return Trainer(cfg, **kwargs).train()
