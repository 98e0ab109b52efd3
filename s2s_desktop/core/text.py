"""Text pipeline: user text -> translatable sentences -> translated text, layout intact.

``segment_text`` cuts a text into a flat list of :class:`Segment` s whose texts, joined,
give back the input exactly. Translatable segments are single sentences (stripped, with at
least one letter); everything else (newlines, blank lines, indentation, list/heading/quote
markers, table pipes, tabs, whitespace between sentences, runs without a letter such as
``2024`` or ``---``) is kept verbatim in non-translatable segments. A sentence stays on
one line unless the text is hard-wrapped prose (an e-mail, text copied out of a PDF): then
a sentence may span the wrap, and ``unwrap`` gives the one-line text to feed a model.
``reassemble`` swaps in translations and keeps the rest.

``split_sentences`` is the layout-blind variant for summarization, and ``split_long``
cuts a sentence that is longer than a model's limit into pieces that fit.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import sentencex

__all__ = ["Segment", "segment_text", "reassemble", "split_sentences", "split_long", "unwrap"]


@dataclass(frozen=True)
class Segment:
    text: str
    translatable: bool


# --------------------------------------------------------------------------- language

# ISO 639-2/3 (as used by NLLB/M2M codes like "deu_Latn") -> ISO 639-1 for sentencex.
_ISO3_TO_1 = {
    "afr": "af", "amh": "am", "ara": "ar", "arb": "ar", "arz": "ar", "ary": "ar",
    "asm": "as", "ast": "ast", "aze": "az", "azj": "az", "azb": "az", "bel": "be",
    "ben": "bn", "bod": "bo", "tib": "bo", "bos": "bs", "bre": "br", "bul": "bg",
    "cat": "ca", "ces": "cs", "cze": "cs", "cym": "cy", "wel": "cy", "dan": "da",
    "deu": "de", "ger": "de", "ell": "el", "gre": "el", "eng": "en", "epo": "eo",
    "est": "et", "ekk": "et", "eus": "eu", "baq": "eu", "fao": "fo", "fas": "fa",
    "per": "fa", "pes": "fa", "prs": "fa", "fin": "fi", "fra": "fr", "fre": "fr",
    "fry": "fy", "gla": "gd", "gle": "ga", "glg": "gl", "guj": "gu", "hat": "ht",
    "hau": "ha", "heb": "he", "hin": "hi", "hrv": "hr", "hun": "hu", "hye": "hy",
    "arm": "hy", "ibo": "ig", "ind": "id", "isl": "is", "ice": "is", "ita": "it",
    "jav": "jv", "jpn": "ja", "kan": "kn", "kat": "ka", "geo": "ka", "kaz": "kk",
    "khm": "km", "kin": "rw", "kir": "ky", "kor": "ko", "kmr": "ku", "kur": "ku",
    "lao": "lo", "lat": "la", "lav": "lv", "lvs": "lv", "lit": "lt", "ltz": "lb",
    "mal": "ml", "mar": "mr", "mkd": "mk", "mac": "mk", "mlt": "mt", "mon": "mn",
    "khk": "mn", "mri": "mi", "mao": "mi", "msa": "ms", "may": "ms", "zsm": "ms",
    "mya": "my", "bur": "my", "nep": "ne", "npi": "ne", "nld": "nl", "dut": "nl",
    "nno": "nn", "nob": "nb", "nor": "no", "oci": "oc", "ori": "or", "ory": "or",
    "pan": "pa", "pol": "pl", "por": "pt", "pus": "ps", "pbt": "ps", "ron": "ro",
    "rum": "ro", "rus": "ru", "sin": "si", "slk": "sk", "slo": "sk", "slv": "sl",
    "snd": "sd", "som": "so", "spa": "es", "sqi": "sq", "alb": "sq", "als": "sq",
    "srp": "sr", "sun": "su", "swa": "sw", "swh": "sw", "swe": "sv", "tam": "ta",
    "tat": "tt", "tel": "te", "tgk": "tg", "tgl": "tl", "fil": "tl", "tha": "th",
    "tur": "tr", "uig": "ug", "ukr": "uk", "urd": "ur", "uzb": "uz", "uzn": "uz",
    "vie": "vi", "xho": "xh", "yid": "yi", "ydd": "yi", "yor": "yo", "yue": "zh",
    "zho": "zh", "chi": "zh", "cmn": "zh", "zul": "zu",
}


@functools.lru_cache(maxsize=256)
def _segmenter_lang(lang: str | None) -> str:
    """Map any language tag ("de", "de-AT", "zh-Hant", "deu_Latn", None, junk) to a
    code sentencex accepts, falling back to "en". Cached: the probe call runs once."""
    if not isinstance(lang, str):
        return "en"
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    if len(code) == 3:
        code = _ISO3_TO_1.get(code, code)
    if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha()):
        return "en"
    try:
        list(sentencex.segment(code, "Probe one. Probe two."))
    except Exception:  # a code the native segmenter chokes on
        return "en"
    return code


def _sentencex(lang: str, text: str) -> list[str]:
    return list(sentencex.segment(lang, text))


# --------------------------------------------------------------------------- patterns

# Line breaks other than "\n" (which splits lines): kept verbatim, never inside a sentence.
_SUBLINE_SPLIT = re.compile("([\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+)")

_ROMAN = (
    r"(?:(?=[ivxlc])(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
    r"|(?=[IVXLC])(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3}))"
)
_ENUM = r"(?:\d{1,9}(?:\.\d{1,9})*|[^\W\d_]|" + _ROMAN + r")"
_MARKER = (
    r"(?:"
    r">+"  # blockquote, possibly nested (">>", "> >")
    r"|\#{1,6}(?=\s)"  # markdown heading
    r"|[-*+\u2022\u2023\u25e6\u25aa\u25ab\u25cf\u25cb\u25a0\u25a1\u25c6\u25c7"
    r"\u25ba\u25b8\u25b9\u2013\u2014\u00b7\u2043\u2219](?=\s)"  # bullets
    r"|\[[ xX]\](?=\s)"  # task-list checkbox
    r"|\(" + _ENUM + r"\)(?=\s)"  # (1) (a) (iv)
    r"|" + _ENUM + r"\)(?=\s)"  # 1) a) iv)
    # 1. 2.3. a. IV. -- but not the first of several initials/abbreviations ("z. B.")
    r"|" + _ENUM + r"\.(?=\s)(?!\s*[^\W\d_]\.)"
    r")"
)
# Indentation followed by any number of structural markers at the start of a line.
_PREFIX = re.compile(r"\s*(?:" + _MARKER + r"\s*)*")

# Table cells / tab-separated columns are translated separately.
_CELL_SPLIT = re.compile(r"([|\t])")

# Leading / trailing whitespace-separated tokens of pure markup ("## Title ##", "| a").
_MARKUP_CHARS = frozenset("#*=~_|+-")
_LEAD_MARKUP = re.compile(r"(?:[#*=~_|+\-]+\s+)+")


def _trailing_markup_start(text: str, start: int, end: int) -> int:
    """End of ``text[start:end]`` once trailing whitespace-separated markup tokens are
    peeled off (``text[start:end]`` is stripped and contains a letter)."""
    while True:
        k = end
        while k > start and text[k - 1] in _MARKUP_CHARS:
            k -= 1
        if k == end or k == start or not text[k - 1].isspace():
            return end
        while text[k - 1].isspace():
            k -= 1
        end = k


def _has_letter(s: str) -> bool:
    return any(c.isalpha() for c in s)


# --------------------------------------------------------------------------- segment_text


class _Builder:
    """Collects segments, merging neighbouring non-translatable text and dropping empties."""

    __slots__ = ("segments", "_pending")

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self._pending: list[str] = []

    def keep(self, text: str) -> None:
        if text:
            self._pending.append(text)

    def sentence(self, text: str) -> None:
        self._flush()
        self.segments.append(Segment(text, True))

    def piece(self, text: str) -> None:
        """A stretch holding at most one sentence: peel its whitespace and markup off."""
        core = text.strip()
        if not core or not _has_letter(core):
            self.keep(text)
            return
        start = text.find(core)
        end = start + len(core)
        m = _LEAD_MARKUP.match(text, start, end)
        if m:
            start = m.end()
        end = _trailing_markup_start(text, start, end)
        self.keep(text[:start])
        self.sentence(text[start:end])
        self.keep(text[end:])

    def _flush(self) -> None:
        if self._pending:
            self.segments.append(Segment("".join(self._pending), False))
            self._pending.clear()

    def result(self) -> list[Segment]:
        self._flush()
        return self.segments


def _split_cell(cell: str, lang: str) -> list[str]:
    """Cut ``cell`` (one line or one wrapped paragraph, no markers) into consecutive
    stretches, each holding at most one sentence; they concatenate to ``cell`` exactly."""
    # A wrapped paragraph's line breaks are spaces to the segmenter; same length, so
    # positions found in ``flat`` are positions in ``cell``.
    flat = cell.translate(_FLATTEN)
    try:
        sentences = _sentencex(lang, flat)
    except Exception:
        return [cell]
    pieces: list[str] = []
    pos = 0
    for sentence in sentences:
        core = sentence.strip()
        if not core:
            continue
        # Locate by position in the original so nothing is lost even if the
        # segmenter normalised something; give up on the cell if it cannot.
        found = flat.find(core, pos)
        if found < 0:
            return [cell]
        if found > pos:
            pieces.append(cell[pos:found])
        pos = found + len(core)
        pieces.append(cell[found:pos])
    if pos < len(cell):
        pieces.append(cell[pos:])
    return pieces


def _segment_line(line: str, lang: str, out: _Builder) -> None:
    for k, sub in enumerate(_SUBLINE_SPLIT.split(line)):
        if k % 2:  # "\r", form feed, U+2028 ...
            out.keep(sub)
            continue
        if not _has_letter(sub):
            out.keep(sub)
            continue
        prefix_end = _PREFIX.match(sub).end()
        out.keep(sub[:prefix_end])
        for j, cell in enumerate(_CELL_SPLIT.split(sub[prefix_end:])):
            if j % 2 or not _has_letter(cell):
                out.keep(cell)
                continue
            for piece in _split_cell(cell, lang):
                out.piece(piece)


def _segment_wrapped(lines: list[str], lang: str, out: _Builder) -> None:
    """Lines of one hard-wrapped paragraph: the first line's markers are kept, the rest
    is segmented as one text, so a sentence may run across the line breaks."""
    prefix_end = _PREFIX.match(lines[0]).end()
    out.keep(lines[0][:prefix_end])
    for piece in _split_cell("\n".join([lines[0][prefix_end:], *lines[1:]]), lang):
        out.piece(piece)


def segment_text(text: str, lang: str | None = None, *, join_wrapped: bool = True) -> list[Segment]:
    """Cut ``text`` into segments; ``"".join(s.text for s in result) == text`` always.

    Translatable segments are single sentences: no surrounding whitespace, at least one
    letter, and no line break inside except where ``join_wrapped`` found a hard-wrapped
    paragraph (see ``_wrap_joins``) -- then only ``\n`` / ``\r\n``. Neighbouring
    non-translatable text is merged, and no segment is empty (the empty text gives an
    empty list).
    """
    seg_lang = _segmenter_lang(lang)
    out = _Builder()
    lines = text.split("\n")
    joins = _wrap_joins(lines) if join_wrapped else set()
    i = 0
    while i < len(lines):
        if i:
            out.keep("\n")
        j = i
        while j in joins:
            j += 1
        if j == i:
            _segment_line(lines[i], seg_lang, out)
        else:
            _segment_wrapped(lines[i : j + 1], seg_lang, out)
        i = j + 1
    return out.result()


# --------------------------------------------------------------------------- hard wraps

_FLATTEN = str.maketrans("\r\n", "  ")
_CLOSERS = ")]}\"'\u00bb\u201d\u2019"
_SENTENCE_END = frozenset(".!?:\u2026\u3002\uff01\uff1f\uff0e\uff1a")
WRAP_WIDTH_SHARE = 0.6  # a line shorter than this share of its block's longest ends on purpose


def _drop_cr(line: str) -> str:
    return line[:-1] if line.endswith("\r") else line


def _joinable(prev: str, nxt: str) -> bool:
    """Could ``nxt`` continue ``prev``'s sentence? Only plain text lines qualify: no table
    cells, no other line separators, no heading or quote on ``prev``, no marker on
    ``nxt`` (a list item's indented continuation qualifies)."""
    prev, nxt = _drop_cr(prev), _drop_cr(nxt)
    if _SUBLINE_SPLIT.search(prev) or _SUBLINE_SPLIT.search(nxt) or _CELL_SPLIT.search(prev) or _CELL_SPLIT.search(nxt):
        return False
    prev_end = _PREFIX.match(prev).end()
    if "#" in prev[:prev_end] or ">" in prev[:prev_end] or not _has_letter(prev[prev_end:]):
        return False
    next_end = _PREFIX.match(nxt).end()
    return not nxt[:next_end].strip() and _has_letter(nxt[next_end:])


def _ends_open(line: str) -> bool:
    """The line does not end a sentence (no final punctuation, closing quotes aside)."""
    content = _drop_cr(line).rstrip().rstrip(_CLOSERS)
    return bool(content) and content[-1] not in _SENTENCE_END


def _starts_lower(line: str) -> bool:
    content = line.lstrip()
    return bool(content) and content[0].islower()


def _width(line: str) -> int:
    return len(_drop_cr(line).rstrip())


def _wrap_joins(lines: list[str]) -> set[int]:
    """Indices ``i`` where line ``i + 1`` continues the sentence of line ``i``.

    A block is a run of plain lines (``_joinable`` pairs). Line ``i`` is joined to the
    next when it ends open (no final punctuation), is long for its block (a wrapped line
    fills most of the width; a short line -- a salutation, a title, a verse -- ends
    where its writer ended it), and either the next line starts in lower case or the
    block shows that it is wrapped prose (some open line followed by a lower-case one:
    German nouns start in upper case, so one lower-case continuation vouches for the
    rest). Verse, addresses and lists of names show no such evidence and stay as typed.
    """
    joins: set[int] = set()
    i, n = 0, len(lines)
    while i < n - 1:
        j = i
        while j < n - 1 and _joinable(lines[j], lines[j + 1]):
            j += 1
        if j > i:
            width = max(_width(lines[k]) for k in range(i, j + 1))
            open_ = {k: _ends_open(lines[k]) for k in range(i, j)}
            lower = {k: _starts_lower(lines[k + 1]) for k in range(i, j)}
            prose = any(open_[k] and lower[k] for k in range(i, j))
            for k in range(i, j):
                if open_[k] and _width(lines[k]) >= WRAP_WIDTH_SHARE * width and (lower[k] or prose):
                    joins.add(k)
        i = j + 1
    return joins


def unwrap(sentence: str) -> str:
    """The one-line text of a sentence for a model: each line break and the
    indentation around it become one space (a no-op for one-line sentences)."""
    if "\n" not in sentence and "\r" not in sentence:
        return sentence
    return re.sub(r"[ \t]*\r?\n[ \t]*", " ", sentence)


# --------------------------------------------------------------------------- reassemble

_JOIN_AFTER = frozenset(".!?;:,)\"'\u00bb\u201d\u2019\u2026")


def reassemble(segments: Sequence[Segment], translations: Mapping[int, str]) -> str:
    """Put translations back: ``translations`` maps the index (in ``segments``) of a
    translatable segment to its translation; other segments keep their own text.

    Translations are stripped so the layout comes only from the kept segments. Where
    two translated sentences touch with nothing between them (scripts written without
    spaces, e.g. Chinese source) and the first ends in Latin-style punctuation, one
    space is put between them. With no translations the result is the original text.
    """
    parts: list[str] = []
    prev_translated = False
    for i, seg in enumerate(segments):
        new = translations.get(i) if seg.translatable else None
        if new is None:
            parts.append(seg.text)
            prev_translated = False
            continue
        new = new.strip()
        if prev_translated and parts and parts[-1] and parts[-1][-1] in _JOIN_AFTER and new:
            parts.append(" ")
        parts.append(new)
        prev_translated = True
    return "".join(parts)


# --------------------------------------------------------------------------- split_sentences

_WS_RUN = re.compile(r"\s+")
_LINE_BREAKS = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def split_sentences(text: str, lang: str | None = None) -> list[str]:
    """Sentences of a document, ignoring layout (for summarization).

    Blank lines and lines of pure markup ("---") end a paragraph; list items, headings
    and table rows stand on their own; other hard-wrapped lines of a paragraph are
    joined with a space. Markers are dropped, inner whitespace runs become one space,
    and sentences without any letter or digit are left out.
    """
    seg_lang = _segmenter_lang(lang)
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            blocks.append(" ".join(current))
            current.clear()

    for raw in _LINE_BREAKS.split(text):
        prefix_end = _PREFIX.match(raw).end()
        marker = raw[:prefix_end].replace(">", "").strip()
        content = raw[prefix_end:].strip()
        if not any(c.isalnum() for c in content):  # blank, ">" alone, "---", "***"
            flush()
            continue
        if content.startswith("|"):  # table row: every cell on its own
            flush()
            blocks.extend(cell for cell in content.split("|") if cell.strip())
            continue
        if marker:  # list item or heading starts a new block
            flush()
        current.append(content)
        if "#" in marker:  # a heading is a block of its own
            flush()
    flush()

    sentences: list[str] = []
    for block in blocks:
        block = _WS_RUN.sub(" ", block).strip()
        try:
            parts = _sentencex(seg_lang, block)
        except Exception:
            parts = [block]
        for part in parts:
            part = part.strip()
            if part and any(c.isalnum() for c in part):
                sentences.append(part)
    return sentences


# --------------------------------------------------------------------------- split_long

_BREAK_CHARS = frozenset(",;:\u2013\u2014)]\u2026\uff0c\uff1b\uff1a\uff09\u3001")
_CLOSERS = "\"'\u00bb\u201d\u2019"


def _breaks_after(word: str) -> bool:
    w = word.rstrip(_CLOSERS)
    return bool(w) and w[-1] in _BREAK_CHARS


def _is_glue(ch: str) -> bool:
    """Characters a chunk must not start with (they belong to the previous one)."""
    return (
        unicodedata.combining(ch) != 0
        or ch in "\u200d\u200c"
        or "\ufe00" <= ch <= "\ufe0f"
        or "\U0001f3fb" <= ch <= "\U0001f3ff"  # skin-tone modifiers
    )


def _split_word(word: str, count_tokens: Callable[[str], int], limit: int) -> list[str]:
    """Split a single word that alone exceeds ``limit`` by characters."""
    n = len(word)
    total = max(count_tokens(word), 1)
    step = max(1, n * limit // total)
    chunks: list[str] = []
    pos = 0
    while pos < n:
        size = min(step, n - pos)
        while True:
            # Keep combining marks / joiners with their base character if possible.
            cut = size
            while cut > 1 and pos + cut < n and (
                _is_glue(word[pos + cut]) or word[pos + cut - 1] == "\u200d"
            ):
                cut -= 1
            chunk = word[pos : pos + cut]
            c = count_tokens(chunk)
            if c <= limit or cut == 1:
                break  # a single character over the limit cannot be helped
            size = max(1, min(cut - 1, cut * limit // c))
        chunks.append(chunk)
        pos += cut
    return chunks


def _fit(piece: str, count_tokens: Callable[[str], int], limit: int) -> list[str]:
    """Check a piece with the real count; halve it at a good break while it is too long."""
    if count_tokens(piece) <= limit:
        return [piece]
    words = piece.split()
    if len(words) == 1:
        return _split_word(words[0], count_tokens, limit)
    n = len(words)
    mid = n // 2
    cut = mid
    lo, hi = max(1, n // 4), min(n - 1, (3 * n) // 4)
    best = None
    for k in range(lo, hi + 1):
        if _breaks_after(words[k - 1]) and (best is None or abs(k - mid) < abs(best - mid)):
            best = k
    if best is not None:
        cut = best
    return _fit(" ".join(words[:cut]), count_tokens, limit) + _fit(
        " ".join(words[cut:]), count_tokens, limit
    )


def split_long(sentence: str, count_tokens: Callable[[str], int], limit: int) -> list[str]:
    """Split ``sentence`` into pieces with ``count_tokens(piece) <= limit`` each.

    Returns ``[sentence]`` if it fits. Otherwise words are packed greedily, breaking
    preferably after , ; : – — ) (if that keeps at least half of the piece), else at
    whitespace; a word that alone exceeds the limit is split by characters. Pieces are
    stripped and ``" ".join(pieces)`` equals the sentence up to whitespace. Each word is
    counted once; the finished pieces are checked with ``count_tokens`` and halved where
    the per-word estimate was too low. Only a single character that alone exceeds the
    limit can yield a piece over it.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if count_tokens(sentence) <= limit:
        return [sentence]
    words = sentence.split()
    if not words:
        return []
    # Per-call overhead (e.g. an end-of-sentence token) is paid once per piece, not per word.
    try:
        base = max(0, int(count_tokens("")))
    except Exception:
        base = 0
    base = min(base, limit - 1)
    budget = limit - base

    groups: list[list[str]] = []
    cur: list[str] = []
    cur_costs: list[int] = []
    cur_cost = 0
    brk = 0  # cur[:brk] ends after a preferred break character (0: none)
    brk_cost = 0

    def rescan() -> None:
        nonlocal brk, brk_cost
        brk, brk_cost, acc = 0, 0, 0
        for k, (w, c) in enumerate(zip(cur, cur_costs), 1):
            acc += c
            if _breaks_after(w):
                brk, brk_cost = k, acc

    for word in words:
        whole = count_tokens(word)
        if whole > limit:
            if cur:
                groups.append(cur)
                cur, cur_costs, cur_cost, brk, brk_cost = [], [], 0, 0, 0
            groups.extend([chunk] for chunk in _split_word(word, count_tokens, limit))
            continue
        cost = max(0, whole - base)
        while cur and cur_cost + cost > budget:
            if 0 < brk < len(cur) and brk_cost * 2 >= cur_cost:
                groups.append(cur[:brk])
                cur, cur_costs = cur[brk:], cur_costs[brk:]
                cur_cost -= brk_cost
                rescan()
            else:
                groups.append(cur)
                cur, cur_costs, cur_cost, brk, brk_cost = [], [], 0, 0, 0
        cur.append(word)
        cur_costs.append(cost)
        cur_cost += cost
        if _breaks_after(word):
            brk, brk_cost = len(cur), cur_cost
    if cur:
        groups.append(cur)

    pieces: list[str] = []
    for group in groups:
        pieces.extend(_fit(" ".join(group), count_tokens, limit))
    return pieces
