"""Tiny real models built from scratch for the tests (no hub is reachable here).

- a Marian en→de model with a sentencepiece vocabulary, trained for a few hundred steps
  on the pairs below so that it really translates them;
- a T5 summarizer (spiece.model) and a BART summarizer (byte-level BPE tokenizer.json)
  with random weights, exercising the other tokenizer kinds.

Each is converted to CTranslate2 int8 with the app's own converter. Building takes about
a minute; the results are cached (keyed by this file's content) by the fixtures.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

PAIRS = [
    ("The house is small.", "Das Haus ist klein."),
    ("The house is big.", "Das Haus ist groß."),
    ("The dog is small.", "Der Hund ist klein."),
    ("The dog is old.", "Der Hund ist alt."),
    ("The cat sleeps.", "Die Katze schläft."),
    ("The cat is black.", "Die Katze ist schwarz."),
    ("I like the garden.", "Ich mag den Garten."),
    ("I like the book.", "Ich mag das Buch."),
    ("We read the book.", "Wir lesen das Buch."),
    ("We open the window.", "Wir öffnen das Fenster."),
    ("She drinks water.", "Sie trinkt Wasser."),
    ("He drinks coffee.", "Er trinkt Kaffee."),
    ("The weather is good today.", "Das Wetter ist heute gut."),
    ("The weather is bad.", "Das Wetter ist schlecht."),
    ("Where is the station?", "Wo ist der Bahnhof?"),
    ("Where is the book?", "Wo ist das Buch?"),
    ("Thank you very much.", "Vielen Dank."),
    ("Good morning.", "Guten Morgen."),
    ("Good night.", "Gute Nacht."),
    ("The program is free software.", "Das Programm ist freie Software."),
    ("This package contains the library.", "Dieses Paket enthält die Bibliothek."),
    ("This package contains the documentation.", "Dieses Paket enthält die Dokumentation."),
    ("The file is empty.", "Die Datei ist leer."),
    ("The window is open.", "Das Fenster ist offen."),
    ("The children play in the garden.", "Die Kinder spielen im Garten."),
    ("My friend lives in Berlin.", "Mein Freund wohnt in Berlin."),
    ("The train is late.", "Der Zug ist spät."),
    ("I need help.", "Ich brauche Hilfe."),
    ("The water is cold.", "Das Wasser ist kalt."),
    ("The coffee is hot.", "Der Kaffee ist heiß."),
    ("We need a new computer.", "Wir brauchen einen neuen Computer."),
    ("The computer is fast.", "Der Computer ist schnell."),
]

SUMMARY_TEXT = (
    "Free software gives users the freedom to run, study, change and share programs. "
    "Many packages in the archive contain libraries, tools and documentation. "
    "A summary keeps the main point of a longer text and drops the details. "
    "The weather was good, so the children played in the garden all afternoon. "
)


def _train_spm(text_lines: list[str], prefix: Path, vocab_size: int, **kwargs) -> Path:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(text_lines),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        hard_vocab_limit=False,
        character_coverage=1.0,
        num_threads=1,
        minloglevel=2,
        **kwargs,
    )
    return prefix.with_suffix(".model")


def build_marian(out_dir: Path, steps: int = 350, seed: int = 0) -> Path:
    """A 2+2-layer d64 Marian en→de trained to reproduce PAIRS."""
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel

    torch.manual_seed(seed)
    random.seed(seed)
    # one thread: a model this small gains nothing from more, and OpenMP threads that
    # spin-wait on a busy 2-core machine made this step 25x slower
    torch.set_num_threads(1)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [s for pair in PAIRS for s in pair] * 4
    model_file = _train_spm(lines, out_dir / "spm", 160, unk_id=1, eos_id=0, bos_id=-1, pad_id=-1)
    sp = spm.SentencePieceProcessor(model_file=str(model_file))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    vocab = {p: i for i, p in enumerate(pieces)}
    vocab["<pad>"] = len(vocab)
    pad = vocab["<pad>"]
    (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.copy(model_file, out_dir / "source.spm")
    shutil.copy(model_file, out_dir / "target.spm")
    (out_dir / "tokenizer_config.json").write_text(json.dumps({"source_lang": "en", "target_lang": "de"}))

    config = MarianConfig(
        vocab_size=len(vocab), decoder_vocab_size=len(vocab), d_model=64,
        encoder_layers=2, decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4,
        encoder_ffn_dim=128, decoder_ffn_dim=128, max_position_embeddings=128,
        pad_token_id=pad, eos_token_id=0, decoder_start_token_id=pad, forced_eos_token_id=0,
        share_encoder_decoder_embeddings=True, scale_embedding=True, dropout=0.0,
    )
    model = MarianMTModel(config)

    def encode(text: str) -> list[int]:
        return [vocab[p] for p in sp.encode(text, out_type=str)] + [0]

    src = [encode(s) for s, _ in PAIRS]
    tgt = [encode(t) for _, t in PAIRS]
    width_s = max(map(len, src))
    width_t = max(map(len, tgt))
    input_ids = torch.tensor([s + [pad] * (width_s - len(s)) for s in src])
    labels = torch.tensor([t + [-100] * (width_t - len(t)) for t in tgt])
    attention = (input_ids != pad).long()
    optim = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=input_ids, attention_mask=attention, labels=labels).loss
        optim.zero_grad()
        loss.backward()
        optim.step()
        with torch.no_grad():  # CTranslate2 starts decoding from a zero <pad> embedding
            model.get_input_embeddings().weight[pad].zero_()
    model.eval()
    model.save_pretrained(out_dir / "hf_tmp", safe_serialization=True)
    for f in (out_dir / "hf_tmp").iterdir():
        shutil.move(str(f), out_dir / f.name)
    (out_dir / "hf_tmp").rmdir()
    return out_dir


def build_t5(out_dir: Path, seed: int = 0) -> Path:
    """A random-weight 2-layer T5 with a sentencepiece (spiece.model) vocabulary."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [s for pair in PAIRS for s in pair] + SUMMARY_TEXT.split(". ")
    model_file = _train_spm(lines * 3, out_dir / "spm", 200, pad_id=0, eos_id=1, unk_id=2, bos_id=-1)
    shutil.move(str(model_file), out_dir / "spiece.model")
    (out_dir / "spm.vocab").unlink(missing_ok=True)
    import sentencepiece as spm

    size = spm.SentencePieceProcessor(model_file=str(out_dir / "spiece.model")).get_piece_size()
    config = T5Config(
        vocab_size=size + 100,  # T5Tokenizer appends 100 <extra_id_N> sentinels d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2,
        num_heads=4, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, dropout_rate=0.0,
    )
    T5ForConditionalGeneration(config).save_pretrained(out_dir, safe_serialization=True)
    return out_dir


def build_bart(out_dir: Path, seed: int = 0) -> Path:
    """A random-weight 2-layer BART with a byte-level BPE tokenizer.json."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import BartConfig, BartForConditionalGeneration

    torch.manual_seed(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    tok = ByteLevelBPETokenizer()
    lines = [s for pair in PAIRS for s in pair] + SUMMARY_TEXT.split(". ")
    tok.train_from_iterator(lines * 3, vocab_size=400, min_frequency=1,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    tok.save(str(out_dir / "tokenizer.json"))
    config = BartConfig(
        vocab_size=tok.get_vocab_size(), d_model=64, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128,
        max_position_embeddings=256, bos_token_id=0, pad_token_id=1, eos_token_id=2,
        decoder_start_token_id=2, forced_bos_token_id=0, normalize_before=False, dropout=0.0,
    )
    BartForConditionalGeneration(config).save_pretrained(out_dir, safe_serialization=True)
    return out_dir


def build_all(root: Path) -> dict[str, Path]:
    """Build the three checkpoints and convert them; returns {id: ct2_dir}."""
    from s2s_desktop.models.convert import convert_checkpoint, infer_manifest

    root.mkdir(parents=True, exist_ok=True)
    built = {}
    specs = {
        "tiny-en-de": (build_marian, {"source": "en", "target": "de", "name": "Tiny Marian en→de"}),
        "tiny-t5-sum": (build_t5, {"source": "en", "name": "Tiny T5 summarizer"}),
        "tiny-bart-sum": (build_bart, {"source": "en", "name": "Tiny BART summarizer"}),
    }
    for model_id, (build, overrides) in specs.items():
        ckpt = build(root / "hf" / model_id)
        manifest = infer_manifest(ckpt, model_id, **overrides)
        if model_id != "tiny-en-de":
            manifest.max_input_tokens = 48  # small limit so tests exercise chunking
            manifest.max_output_tokens = 24
        built[model_id] = convert_checkpoint(ckpt, root / "ct2" / model_id, manifest, keep_checkpoint=True, force=True)
    return built


if __name__ == "__main__":
    import sys
    import time

    start = time.time()
    print(build_all(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/s2s-tiny")), f"{time.time() - start:.1f}s")
