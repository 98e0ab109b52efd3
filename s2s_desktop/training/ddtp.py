"""Corpus builder for the Debian Description Translation Project (DDTP).

``apt`` keeps ``*_i18n_Translation-XX.lz4`` files under /var/lib/apt/lists when
``Acquire::Languages`` includes XX. Each record holds ``Description-md5`` and
``Description-XX``: the first line is a one-line synopsis, the following lines (one
leading space) the long description, paragraphs separated by lines holding " .".

Records pair across languages by Description-md5. From each pair we emit the synopsis
pair, paragraph pairs when paragraph counts match, and sentence pairs inside paragraphs
whose sentence counts match. For summarization, each English long description becomes a
``description -> synopsis`` pair; monolingual English paragraphs feed the denoising
autoencoder stage.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from s2s_desktop.training import CorpusError
from s2s_desktop.training.corpus import Pair, clean_pairs, normalize, write_tsv

DEFAULT_LISTS = "/var/lib/apt/lists"


@dataclass
class Description:
    md5: str
    package: str
    synopsis: str
    paragraphs: list[list[str]] = field(default_factory=list)  # each: list of raw lines

    def paragraph_texts(self) -> list[str]:
        return [_join(lines) for lines in self.paragraphs]


def _join(lines: list[str]) -> str:
    return normalize(" ".join(line.strip() for line in lines))


def read_translation_file(path: str | os.PathLike) -> str:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise CorpusError(f"Cannot read {p}: {exc.strerror or exc}") from None
    if p.suffix == ".lz4":
        try:
            import lz4.frame
        except ImportError:
            raise CorpusError("Reading .lz4 files needs the lz4 package: pip install lz4") from None
        try:
            raw = lz4.frame.decompress(raw)
        except RuntimeError as exc:
            raise CorpusError(f"{p} is not a valid lz4 file: {exc}") from None
    elif p.suffix in (".gz",):
        import gzip

        raw = gzip.decompress(raw)
    elif p.suffix in (".xz",):
        import lzma

        raw = lzma.decompress(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{p} is not UTF-8 text: {exc}") from None


def parse_translations(text: str, lang: str) -> Iterator[Description]:
    """Yield the records of one Translation-XX file (deb822 paragraphs)."""
    key = f"Description-{lang}:"
    for block in re.split(r"\n\s*\n", text):
        md5 = package = None
        synopsis = None
        body: list[str] = []
        in_desc = False
        for line in block.split("\n"):
            if line.startswith(" ") and in_desc:
                body.append(line)
                continue
            in_desc = False
            if line.startswith("Package:"):
                package = line.split(":", 1)[1].strip()
            elif line.startswith("Description-md5:"):
                md5 = line.split(":", 1)[1].strip()
            elif line.startswith(key):
                synopsis = line[len(key):].strip()
                in_desc = True
        if not md5 or synopsis is None:
            continue
        paragraphs: list[list[str]] = [[]]
        for line in body:
            if line.strip() == ".":
                paragraphs.append([])
            else:
                paragraphs[-1].append(line[1:])
        paragraphs = [p for p in paragraphs if any(x.strip() for x in p)]
        yield Description(md5, package or "", normalize(synopsis), paragraphs)


def load_language(lists_dir: str | os.PathLike, lang: str) -> dict[str, Description]:
    files = sorted(glob.glob(os.path.join(str(lists_dir), f"*_i18n_Translation-{lang}*")))
    files = [f for f in files if not f.endswith((".diff", ".IndexDiff"))]
    if not files:
        raise CorpusError(
            f"No Translation-{lang} files under {lists_dir}; run "
            f"`apt-get -o Acquire::Languages=en,{lang} update` first (a plain `apt-get update` deletes them; "
            "copy them elsewhere and pass --lists DIR to keep them)"
        )
    out: dict[str, Description] = {}
    for f in files:
        for d in parse_translations(read_translation_file(f), lang):
            out.setdefault(d.md5, d)
    return out


_BULLET = re.compile(r"^\s*([*+\-o•]|\d+[.)])\s+")
# A sentence ends at . ! ? followed by space and an upper-case letter/digit/quote;
# common abbreviations are protected.
_ABBREV = re.compile(r"\b(e\.g|i\.e|etc|vs|z\.B|d\.h|u\.a|bzw|ca|usw|Dr|Mr|Nr|bzw|incl|approx|resp|sog|ggf|evtl)\.$", re.I)
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[\"'„“(\[]?[A-ZÄÖÜ0-9])")


def split_units(lines: list[str]) -> list[str]:
    """Split a paragraph into bullet items, then sentences."""
    items: list[list[str]] = []
    for line in lines:
        if _BULLET.match(line) or not items:
            items.append([line])
        else:
            items[-1].append(line)
    units: list[str] = []
    for item in items:
        text = _join(item)
        units.extend(split_sentences(text))
    return [u for u in units if u]


def split_sentences(text: str) -> list[str]:
    parts = _SENT_END.split(text)
    out: list[str] = []
    for part in parts:
        if out and _ABBREV.search(out[-1]):
            out[-1] = out[-1] + " " + part
        else:
            out.append(part)
    return [p.strip() for p in out if p.strip()]


def pair_descriptions(english: dict[str, Description], other: dict[str, Description]) -> Iterator[Pair]:
    """Synopsis, paragraph and sentence pairs (English first) for shared md5s."""
    for md5, tr in other.items():
        en = english.get(md5)
        if en is None:
            continue
        paras_en = en.paragraphs
        group = _group_key(en)
        yield Pair(en.synopsis, tr.synopsis, group)
        if len(paras_en) != len(tr.paragraphs):
            continue
        for pe, pt in zip(paras_en, tr.paragraphs):
            te, tt = _join(pe), _join(pt)
            ue, ut = split_units(pe), split_units(pt)
            if len(ue) == len(ut):
                for a, b in zip(ue, ut):
                    yield Pair(a, b, group)
            else:
                # sentences do not align: the whole paragraph is the training unit
                # (the length filter drops the very long ones)
                yield Pair(te, tt, group)


def _group_key(d: Description) -> str:
    """Sibling packages (foo, foo-data, foo-doc) share their first paragraph."""
    first = d.paragraph_texts()[0] if d.paragraphs else d.synopsis
    return "g" + format(abs(hash_text(first)) % (1 << 48), "x")


def hash_text(text: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.blake2b(text.lower().encode(), digest_size=8).digest(), "big")


def summary_pairs(english: dict[str, Description], *, min_words: int = 25, max_words: int = 300) -> Iterator[Pair]:
    """Long English description -> its synopsis."""
    for d in english.values():
        text = " ".join(d.paragraph_texts())
        words = len(text.split())
        if min_words <= words <= max_words and len(d.synopsis.split()) >= 2:
            yield Pair(text, d.synopsis, _group_key(d))


def monolingual_paragraphs(english: dict[str, Description], *, min_words: int = 8) -> Iterator[tuple[str, str]]:
    """(paragraph, group) for the denoising-autoencoder stage."""
    seen: set[str] = set()
    for d in english.values():
        group = _group_key(d)
        for p in d.paragraph_texts():
            if len(p.split()) >= min_words and p not in seen:
                seen.add(p)
                yield p, group


def build_ddtp_corpus(
    out_dir: str | os.PathLike,
    *,
    lists_dir: str | os.PathLike = DEFAULT_LISTS,
    languages: Iterable[str] = ("de",),
    log=print,
) -> dict[str, Path]:
    """Write ``ddtp-en-XX.tsv`` per language, ``ddtp-summarize-en.tsv`` and
    ``ddtp-mono-en.tsv`` (paragraph<TAB>paragraph<TAB>group) into out_dir."""
    out = Path(out_dir)
    english = load_language(lists_dir, "en")
    log(f"English descriptions: {len(english)}")
    written: dict[str, Path] = {}
    for lang in languages:
        other = load_language(lists_dir, lang)
        pairs = clean_pairs(pair_descriptions(english, other), max_words=120, drop_identical=True)
        if not pairs:
            raise CorpusError(f"No English–{lang} pairs found (descriptions share no md5)")
        path = out / f"ddtp-en-{lang}.tsv"
        write_tsv(pairs, path, with_group=True)
        log(f"{path}: {len(pairs)} pairs from {len(other)} {lang} descriptions")
        written[f"en-{lang}"] = path
    summ = clean_pairs(summary_pairs(english), max_words=300, max_ratio=1e9, drop_identical=True)
    path = out / "ddtp-summarize-en.tsv"
    write_tsv(summ, path, with_group=True)
    log(f"{path}: {len(summ)} description→synopsis pairs")
    written["summarize-en"] = path
    mono = [Pair(p, p, g) for p, g in monolingual_paragraphs(english)]
    path = out / "ddtp-mono-en.tsv"
    write_tsv(mono, path, with_group=True)
    log(f"{path}: {len(mono)} English paragraphs (denoising autoencoder)")
    written["mono-en"] = path
    return written
