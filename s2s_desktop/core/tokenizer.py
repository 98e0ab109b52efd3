"""Text ↔ model tokens, for sentencepiece models and Hugging Face ``tokenizer.json``.

Both kinds expose the same small interface: ``encode`` (source text → tokens),
``decode`` (target tokens → text) and ``word_starts`` (which tokens begin a
whitespace-delimited word; the alignment code groups subwords with it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from s2s_desktop.core.errors import ModelError
from s2s_desktop.core.manifest import ModelManifest

SPM_SPACE = "\u2581"  # ▁
BPE_SPACE = "\u0120"  # Ġ (byte-level BPE's space)
BPE_NEWLINE = "\u010a"  # Ċ


class Tokenizer:
    special_tokens: frozenset[str] = frozenset()
    space_markers: tuple[str, ...] = (SPM_SPACE,)

    def encode(self, text: str) -> list[str]:
        raise NotImplementedError

    def decode(self, tokens: Sequence[str]) -> str:
        raise NotImplementedError

    def count(self, text: str) -> int:
        return len(self.encode(text))

    def is_special(self, token: str) -> bool:
        """Control tokens and language tokens: they belong to no word."""
        return token in self.special_tokens or _is_lang_token(token)

    def word_starts(self, tokens: Sequence[str]) -> list[bool]:
        """True where a token begins a new whitespace word (special tokens: False)."""
        starts = []
        seen_word = False
        for tok in tokens:
            if self.is_special(tok):
                starts.append(False)
                continue
            starts.append(tok[:1] in self.space_markers or not seen_word)
            seen_word = True
        return starts


class SentencePieceTokenizer(Tokenizer):
    def __init__(self, source_model: Path, target_model: Path):
        import sentencepiece as spm

        self._src = spm.SentencePieceProcessor(model_file=str(source_model))
        self._tgt = (
            self._src
            if Path(target_model) == Path(source_model)
            else spm.SentencePieceProcessor(model_file=str(target_model))
        )
        self.special_tokens = frozenset(
            self._tgt.id_to_piece(i)
            for i in range(self._tgt.get_piece_size())
            if self._tgt.is_control(i)
        ) | {"<pad>", "</s>", "<s>"}
        self._unk = self._tgt.unk_id()

    def is_special(self, token: str) -> bool:
        # tags the model knows but sentencepiece does not (T5's <extra_id_N>) are
        # added special tokens
        return super().is_special(token) or (
            token.startswith("<") and token.endswith(">") and token != "<unk>" and self._tgt.piece_to_id(token) == self._unk
        )

    def encode(self, text: str) -> list[str]:
        return self._src.encode(text, out_type=str)

    def decode(self, tokens: Sequence[str]) -> str:
        text = self._tgt.decode_pieces([t for t in tokens if not self.is_special(t)])
        # pieces outside the vocabulary come back verbatim, marker included
        return text.replace(SPM_SPACE, " ").strip() if SPM_SPACE in text else text



class HFTokenizer(Tokenizer):
    """A ``tokenizer.json`` (e.g. BART's byte-level BPE) through the tokenizers library."""

    space_markers = (BPE_SPACE, BPE_NEWLINE, SPM_SPACE)

    def __init__(self, path: Path):
        from tokenizers import Tokenizer as _Tok

        self._tok = _Tok.from_file(str(path))
        self.special_tokens = frozenset(
            tok.content for tok in self._tok.get_added_tokens_decoder().values() if tok.special
        )

    def encode(self, text: str) -> list[str]:
        return self._tok.encode(text, add_special_tokens=False).tokens

    def decode(self, tokens: Sequence[str]) -> str:
        ids = [self._tok.token_to_id(t) for t in tokens if t not in self.special_tokens]
        return self._tok.decode([i for i in ids if i is not None], skip_special_tokens=True).strip()



def _is_lang_token(tok: str) -> bool:
    """OPUS-MT ``>>deu<<``, M2M100 ``__de__``, NLLB ``deu_Latn``."""
    return (
        (tok.startswith(">>") and tok.endswith("<<"))
        or (tok.startswith("__") and tok.endswith("__") and len(tok) > 4)
        or (len(tok) == 8 and tok[3] == "_" and tok[:3].isalpha() and tok[:3].islower() and tok[4:].istitle())
    )


def load_tokenizer(model_dir: str | Path, manifest: ModelManifest) -> Tokenizer:
    root = Path(model_dir)
    spec = manifest.tokenizer
    missing = [f for f in {spec.source, spec.target_file} if not (root / f).is_file()]
    if missing:
        raise ModelError(f"Model {manifest.id!r} is incomplete: missing tokenizer file(s) {', '.join(sorted(missing))}")
    try:
        if spec.kind == "sentencepiece":
            return SentencePieceTokenizer(root / spec.source, root / spec.target_file)
        return HFTokenizer(root / spec.source)
    except Exception as exc:  # a corrupt file raises library-specific errors
        raise ModelError(f"Model {manifest.id!r}: cannot load tokenizer: {exc}") from None
