"""Parallel corpora: reading (TSV or two line-aligned files), cleaning, splitting.

A TSV line is ``source<TAB>target`` with an optional third column, a *group* key:
pairs sharing a group always land in the same split (the DDTP builder uses it so that
near-identical descriptions of sibling packages never straddle train and test).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from s2s_desktop.training import CorpusError


@dataclass(frozen=True)
class Pair:
    source: str
    target: str
    group: str = ""


@dataclass
class CleanStats:
    read: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1

    def summary(self) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.dropped.items(), key=lambda kv: -kv[1]))
        return f"{self.kept} of {self.read} pairs kept" + (f" (dropped: {parts})" if parts else "")


def _read_lines(path: str | os.PathLike) -> list[str]:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise CorpusError(f"Corpus file {p} does not exist") from None
    except IsADirectoryError:
        raise CorpusError(f"Corpus file {p} is a directory") from None
    except OSError as exc:
        raise CorpusError(f"Cannot read corpus file {p}: {exc.strerror or exc}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CorpusError(
            f"{p} is not UTF-8 text (invalid byte 0x{data[exc.start]:02x} on line {line}); "
            "convert it first, e.g. `iconv -f latin1 -t utf-8`"
        ) from None
    if "\x00" in text[:4096]:
        raise CorpusError(f"{p} looks like a binary file, not a text corpus")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def read_tsv(path: str | os.PathLike) -> list[Pair]:
    """Read ``source<TAB>target[<TAB>group]`` lines; blank lines are skipped."""
    pairs: list[Pair] = []
    bad = 0
    first_bad = 0
    for number, line in enumerate(_read_lines(path), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 2:
            bad += 1
            first_bad = first_bad or number
            continue
        pairs.append(Pair(cols[0], cols[1], cols[2] if len(cols) > 2 else ""))
    if not pairs:
        hint = f" (line {first_bad} has no TAB)" if first_bad else ""
        raise CorpusError(f"{path} holds no source<TAB>target pairs{hint}")
    return pairs


def read_parallel(source_path: str | os.PathLike, target_path: str | os.PathLike) -> list[Pair]:
    """Read two line-aligned files (line N of one translates line N of the other)."""
    src = _read_lines(source_path)
    tgt = _read_lines(target_path)
    if len(src) != len(tgt):
        raise CorpusError(
            f"Line counts differ: {source_path} has {len(src)} lines, {target_path} has {len(tgt)}; "
            "the two files must be line-aligned"
        )
    if not src:
        raise CorpusError(f"{source_path} and {target_path} are empty")
    return [Pair(s, t) for s, t in zip(src, tgt)]


def read_corpus(path: str | os.PathLike, target_path: str | os.PathLike | None = None) -> list[Pair]:
    return read_parallel(path, target_path) if target_path else read_tsv(path)


_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def normalize(text: str) -> str:
    """NFC, no control characters, single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def _garbage(text: str) -> bool:
    letters = sum(ch.isalpha() for ch in text)
    return letters == 0 or letters < 0.4 * len(text.replace(" ", ""))


def clean_pairs(
    pairs: Iterable[Pair],
    *,
    min_words: int = 1,
    max_words: int = 150,
    max_ratio: float = 3.0,
    drop_identical: bool = True,
    stats: CleanStats | None = None,
) -> list[Pair]:
    """Normalize, drop empty/garbage/too long/badly proportioned pairs and duplicates.

    The length ratio is checked on characters for pairs longer than 20 characters (word
    counts mislead for compounds). Identical source and target (untranslated text) are
    dropped when longer than three words.
    """
    stats = stats if stats is not None else CleanStats()
    seen: set[tuple[str, str]] = set()
    out: list[Pair] = []
    for pair in pairs:
        stats.read += 1
        s, t = normalize(pair.source), normalize(pair.target)
        if not s or not t:
            stats.drop("empty")
            continue
        if _garbage(s) or _garbage(t):
            stats.drop("garbage")
            continue
        ws, wt = len(s.split()), len(t.split())
        if min(ws, wt) < min_words or max(ws, wt) > max_words:
            stats.drop("length")
            continue
        if max(len(s), len(t)) > 20 and max(len(s), len(t)) > max_ratio * min(len(s), len(t)):
            stats.drop("ratio")
            continue
        if drop_identical and s == t and ws > 3:
            stats.drop("identical")
            continue
        key = (s, t)
        if key in seen:
            stats.drop("duplicate")
            continue
        seen.add(key)
        out.append(Pair(s, t, pair.group))
        stats.kept += 1
    return out


def split_key(pair: Pair, seed: int = 0) -> float:
    """A stable number in [0, 1) from the pair's group (or source text)."""
    key = f"{seed}:{pair.group or pair.source}".encode("utf-8")
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2**64


def split_pairs(
    pairs: list[Pair], *, dev: int | float = 500, test: int | float = 1000, seed: int = 0
) -> tuple[list[Pair], list[Pair], list[Pair]]:
    """Deterministic train/dev/test split by hashed group; sizes are counts or fractions.

    Whole groups move together, so dev/test sizes are approximate (never exceeded by more
    than one group). Order inside each split follows the input order.
    """
    n = len(pairs)
    want_dev = int(dev * n) if isinstance(dev, float) and dev < 1 else int(dev)
    want_test = int(test * n) if isinstance(test, float) and test < 1 else int(test)
    if n - want_dev - want_test < max(1, n // 2):
        # small corpus: keep at least half for training
        scale = (n // 2) / max(1, want_dev + want_test)
        want_dev, want_test = int(want_dev * scale), int(want_test * scale)
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(pairs):
        groups.setdefault(p.group or p.source, []).append(i)
    order = sorted(groups, key=lambda g: split_key(Pair(g, "", g), seed))
    test_idx: set[int] = set()
    dev_idx: set[int] = set()
    for g in order:
        members = groups[g]
        if len(test_idx) < want_test:
            test_idx.update(members)
        elif len(dev_idx) < want_dev:
            dev_idx.update(members)
        else:
            break
    train = [p for i, p in enumerate(pairs) if i not in test_idx and i not in dev_idx]
    return train, [pairs[i] for i in sorted(dev_idx)], [pairs[i] for i in sorted(test_idx)]


def write_tsv(pairs: Iterable[Pair], path: str | os.PathLike, *, with_group: bool = False) -> int:
    """Write pairs atomically; raises CorpusError with a clear message on a full disk."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    count = 0
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            for pair in pairs:
                cols = [pair.source.replace("\t", " "), pair.target.replace("\t", " ")]
                if with_group and pair.group:
                    cols.append(pair.group)
                handle.write("\t".join(cols) + "\n")
                count += 1
        os.replace(tmp, p)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise disk_error(exc, p) from None
    return count


def disk_error(exc: OSError, path) -> CorpusError:
    if exc.errno == errno.ENOSPC:
        return CorpusError(f"Disk full while writing {path}: free some space and run the command again")
    return CorpusError(f"Cannot write {path}: {exc.strerror or exc}")


def iter_sources(pairs: Iterable[Pair]) -> Iterator[str]:
    for p in pairs:
        yield p.source
