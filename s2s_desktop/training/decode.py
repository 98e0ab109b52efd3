"""Decoding helpers for evaluation: CTranslate2 (what the app ships) and transformers fp32.

``engine_generate`` decodes with the app's Engine, so `s2s evaluate` and the model cards
measure exactly what users get. ``ct2_generate`` is a lean direct CTranslate2 +
sentencepiece path for the periodic dev scores during training (a manifest-less
temporary conversion, greedy, inputs truncated rather than split).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Decoded:
    outputs: list[str]
    seconds: float
    output_tokens: int

    @property
    def tokens_per_second(self) -> float:
        return self.output_tokens / self.seconds if self.seconds > 0 else 0.0


def ct2_generate(model_dir: str | os.PathLike, sources: list[str], *, beam_size: int = 4, threads: int = 1,
                 max_input_tokens: int | None = None, max_output_tokens: int | None = None,
                 no_repeat_ngram_size: int | None = None, batch_size: int = 32, translator=None) -> Decoded:
    """Decode with CTranslate2 following the model's manifest (suffix ``</s>``, limits)."""
    import ctranslate2
    import sentencepiece as spm

    from s2s_desktop.core.manifest import ModelManifest

    d = Path(model_dir)
    manifest = ModelManifest.load(d) if (d / "s2s-model.json").is_file() else None
    src_spm = spm.SentencePieceProcessor(model_file=str(d / (manifest.tokenizer.source if manifest else "source.spm")))
    tgt_spm = spm.SentencePieceProcessor(model_file=str(d / (manifest.tokenizer.target_file if manifest else "target.spm")))
    max_in = max_input_tokens or (manifest.max_input_tokens if manifest else 255)
    max_out = max_output_tokens or (manifest.max_output_tokens if manifest else 255)
    prefix = manifest.source_prefix if manifest else []
    suffix = manifest.source_suffix if manifest else ["</s>"]
    nrep = no_repeat_ngram_size if no_repeat_ngram_size is not None else (
        manifest.decoding.no_repeat_ngram_size if manifest else 0)
    translator = translator or ctranslate2.Translator(str(d), device="cpu", intra_threads=threads, inter_threads=1)
    start = time.perf_counter()
    outputs: list[str] = [""] * len(sources)
    ntok = 0
    # length-sorted batches decode faster
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    for b in range(0, len(order), batch_size):
        idx = order[b: b + batch_size]
        toks = [prefix + src_spm.encode(sources[i], out_type=str)[: max_in - len(prefix) - len(suffix)] + suffix for i in idx]
        results = translator.translate_batch(
            toks, beam_size=beam_size, max_decoding_length=max_out, max_batch_size=batch_size,
            no_repeat_ngram_size=nrep, return_scores=False,
        )
        for i, r in zip(idx, results):
            pieces = r.hypotheses[0]
            ntok += len(pieces)
            outputs[i] = tgt_spm.decode(pieces)
    return Decoded(outputs, time.perf_counter() - start, ntok)


def hf_generate(checkpoint_dir: str | os.PathLike, sources: list[str], *, beam_size: int = 4,
                max_input_tokens: int = 255, max_output_tokens: int = 255, no_repeat_ngram_size: int = 0,
                batch_size: int = 32, model=None) -> Decoded:
    """Decode with the transformers fp32 model (reference for the int8 export)."""
    import torch
    from transformers import MarianMTModel

    from s2s_desktop.training.vocab import Vocab

    vocab = Vocab(checkpoint_dir)
    model = model or MarianMTModel.from_pretrained(str(checkpoint_dir))
    model.eval()
    inv = {i: p for p, i in vocab.vocab.items()}
    outputs: list[str] = [""] * len(sources)
    ntok = 0
    start = time.perf_counter()
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            idx = order[b: b + batch_size]
            enc = vocab.encode_source([sources[i] for i in idx], max_input_tokens)
            width = max(map(len, enc))
            ids = torch.tensor([e + [vocab.pad_id] * (width - len(e)) for e in enc])
            out = model.generate(
                input_ids=ids, attention_mask=(ids != vocab.pad_id).long(), num_beams=beam_size,
                max_new_tokens=max_output_tokens, no_repeat_ngram_size=no_repeat_ngram_size or 0,
                do_sample=False, early_stopping=True,
            )
            for i, row in zip(idx, out.tolist()):
                pieces = [inv[t] for t in row if t not in (vocab.pad_id, vocab.eos_id)]
                ntok += len(pieces)
                outputs[i] = vocab.tgt.decode(pieces)
    return Decoded(outputs, time.perf_counter() - start, ntok)


def engine_generate(model_dir: str | os.PathLike, sources: list[str], *, task: str = "translate",
                    beam_size: int | None = None, threads: int = 1, no_repeat_ngram_size: int | None = None,
                    device: str = "cpu") -> Decoded:
    """Decode with the app's Engine (exactly what users get)."""
    from s2s_desktop.core.engine import Engine, SummaryOptions, TranslationOptions

    engine = Engine(model_dir, device=device, compute_type="auto", intra_threads=threads)
    start = time.perf_counter()
    outputs = [""] * len(sources)
    ntok = 0
    if task == "summarize":
        opts = SummaryOptions(beam_size=beam_size, no_repeat_ngram_size=no_repeat_ngram_size)
        for i, text in enumerate(sources):
            result = engine.summarize(text, opts)
            outputs[i] = result.text
            ntok += result.output_tokens
    else:
        opts = TranslationOptions(beam_size=beam_size, no_repeat_ngram_size=no_repeat_ngram_size,
                                  return_attention=False, use_cache=False)
        for r in engine.translate_sentences(sources, opts):
            outputs[r.index] = r.target
            ntok += len(r.target_tokens)
    engine.unload()
    return Decoded(outputs, time.perf_counter() - start, ntok)
