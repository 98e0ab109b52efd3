"""SentencePiece vocabularies in the layout Marian checkpoints use.

Marian convention: id 0 = ``</s>``, 1 = ``<unk>``, no BOS, and ``<pad>`` appended after
the sentencepiece pieces (so model id == sentencepiece id for every piece).
``vocab.json`` maps piece -> id for the shared (tied) embedding matrix.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Iterable

from s2s_desktop.training import TrainingError

VOCAB_FILES = ("vocab.json", "source.spm", "target.spm", "tokenizer_config.json")


def train_sentencepiece(
    lines: Iterable[str],
    out_dir: str | os.PathLike,
    *,
    vocab_size: int = 8000,
    user_symbols: Iterable[str] = (),
    source_lang: str | None = None,
    target_lang: str | None = None,
    seed_sentences: int = 300_000,
) -> Path:
    """Train one joint sentencepiece unigram model and write the Marian vocab files."""
    import sentencepiece as spm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise TrainingError("No text to train the vocabulary on")
    prefix = out / "spm"
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines),
            model_prefix=str(prefix),
            vocab_size=vocab_size,
            model_type="unigram",
            hard_vocab_limit=False,
            character_coverage=0.9999,
            input_sentence_size=seed_sentences,
            shuffle_input_sentence=True,
            max_sentence_length=8192,
            user_defined_symbols=list(user_symbols) or None,
            byte_fallback=False,
            num_threads=1,
            minloglevel=2,
            eos_id=0,
            unk_id=1,
            bos_id=-1,
            pad_id=-1,
        )
    except (RuntimeError, OSError) as exc:
        raise TrainingError(f"SentencePiece training failed: {exc}") from None
    model_file = prefix.with_suffix(".model")
    write_marian_vocab(model_file, out, source_lang=source_lang, target_lang=target_lang)
    prefix.with_suffix(".vocab").unlink(missing_ok=True)
    model_file.unlink(missing_ok=True)
    return out


def write_marian_vocab(model_file, out_dir, *, source_lang=None, target_lang=None) -> int:
    import sentencepiece as spm

    out = Path(out_dir)
    sp = spm.SentencePieceProcessor(model_file=str(model_file))
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    vocab["<pad>"] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    if Path(model_file) != out / "source.spm":
        shutil.copy(model_file, out / "source.spm")
    if Path(model_file) != out / "target.spm":
        shutil.copy(model_file, out / "target.spm")
    (out / "tokenizer_config.json").write_text(
        json.dumps({"source_lang": source_lang, "target_lang": target_lang, "separate_vocabs": False}), encoding="utf-8"
    )
    return vocab["<pad>"]


class Vocab:
    """Encode/decode with a Marian-layout vocabulary directory."""

    def __init__(self, vocab_dir: str | os.PathLike):
        import sentencepiece as spm

        d = Path(vocab_dir)
        for name in ("vocab.json", "source.spm", "target.spm"):
            if not (d / name).is_file():
                raise TrainingError(f"{d} has no {name}: not a Marian vocabulary directory")
        self.dir = d
        self.vocab: dict[str, int] = json.loads((d / "vocab.json").read_text(encoding="utf-8"))
        self.src = spm.SentencePieceProcessor(model_file=str(d / "source.spm"))
        self.tgt = spm.SentencePieceProcessor(model_file=str(d / "target.spm"))
        self.pad_id = self.vocab["<pad>"]
        self.eos_id = self.vocab["</s>"]
        self.unk_id = self.vocab.get("<unk>", 1)
        self.size = len(self.vocab)
        self._ids_match = all(self.vocab.get(self.src.id_to_piece(i)) == i for i in range(self.src.get_piece_size()))

    def _map(self, sp, texts: list[str]) -> list[list[int]]:
        if self._ids_match and sp is self.src:
            return sp.encode(texts, out_type=int)
        return [[self.vocab.get(p, self.unk_id) for p in pieces] for pieces in sp.encode(texts, out_type=str)]

    def encode_source(self, texts: list[str], max_len: int) -> list[list[int]]:
        return [ids[: max_len - 1] + [self.eos_id] for ids in self._map(self.src, texts)]

    def encode_target(self, texts: list[str], max_len: int) -> list[list[int]]:
        return [ids[: max_len - 1] + [self.eos_id] for ids in self._map(self.tgt, texts)]

    def copy_to(self, out_dir: str | os.PathLike) -> None:
        for name in VOCAB_FILES:
            if (self.dir / name).is_file():
                shutil.copy(self.dir / name, Path(out_dir) / name)
