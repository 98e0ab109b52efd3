"""The manifest: a small JSON file beside a CTranslate2 model that says how to use it.

A model directory holds CTranslate2's ``config.json``/``model.bin``/vocabulary, the
tokenizer files, and ``s2s-model.json`` (this manifest). Everything the engine needs
to turn text into model tokens and back is described here, so one engine serves
Marian/OPUS-MT, NLLB, M2M100, T5 and BART alike.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from s2s_desktop.core.errors import ModelError

MANIFEST_NAME = "s2s-model.json"
TASKS = ("translate", "summarize")
TOKENIZER_KINDS = ("sentencepiece", "hf")


@dataclass
class TokenizerSpec:
    """Which tokenizer files to use.

    kind "sentencepiece": ``source``/``target`` are .model files (the same file for a
    joint vocabulary: spiece.model, sentencepiece.bpe.model).
    kind "hf": ``source`` is a ``tokenizer.json`` (byte-level BPE etc.), used both ways.
    """

    kind: str = "sentencepiece"
    source: str = "source.spm"
    target: str | None = None

    @property
    def target_file(self) -> str:
        return self.target or self.source


@dataclass
class DecodingDefaults:
    beam_size: int = 4
    length_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    repetition_penalty: float = 1.0
    min_output_tokens: int = 0


@dataclass
class ModelManifest:
    id: str
    task: str = "translate"
    source: str | None = None  # language codes (ISO 639-1 where one exists)
    target: str | None = None
    name: str = ""
    tokenizer: TokenizerSpec = field(default_factory=TokenizerSpec)
    # Tokens added around each source sentence: OPUS-MT ">>deu<<", NLLB "eng_Latn",
    # M2M100 "__en__", BART "<s>"; Marian/T5 need "</s>" appended (CT2 does not).
    source_prefix: list[str] = field(default_factory=list)
    source_suffix: list[str] = field(default_factory=lambda: ["</s>"])
    # Plain text put before the source, e.g. T5's "summarize: ".
    source_text_prefix: str = ""
    # Forced first decoder tokens (NLLB "deu_Latn", M2M100 "__de__", BART "<s>");
    # they are stripped from the output.
    target_prefix: list[str] = field(default_factory=list)
    max_input_tokens: int = 256
    max_output_tokens: int = 256
    decoding: DecodingDefaults = field(default_factory=DecodingDefaults)
    # Provenance, filled by the converter / trainer / model manager.
    source_repo: str | None = None
    revision: str | None = None
    quantization: str | None = None
    license: str | None = None
    created: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # name -> sha256
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if isinstance(self.tokenizer, dict):
            self.tokenizer = TokenizerSpec(**_known(TokenizerSpec, self.tokenizer))
        if isinstance(self.decoding, dict):
            self.decoding = DecodingDefaults(**_known(DecodingDefaults, self.decoding))
        if self.task not in TASKS:
            raise ModelError(f"Model {self.id!r}: unknown task {self.task!r} (expected one of {', '.join(TASKS)})")
        if self.tokenizer.kind not in TOKENIZER_KINDS:
            raise ModelError(f"Model {self.id!r}: unknown tokenizer kind {self.tokenizer.kind!r}")

    @property
    def pair(self) -> str:
        """Short label for pickers: "en→de", or "summarize (en)"."""
        if self.task == "translate":
            return f"{self.source or '?'}→{self.target or '?'}"
        return f"summarize ({self.source})" if self.source else "summarize"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, model_dir: str | os.PathLike) -> Path:
        path = Path(model_dir) / MANIFEST_NAME
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelManifest:
        if not isinstance(data, dict) or not data.get("id"):
            raise ModelError("Manifest has no model id")
        return cls(**_known(cls, data))

    @classmethod
    def load(cls, model_dir: str | os.PathLike) -> ModelManifest:
        path = Path(model_dir) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(f"{model_dir} is not an s2s model: {MANIFEST_NAME} is missing") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path} is unreadable: {exc}") from None
        try:
            return cls.from_dict(data)
        except TypeError as exc:
            raise ModelError(f"{path} is invalid: {exc}") from None


def _known(cls, data: dict[str, Any]) -> dict[str, Any]:
    """Keep only the keys cls knows, so newer manifests still load in older apps."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}
