"""The model catalog: real Hugging Face repositories this app knows how to install.

``resources/catalog.json`` holds one entry per model with everything needed to build
its manifest without guessing: task, languages, tokenizer files, special tokens and
language codes, recommended quantization, license (non-commercial ones are flagged).
Entries win over what :func:`~s2s_desktop.models.convert.infer_manifest` would infer.

Multilingual models carry ``lang_tokens`` (ISO code → model token) and prefix
templates where ``{src}``/``{tgt}`` stand for the chosen languages' tokens:

- OPUS-MT multi-target (en-ROMANCE): ``source_prefix: ["{tgt}"]``, tokens ``>>fr<<``
- NLLB-200: ``source_prefix: ["{src}"]``, ``target_prefix: ["{tgt}"]``, tokens ``eng_Latn``
- M2M100: same templates, tokens ``__en__``
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from s2s_desktop.core.errors import ModelError
from s2s_desktop.core.manifest import TASKS, ModelManifest, TokenizerSpec

NON_COMMERCIAL = ("cc-by-nc", "non-commercial", "noncommercial")


def catalog_path() -> Path:
    override = os.environ.get("S2S_CATALOG")
    if override:
        return Path(override)
    from s2s_desktop.models.store import resources_dir

    return resources_dir() / "catalog.json"


@dataclass
class CatalogEntry:
    id: str  # local model id (folder name in the store)
    repo: str  # Hugging Face repository id
    task: str
    name: str = ""
    sources: list[str] = field(default_factory=list)  # ISO codes the model reads
    targets: list[str] = field(default_factory=list)  # ISO codes it writes (translate)
    source: str | None = None  # default pair
    target: str | None = None
    params_m: float | None = None  # parameters, millions
    download_mb: float | None = None  # approximate download size
    license: str = ""
    non_commercial: bool = False
    format: str = "transformers"  # or "ctranslate2" (pre-converted: no conversion)
    revision: str | None = None  # pinned revision; None = main
    safetensors_revision: str | None = None  # tried when `revision` only has pickled weights
    architecture: str = ""  # marian, nllb, m2m100, bart, t5
    tokenizer: dict[str, Any] = field(default_factory=dict)  # {"kind", "source", "target"}
    source_prefix: list[str] = field(default_factory=list)
    source_suffix: list[str] = field(default_factory=lambda: ["</s>"])
    target_prefix: list[str] = field(default_factory=list)
    source_text_prefix: str = ""
    lang_tokens: dict[str, str] = field(default_factory=dict)
    quantization: str = "int8"
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    decoding: dict[str, Any] = field(default_factory=dict)
    notes: str = ""

    def __post_init__(self):
        if self.task not in TASKS:
            raise ModelError(f"Catalog entry {self.id!r}: unknown task {self.task!r}")
        if self.format not in ("transformers", "ctranslate2"):
            raise ModelError(f"Catalog entry {self.id!r}: unknown format {self.format!r}")
        if any(k in self.license.lower() for k in NON_COMMERCIAL):
            self.non_commercial = True

    # ------------------------------------------------------------ queries
    @property
    def multilingual(self) -> bool:
        return bool(self.lang_tokens)

    @property
    def languages(self) -> list[str]:
        return sorted(set(self.sources) | set(self.targets))

    @property
    def pair_label(self) -> str:
        if self.task == "summarize":
            return f"summarize ({', '.join(self.sources) or '?'})"
        src = self.sources[0] if len(self.sources) == 1 else f"{len(self.sources)} languages"
        tgt = self.targets[0] if len(self.targets) == 1 else f"{len(self.targets)} languages"
        return f"{src}→{tgt}"

    def matches(self, task: str | None = None, language: str | None = None, text: str | None = None) -> bool:
        if task and self.task != task:
            return False
        if language and language.lower() not in {code.lower() for code in self.languages}:
            return False
        if text:
            hay = " ".join([self.id, self.repo, self.name, self.architecture, self.license, self.notes, *self.languages]).lower()
            if not all(word in hay for word in text.lower().split()):
                return False
        return True

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # ----------------------------------------------------------- manifest
    def manifest(self, model_id: str | None = None, source: str | None = None, target: str | None = None) -> ModelManifest:
        """The manifest for this entry and one language pair (the default pair if None)."""
        source = source or self.source or (self.sources[0] if len(self.sources) == 1 else None)
        target = target or self.target or (self.targets[0] if len(self.targets) == 1 else None)
        if self.task == "summarize":
            target = None
        if self.sources and source and source not in self.sources:
            raise ModelError(f"{self.repo} does not read {source!r}; it reads {', '.join(self.sources)}")
        if self.targets and target and target not in self.targets:
            raise ModelError(f"{self.repo} does not write {target!r}; it writes {', '.join(self.targets)}")

        def fill(template: list[str]) -> list[str]:
            out = []
            for token in template:
                if "{src}" in token or "{tgt}" in token:
                    lang = source if "{src}" in token else target
                    if not lang:
                        raise ModelError(f"{self.repo} is multilingual: choose the {'source' if '{src}' in token else 'target'} language")
                    if lang not in self.lang_tokens:
                        raise ModelError(f"{self.repo}: no language token for {lang!r}")
                    token = self.lang_tokens[lang]
                out.append(token)
            return out

        tok = dict(self.tokenizer) or {"kind": "sentencepiece", "source": "source.spm", "target": "target.spm"}
        m = ModelManifest(
            id=model_id or self.id,
            task=self.task,
            source=source,
            target=target,
            name=self.name or self.repo,
            tokenizer=TokenizerSpec(**tok),
            source_prefix=fill(self.source_prefix),
            source_suffix=list(self.source_suffix),
            target_prefix=fill(self.target_prefix),
            source_text_prefix=self.source_text_prefix,
            source_repo=self.repo,
            license=self.license or None,
        )
        if self.max_input_tokens:
            m.max_input_tokens = self.max_input_tokens
        if self.max_output_tokens:
            m.max_output_tokens = self.max_output_tokens
        for key, value in self.decoding.items():
            if hasattr(m.decoding, key):
                setattr(m.decoding, key, value)
        m.extra["catalog_id"] = self.id
        if self.non_commercial:
            m.extra["non_commercial"] = True
        if self.multilingual:
            # Everything needed to switch the pair later without reinstalling.
            m.extra["languages"] = {
                "sources": self.sources,
                "targets": self.targets,
                "tokens": self.lang_tokens,
                "source_prefix": self.source_prefix,
                "target_prefix": self.target_prefix,
            }
        return m


class Catalog:
    def __init__(self, entries: list[CatalogEntry]):
        self.entries = entries

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> Catalog:
        path = Path(path) if path else catalog_path()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls([])
        except (OSError, ValueError) as exc:
            raise ModelError(f"The model catalog {path} is unreadable: {exc}") from None
        names = {f.name for f in fields(CatalogEntry)}
        entries = []
        for raw in data.get("models", []):
            try:
                entries.append(CatalogEntry(**{k: v for k, v in raw.items() if k in names}))
            except TypeError as exc:
                raise ModelError(f"The model catalog {path} has an invalid entry {raw.get('id')!r}: {exc}") from None
        ids = [e.id for e in entries]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ModelError(f"The model catalog {path} has duplicate ids: {', '.join(sorted(dupes))}")
        return cls(entries)

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def find(self, id_or_repo: str) -> CatalogEntry | None:
        """By local id, or by repository id (case-insensitive, as the Hub is)."""
        for entry in self.entries:
            if entry.id == id_or_repo:
                return entry
        for entry in self.entries:
            if entry.repo.lower() == id_or_repo.lower():
                return entry
        return None

    def filter(self, task: str | None = None, language: str | None = None, text: str | None = None) -> list[CatalogEntry]:
        return [e for e in self.entries if e.matches(task, language, text)]


def model_id_for_repo(repo_id: str) -> str:
    """Local id for a repository without a catalog entry: its name, made folder-safe."""
    name = repo_id.rsplit("/", 1)[-1]
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in name).strip(".-")
    return safe or "model"
