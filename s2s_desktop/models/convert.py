"""Hugging Face checkpoint → CTranslate2 model directory with a manifest.

Uses CTranslate2's own ``TransformersConverter`` (torch/transformers are imported only
here, lazily). The output is written to a temporary sibling directory and renamed into
place at the end, so a crash or a cancel never leaves a half model behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from s2s_desktop.core.errors import ModelError
from s2s_desktop.core.manifest import MANIFEST_NAME, ModelManifest, TokenizerSpec

QUANTIZATIONS = ("int8", "int8_float16", "int8_float32", "int8_bfloat16", "float16", "bfloat16", "float32")
TOKENIZER_FILES = ("source.spm", "target.spm", "spiece.model", "sentencepiece.bpe.model", "tokenizer.json")


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def checksum_dir(model_dir: str | os.PathLike) -> dict[str, str]:
    """sha256 of every regular file except the manifest itself (recorded in it)."""
    root = Path(model_dir)
    return {
        str(p.relative_to(root)): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MANIFEST_NAME
    }


def publish_model_dir(staging: Path, out: Path, manifest: ModelManifest) -> Path:
    """Record the checksums of a finished staging folder in its manifest and move it into
    place in one rename (replacing ``out``): readers never see a half-written model."""
    manifest.files = checksum_dir(staging)
    manifest.save(staging)
    if out.exists():
        shutil.rmtree(out)
    os.replace(staging, out)
    return out


def infer_manifest(checkpoint_dir: str | os.PathLike, model_id: str, **overrides) -> ModelManifest:
    """Guess the manifest for a local Hugging Face checkpoint from its config and files.

    Covers the architectures this app ships or trains (Marian, T5, BART); overrides
    (languages, task, prefixes) win over the guess.
    """
    ckpt = Path(checkpoint_dir)
    try:
        config = json.loads((ckpt / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{ckpt} has no readable config.json: {exc}") from None
    model_type = config.get("model_type")
    max_pos = int(config.get("max_position_embeddings") or config.get("n_positions") or 512)
    fields: dict = {"id": model_id}
    if model_type == "marian":
        fields.update(
            tokenizer=TokenizerSpec("sentencepiece", "source.spm", "target.spm"),
            source_suffix=["</s>"],
        )
    elif model_type == "t5":
        fields.update(
            task="summarize",
            tokenizer=TokenizerSpec("sentencepiece", "spiece.model"),
            source_suffix=["</s>"],
            source_text_prefix="summarize: ",
        )
        max_pos = 512  # relative positions: no hard limit; keep inputs reasonable
    elif model_type == "bart":
        if not (ckpt / "tokenizer.json").is_file():
            raise ModelError(f"{ckpt}: BART checkpoints need a tokenizer.json")
        fields.update(
            task="summarize",
            tokenizer=TokenizerSpec("hf", "tokenizer.json"),
            source_prefix=["<s>"],
            source_suffix=["</s>"],
            target_prefix=["<s>"],
        )
    else:
        raise ModelError(f"{ckpt}: model type {model_type!r} is not supported yet")
    # CTranslate2 refuses positions >= max_position_embeddings: stay one below.
    fields["max_input_tokens"] = max_pos - 1
    fields["max_output_tokens"] = max_pos - 1
    fields.update(overrides)
    return ModelManifest(**fields)


def convert_checkpoint(
    checkpoint_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    manifest: ModelManifest,
    *,
    quantization: str = "int8",
    average_attention_heads: bool = True,
    copy_files: Iterable[str] | None = None,
    keep_checkpoint: bool = False,
    force: bool = False,
    on_stage: Callable[[str], None] | None = None,
) -> Path:
    """Convert a local Hugging Face checkpoint into ``output_dir`` atomically.

    ``average_attention_heads`` makes CTranslate2 return the mean over all heads of the
    alignment layer instead of head 0, which gives far more readable alignments.
    ``keep_checkpoint`` stores the original checkpoint under ``hf/`` (for the viewer's
    all-layers mode).
    """
    if quantization not in QUANTIZATIONS:
        raise ModelError(f"Unknown quantization {quantization!r}; choose one of {', '.join(QUANTIZATIONS)}")
    ckpt = Path(checkpoint_dir)
    out = Path(output_dir)
    if out.exists() and not force:
        raise ModelError(f"{out} already exists")
    stage = on_stage or (lambda _msg: None)
    if copy_files is None:
        copy_files = [name for name in TOKENIZER_FILES if (ckpt / name).is_file()]
    copy_files = list(copy_files)

    stage("Loading the checkpoint")
    from ctranslate2.converters import TransformersConverter  # imports torch/transformers

    class _Converter(TransformersConverter):
        def _load(self):
            spec = super()._load()
            if average_attention_heads and hasattr(spec, "decoder") and hasattr(spec.decoder, "alignment_heads"):
                import numpy as np

                spec.decoder.alignment_heads = np.dtype("int16").type(0)  # 0 = average all heads
            return spec

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        stage(f"Converting to CTranslate2 ({quantization})")
        # trust_remote_code stays False: never run code that came with a checkpoint.
        _Converter(str(ckpt), copy_files=copy_files or None).convert(str(tmp), quantization=quantization, force=True)
        if keep_checkpoint:
            stage("Keeping the original checkpoint")
            shutil.copytree(ckpt, tmp / "hf", ignore=shutil.ignore_patterns("*.bin", "*.pt", "*.pth", "*.ckpt"))
        stage("Writing the manifest")
        manifest.quantization = quantization
        manifest.created = manifest.created or datetime.now(timezone.utc).isoformat(timespec="seconds")
        publish_model_dir(tmp, out, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    stage("Done")
    return out
