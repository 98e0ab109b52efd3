"""Read documents (.txt, .md, .html, .pdf, .docx) into plain text for translation.

Every problem with the input surfaces as a :class:`DocumentError` whose message names the
file and says what is wrong; cancellation surfaces as :class:`Cancelled`.

The parsing itself is left to well-kept libraries: charset-normalizer (text encodings),
BeautifulSoup (HTML), pypdf (PDF) and python-docx (Word). This module only turns their
output into readable paragraphs: blocks separated by a blank line, list items prefixed
with ``"- "``, table rows on one line with cells separated by ``" | "``.
"""

from __future__ import annotations

import codecs
import io
import logging
import math
import re
import stat
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

from s2s_desktop.core.errors import Cancelled, DocumentError
from s2s_desktop.core.jobs import CancelToken, check

__all__ = ["SUPPORTED_EXTENSIONS", "MAX_BYTES", "Document", "read_document"]

SUPPORTED_EXTENSIONS = {".txt", ".text", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}
MAX_BYTES = 50 * 1024 * 1024

_FORMAT_BY_EXTENSION = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}

# Extensions we know we cannot read: refused at once instead of being sniffed.
_UNSUPPORTED_EXTENSIONS = {
    ".doc", ".dot", ".rtf", ".odt", ".ott", ".ods", ".odp", ".pages", ".wpd",
    ".xls", ".xlsx", ".xlsm", ".ppt", ".pptx", ".key", ".numbers",
    ".epub", ".mobi", ".azw", ".azw3", ".djvu", ".xps", ".oxps", ".ps", ".eps",
    ".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".zst",
    ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".svg", ".ico",
    ".mp3", ".wav", ".flac", ".ogg", ".m4a", ".aac", ".mp4", ".mkv", ".avi", ".mov", ".webm",
    ".exe", ".dll", ".so", ".dylib", ".bin", ".iso", ".dmg", ".msi", ".apk", ".jar", ".class",
    ".pyc", ".o", ".a", ".sqlite", ".db",
}

_MIB = 1024 * 1024


@dataclass
class Document:
    path: Path
    text: str
    format: str  # "text" | "markdown" | "html" | "pdf" | "docx"
    encoding: str | None  # detected encoding for text formats (and HTML), else None
    pages: int | None  # PDF page count, else None
    warnings: list[str] = field(default_factory=list)


def read_document(
    path,
    *,
    max_bytes: int = MAX_BYTES,
    on_progress: Callable[[int, int], None] | None = None,
    cancel: CancelToken | None = None,
) -> Document:
    """Read ``path`` and return its text.

    ``on_progress(done, total)`` is called after each PDF page (``(page, pages)``); other
    formats report ``(1, 1)`` once they are done. ``cancel`` is checked before reading and
    between pages; a cancelled read raises :class:`Cancelled`.
    """
    p = Path(path)
    check(cancel)
    size = _stat_regular_file(p)
    ext = p.suffix.lower()
    if ext in _UNSUPPORTED_EXTENSIONS:
        raise DocumentError(p, f"'{ext}' files are not supported ({_supported_list()})")
    if size == 0:
        raise DocumentError(p, "the file is empty")
    if size > max_bytes:
        raise DocumentError(p, f"the file is too large ({_mb(size)}; the limit is {_mb(max_bytes)})")
    raw = _read_bytes(p, max_bytes)
    check(cancel)

    fmt = _FORMAT_BY_EXTENSION.get(ext) or _sniff(raw)
    if fmt is None:  # unknown extension and binary content
        what = f"'{ext}' files are" if ext else "this file type is"
        raise DocumentError(p, f"{what} not supported: the content is not text ({_supported_list()})")

    if fmt == "pdf":
        doc = _read_pdf(p, raw, on_progress, cancel)
    else:
        if fmt == "docx":
            doc = _read_docx(p, raw, cancel)
        elif fmt == "html":
            doc = _read_html(p, raw)
        else:
            doc = _read_text(p, raw, fmt)
        if on_progress is not None:
            on_progress(1, 1)
    return doc


# --------------------------------------------------------------------------- files


def _supported_list() -> str:
    return "supported: " + ", ".join(sorted(SUPPORTED_EXTENSIONS))


def _mb(n: int) -> str:
    text = f"{n / _MIB:.1f} MB"
    if n < _MIB // 10:
        text += f" ({n:,} bytes)"
    return text


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return "the file does not exist"
    if isinstance(exc, IsADirectoryError):
        return "it is a folder, not a file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or str(exc) or type(exc).__name__


def _stat_regular_file(p: Path) -> int:
    try:
        st = p.stat()
    except OSError as exc:
        raise DocumentError(p, _os_reason(exc)) from None
    except ValueError:  # e.g. an embedded NUL character in the path
        raise DocumentError(p, "the path is not valid") from None
    if stat.S_ISDIR(st.st_mode):
        raise DocumentError(p, "it is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise DocumentError(p, "it is not a regular file")
    return st.st_size


def _read_bytes(p: Path, max_bytes: int) -> bytes:
    try:
        with open(p, "rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError as exc:
        raise DocumentError(p, _os_reason(exc)) from None
    except MemoryError:
        raise DocumentError(p, "not enough memory to read the file") from None
    if not raw:
        raise DocumentError(p, "the file is empty")
    if len(raw) > max_bytes:  # the file grew since stat()
        raise DocumentError(p, f"the file is too large (more than the {_mb(max_bytes)} limit)")
    return raw


def _sniff(raw: bytes) -> str | None:
    """Guess the format of a file with an unknown or missing extension."""
    if b"%PDF-" in raw[:1024]:
        return "pdf"
    if raw.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                if "word/document.xml" in zf.namelist():
                    return "docx"
        except Exception:
            pass
        return None  # some other zip archive
    head = raw[:2048]
    for bom, enc in _BOMS:
        if head.startswith(bom):
            head = head[len(bom):].decode(enc, errors="ignore").encode("ascii", errors="ignore")
            break
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or (
        lowered.startswith((b"<?xml", b"<!--")) and b"<html" in lowered
    ):
        return "html"
    if b"\x00" in raw[:8192] and not any(raw.startswith(bom) for bom, _ in _BOMS):
        # Could still be BOM-less UTF-16; _decode decides (and refuses binary data).
        return "text" if _looks_like_utf16_or_32(raw) else None
    return "text"


# --------------------------------------------------------------------------- text

_BOMS = [  # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]

# Control characters other than tab/newline/CR/form feed, and C1 controls: text has
# (almost) none, binary data decoded as a single-byte charset is full of them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")

# When charset-normalizer finds several equally good single-byte candidates (it often
# cannot tell Western European code pages apart), prefer the most common one.
_PREFERRED_ENCODINGS = ("utf_8", "cp1252")


def _looks_like_utf16_or_32(raw: bytes) -> bool:
    import charset_normalizer

    try:
        best = charset_normalizer.from_bytes(raw[:65536]).best()
    except Exception:
        return False
    return best is not None and best.encoding.startswith(("utf_16", "utf_32"))


def _encoding_name(enc: str) -> str:
    try:
        return codecs.lookup(enc).name
    except LookupError:
        return enc


def _decode(p: Path, raw: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode ``raw`` to text; return (text, encoding). Binary data raises DocumentError."""
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom):].decode(enc)
            except UnicodeDecodeError:
                raise DocumentError(p, f"the file starts with a {enc.upper()} byte order mark "
                                       "but is not valid text in that encoding") from None
            name = "utf-8-sig" if enc == "utf-8" else enc
            return _refuse_binary(p, text), name

    nul = b"\x00" in raw
    if not nul and declared:
        try:
            return _refuse_binary(p, raw.decode(declared)), _encoding_name(declared)
        except (UnicodeDecodeError, LookupError):
            pass  # wrong declaration: detect instead
    if not nul:
        try:
            return _refuse_binary(p, raw.decode("utf-8")), "utf-8"
        except UnicodeDecodeError:
            pass

    import charset_normalizer

    try:
        results = charset_normalizer.from_bytes(raw)
        best = results.best()
    except Exception:
        best = None
    if best is None:
        if nul:
            raise DocumentError(p, "the file contains binary data (NUL bytes), not text")
        raise DocumentError(p, "the file contains binary data or text in an unknown encoding")
    if nul and not best.encoding.startswith(("utf_16", "utf_32")):
        raise DocumentError(p, "the file contains binary data (NUL bytes), not text")

    encoding = best.encoding
    tied = [r for r in results if r.chaos == best.chaos and r.coherence == best.coherence]
    for preferred in _PREFERRED_ENCODINGS:
        if any(preferred in r.could_be_from_charset for r in tied):
            encoding = preferred
            break
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        encoding, text = best.encoding, str(best)
    return _refuse_binary(p, text), _encoding_name(encoding)


def _refuse_binary(p: Path, text: str) -> str:
    if text:
        controls = len(_CONTROL.findall(text))
        if "\x00" in text or controls > max(2, len(text) // 200):
            raise DocumentError(p, "the file contains binary data, not text")
    return text


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_text(p: Path, raw: bytes, fmt: str) -> Document:
    text, encoding = _decode(p, raw)
    text = _normalize_newlines(text)
    if not text.strip():
        raise DocumentError(p, "the file contains no text")
    return Document(path=p, text=text, format=fmt, encoding=encoding, pages=None, warnings=[])


# --------------------------------------------------------------------------- HTML

_SKIP_TAGS = {
    "script", "style", "noscript", "template", "head", "title", "meta", "link", "base",
    "svg", "iframe", "object", "embed", "canvas", "audio", "video", "source", "track",
    "select", "datalist", "input", "img", "map", "area",
}
_PARA_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "dl", "section", "article",
    "header", "footer", "main", "nav", "aside", "figure", "form", "fieldset", "address",
    "details", "hgroup", "body", "html", "table",
}
_LINE_TAGS = {
    "div", "tr", "dt", "dd", "caption", "figcaption", "summary", "legend", "option",
    "center", "thead", "tbody", "tfoot", "dialog", "search",
}
_LIST_TAGS = {"ul", "ol", "menu", "dir"}
_HIDDEN_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b", re.I)
_WS = re.compile(r"\s+")


class _Ctx(NamedTuple):
    pre: bool = False
    depth: int = 0  # list nesting
    cell: bool = False  # inside a table cell


class _Close(NamedTuple):
    name: str
    ctx: _Ctx


class _TextBuilder:
    """Collects text runs into lines and paragraphs, collapsing whitespace like a browser."""

    def __init__(self) -> None:
        self.paragraphs: list[list[str]] = []
        self.lines: list[str] = []
        self.segs: list[tuple[str, bool]] = []  # (text, preformatted)
        self.prefix = ""

    def text(self, s: str, pre: bool = False) -> None:
        self.segs.append((s, pre))

    def has_content(self) -> bool:
        return any(s.strip() for s, _ in self.segs)

    def line_break(self, keep_empty: bool = False) -> None:
        parts: list[str] = []
        run: list[str] = []
        has_pre = False
        for s, pre in self.segs:
            if pre:
                if run:
                    parts.append(_WS.sub(" ", "".join(run)))
                    run = []
                parts.append(s)
                has_pre = True
            else:
                run.append(s)
        if run:
            parts.append(_WS.sub(" ", "".join(run)))
        line = "".join(parts)
        line = line.rstrip() if has_pre else line.strip()
        self.segs = []
        if line.strip():
            self.lines.append(self.prefix + line)
            self.prefix = ""
        elif keep_empty and self.lines:
            self.lines.append("")

    def para_break(self) -> None:
        self.line_break()
        while self.lines and not self.lines[-1].strip():
            self.lines.pop()
        if self.lines:
            self.paragraphs.append(self.lines)
            self.lines = []

    def result(self) -> str:
        self.para_break()
        return "\n\n".join("\n".join(lines) for lines in self.paragraphs)


def _is_hidden(tag) -> bool:
    attrs = tag.attrs
    if "hidden" in attrs:
        return True
    if str(attrs.get("aria-hidden", "")).strip().lower() == "true":
        return True
    style = attrs.get("style")
    if isinstance(style, str) and _HIDDEN_STYLE.search(style):
        return True
    if tag.name == "dialog" and "open" not in attrs:
        return True
    return False


def _block_break(b: _TextBuilder, ctx: _Ctx, para: bool) -> None:
    if ctx.cell:
        b.text(" ")
    elif para and ctx.depth == 0:
        b.para_break()
    else:
        b.line_break()


def _html_open(b: _TextBuilder, name: str, ctx: _Ctx) -> _Ctx:
    if name == "br":
        if ctx.pre:
            b.line_break(keep_empty=True)
        elif ctx.cell:
            b.text(" ")
        elif not b.has_content() and b.lines and ctx.depth == 0:
            b.para_break()  # <br><br> separates paragraphs
        else:
            b.line_break()
    elif name == "hr":
        _block_break(b, ctx, para=True)
    elif name == "pre":
        _block_break(b, ctx, para=True)
        return ctx._replace(pre=True)
    elif name in _LIST_TAGS:
        _block_break(b, ctx, para=True)
        return ctx._replace(depth=ctx.depth + 1)
    elif name == "li":
        if ctx.cell:
            b.text(" ")
        else:
            b.line_break()
            b.prefix = "  " * max(ctx.depth - 1, 0) + "- "
    elif name in ("td", "th"):
        if ctx.cell:
            b.text(" ")
        elif b.has_content():
            b.text(" | ")
        return ctx._replace(cell=True)
    elif name in _PARA_TAGS:
        _block_break(b, ctx, para=True)
    elif name in _LINE_TAGS:
        _block_break(b, ctx, para=False)
    return ctx


def _html_close(b: _TextBuilder, name: str, ctx: _Ctx) -> None:
    if name in _LIST_TAGS or name in _PARA_TAGS or name == "pre":
        _block_break(b, ctx, para=True)
    elif name in _LINE_TAGS or name == "li":
        _block_break(b, ctx, para=False)


def _html_to_text(soup) -> str:
    from bs4.element import (CData, Comment, Declaration, Doctype, NavigableString,
                             ProcessingInstruction, Script, Stylesheet, Tag, TemplateString)

    invisible = (CData, Comment, Declaration, Doctype, ProcessingInstruction, Script,
                 Stylesheet, TemplateString)
    b = _TextBuilder()
    root = _Ctx()
    stack: list = [(child, root) for child in reversed(soup.contents)]
    while stack:  # iterative: deeply nested pages must not hit the recursion limit
        item = stack.pop()
        if isinstance(item, _Close):
            _html_close(b, item.name, item.ctx)
            continue
        node, ctx = item
        if isinstance(node, NavigableString):
            if isinstance(node, invisible):
                continue
            if ctx.pre:
                for i, part in enumerate(_normalize_newlines(str(node)).split("\n")):
                    if i:
                        b.line_break(keep_empty=True)
                    b.text(part, pre=True)
            else:
                b.text(str(node))
            continue
        if not isinstance(node, Tag):
            continue
        name = (node.name or "").lower()
        if name in _SKIP_TAGS or _is_hidden(node):
            continue
        child_ctx = _html_open(b, name, ctx)
        stack.append(_Close(name, ctx))
        stack.extend((child, child_ctx) for child in reversed(node.contents))
    return b.result()


def _read_html(p: Path, raw: bytes) -> Document:
    from bs4 import BeautifulSoup
    from bs4.dammit import EncodingDetector

    declared = None
    try:
        declared = EncodingDetector.find_declared_encoding(raw, is_html=True)
        if declared:
            declared = _encoding_name(declared)
            codecs.lookup(declared)
            if declared in ("iso8859-1", "ascii"):  # what browsers do (WHATWG)
                declared = "cp1252"
    except Exception:
        declared = None
    text, encoding = _decode(p, raw, declared)
    try:
        soup = BeautifulSoup(text, "html.parser")
        body = _html_to_text(soup)
    except (Cancelled, DocumentError):
        raise
    except Exception as exc:
        raise DocumentError(p, f"the HTML could not be parsed ({_short(exc)})") from None
    if not body.strip():
        raise DocumentError(p, "the page contains no visible text")
    return Document(path=p, text=body, format="html", encoding=encoding, pages=None, warnings=[])


# --------------------------------------------------------------------------- PDF

_TERMINAL_PUNCT = (".", "!", "?", "…", ":", '"', "”", "»", "。", "！", "？")
_HYPHENS = ("-", "\u2010", "\u00ad")


class _PdfLogCapture(logging.Handler):
    """Counts pypdf's warnings about damaged structure, for this thread only."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.count += 1


def _short(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    msg = msg[:160]
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


def _read_pdf(p: Path, raw: bytes, on_progress, cancel) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    capture = _PdfLogCapture()
    pypdf_logger = logging.getLogger("pypdf")
    pypdf_logger.addHandler(capture)
    try:
        try:
            reader = PdfReader(io.BytesIO(raw))
            if reader.is_encrypted:
                try:
                    decrypted = reader.decrypt("")
                except DependencyError:
                    raise DocumentError(p, "the PDF is encrypted with AES; reading it needs the "
                                           "'cryptography' package") from None
                if not decrypted:
                    raise DocumentError(p, "the PDF is password-protected")
            total = len(reader.pages)
        except (Cancelled, DocumentError):
            raise
        except Exception as exc:
            raise DocumentError(p, f"the PDF is damaged or not a valid PDF ({_short(exc)})") from None
        if total == 0:
            raise DocumentError(p, "the PDF has no pages")

        page_texts: list[str] = []
        empty = 0
        failed: list[int] = []
        for index in range(total):
            check(cancel)
            try:
                paragraphs = _pdf_paragraphs(_pdf_page_lines(reader.pages[index]))
            except (Cancelled, DocumentError):
                raise
            except Exception:
                failed.append(index + 1)
            else:
                if paragraphs:
                    page_texts.append("\n\n".join(paragraphs))
                else:
                    empty += 1
            if on_progress is not None:
                on_progress(index + 1, total)
    finally:
        pypdf_logger.removeHandler(capture)

    if len(failed) == total:
        raise DocumentError(p, "the PDF is damaged: no page could be read")
    if not page_texts:
        raise DocumentError(p, "the PDF has no text layer (it is probably scanned images); "
                               "it needs OCR before it can be translated")
    warnings: list[str] = []
    if empty:
        verb = "has" if empty == 1 else "have"
        warnings.append(f"{empty} of {total} pages {verb} no text layer (scanned?)")
    if failed:
        shown = ", ".join(map(str, failed[:10])) + (", ..." if len(failed) > 10 else "")
        warnings.append(f"{len(failed)} of {total} pages could not be read (pages {shown})")
    if capture.count:
        warnings.append("the PDF has structural errors; some text may be missing or out of order")
    text = _normalize_newlines("\n\n".join(page_texts))
    return Document(path=p, text=text, format="pdf", encoding=None, pages=total, warnings=warnings)


class _Line(NamedTuple):
    text: str
    y: float | None  # baseline in user space
    height: float | None  # font size in user space


def _pdf_page_lines(page) -> list[_Line]:
    """The page's text lines (pypdf's order) with their vertical position and font size."""
    chunks: list[tuple[str, list, list, float]] = []

    def visitor(text, cm, tm, font_dict, font_size):
        if text:
            chunks.append((text, cm, tm, font_size))

    text = page.extract_text(visitor_text=visitor) or ""
    if "".join(c[0] for c in chunks) != text:  # cannot map positions: text only
        return [_Line(line, None, None) for line in text.split("\n")]

    lines: list[_Line] = []
    cur = ""
    pos: tuple[float, float] | None = None
    for chunk, cm, tm, font_size in chunks:
        for i, piece in enumerate(chunk.split("\n")):
            if i:
                lines.append(_Line(cur, *(pos or (None, None))))
                cur, pos = "", None
            if pos is None and piece.strip():
                pos = _text_position(cm, tm, font_size)
            cur += piece
    if cur:
        lines.append(_Line(cur, *(pos or (None, None))))
    return lines


def _text_position(cm, tm, font_size) -> tuple[float, float] | None:
    try:
        c = tm[2] * cm[0] + tm[3] * cm[2]
        d = tm[2] * cm[1] + tm[3] * cm[3]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        height = abs(float(font_size)) * math.hypot(c, d)
    except Exception:
        return None
    if not (math.isfinite(y) and math.isfinite(height)) or height <= 0:
        return None
    return float(y), height


def _pdf_paragraphs(lines: list[_Line]) -> list[str]:
    """Rebuild paragraphs from hard-wrapped lines.

    A paragraph ends at an empty line, at a vertical gap clearly larger than the page's
    usual line spacing, at a jump upwards (a new column), at a change of font size, or
    after a short line that ends a sentence.
    """
    items = [_Line(_WS.sub(" ", ln.text).strip(), ln.y, ln.height) for ln in lines]
    if not any(ln.text for ln in items):
        return []

    spacings = []  # line gap relative to font size, between consecutive lines
    for prev, cur in zip(items, items[1:]):
        if prev.text and cur.text and prev.y is not None and cur.y is not None and cur.height:
            ratio = (prev.y - cur.y) / cur.height
            if ratio > 0.5:
                spacings.append(ratio)
    spacings.sort()
    usual = spacings[len(spacings) // 5] if spacings else None
    longest = max(len(ln.text) for ln in items)

    paragraphs: list[str] = []
    current: list[str] = []
    prev: _Line | None = None
    for ln in items:
        if not ln.text:
            if current:
                paragraphs.append(_join_lines(current))
                current = []
            prev = None
            continue
        if prev is not None and current and _is_paragraph_break(prev, ln, usual, longest):
            paragraphs.append(_join_lines(current))
            current = []
        current.append(ln.text)
        prev = ln
    if current:
        paragraphs.append(_join_lines(current))
    return paragraphs


def _is_paragraph_break(prev: _Line, cur: _Line, usual: float | None, longest: int) -> bool:
    if usual and prev.y is not None and cur.y is not None and cur.height and prev.height:
        ratio = (prev.y - cur.y) / cur.height
        if ratio > usual * 1.3 + 0.05 or ratio < -0.5 * usual:
            return True
        if abs(cur.height - prev.height) > 0.25 * max(cur.height, prev.height):
            return True
    return longest >= 40 and prev.text.endswith(_TERMINAL_PUNCT) and len(prev.text) < 0.7 * longest


def _join_lines(lines: list[str]) -> str:
    out = lines[0]
    for line in lines[1:]:
        if out.endswith("\u00ad"):  # soft hyphen: always a word break
            out = out[:-1] + line
        elif (out.endswith(_HYPHENS) and len(out) >= 2 and out[-2].isalpha()
              and line[:1].isalpha() and line[:1].islower()):
            out = out[:-1] + line  # "exam-" + "ple" -> "example"
        else:
            out = out + " " + line
    return out


# --------------------------------------------------------------------------- DOCX

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _read_docx(p: Path, raw: bytes, cancel) -> Document:
    if raw.startswith(_OLE_MAGIC):
        raise DocumentError(p, "this is an old-format Word (.doc) file or a password-protected "
                               "document; save it as .docx without a password")
    try:
        import docx

        document = docx.Document(io.BytesIO(raw))
        blocks = _docx_blocks(document, cancel)
    except (Cancelled, DocumentError):
        raise
    except Exception as exc:
        raise DocumentError(p, f"the file is damaged or not a Word .docx document ({_short(exc)})") from None

    parts: list[str] = []
    prev_kind = None
    for kind, text in blocks:
        if parts:
            parts.append("\n" if kind == prev_kind == "li" else "\n\n")
        parts.append(text)
        prev_kind = kind
    text = _normalize_newlines("".join(parts))
    if not text.strip():
        raise DocumentError(p, "the document contains no text")
    return Document(path=p, text=text, format="docx", encoding=None, pages=None, warnings=[])


def _iter_block_elements(element):
    """Paragraphs and tables in document order, looking inside content controls."""
    from docx.oxml.ns import qn

    p_tag, tbl_tag = qn("w:p"), qn("w:tbl")
    containers = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml"), qn("w:smartTag")}
    stack = [iter(element.iterchildren())]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        if child.tag in (p_tag, tbl_tag):
            yield child
        elif child.tag in containers:
            stack.append(iter(child.iterchildren()))


def _docx_blocks(document, cancel) -> list[tuple[str, str]]:
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    body = document.element.body
    blocks: list[tuple[str, str]] = []
    for n, el in enumerate(_iter_block_elements(body)):
        if n % 200 == 0:
            check(cancel)
        if el.tag == qn("w:p"):
            para = Paragraph(el, document._body)
            text = para.text.strip()
            if not text:
                continue
            level = _docx_list_level(para)
            if level is None:
                blocks.append(("p", text))
            else:
                blocks.append(("li", "  " * level + "- " + text))
        else:
            rows = _docx_table_rows(Table(el, document._body))
            if rows:
                blocks.append(("table", "\n".join(rows)))
    return blocks


def _docx_table_rows(table) -> list[str]:
    from docx.oxml.ns import qn
    from docx.table import Table, _Cell
    from docx.text.paragraph import Paragraph

    rows: list[str] = []
    for tr in table._tbl.tr_lst:
        cells: list[str] = []
        for tc in tr.tc_lst:
            if tc.vMerge == "continue":  # continuation of a vertically merged cell
                continue
            cell = _Cell(tc, table)
            texts = []
            for el in _iter_block_elements(tc):
                if el.tag == qn("w:p"):
                    texts.append(Paragraph(el, cell).text)
                else:
                    texts.extend(_docx_table_rows(Table(el, cell)))
            text = _WS.sub(" ", " ".join(texts)).strip()
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _docx_list_level(para) -> int | None:
    """The list nesting level (0-based) of a paragraph, or None if it is not a list item."""
    ppr = para._p.pPr
    if ppr is not None and ppr.numPr is not None:
        num_id = ppr.numPr.numId
        if num_id is not None and num_id.val == 0:  # numbering explicitly removed
            return None
        ilvl = ppr.numPr.ilvl
        return int(ilvl.val) if ilvl is not None and ilvl.val is not None else 0
    try:
        style = para.style
    except Exception:
        return None
    seen = 0
    while style is not None and seen < 10:
        name = (style.name or "").lower()
        if name.startswith(("heading", "title", "toc")):
            return None
        style_ppr = style.element.pPr
        if style_ppr is not None and style_ppr.numPr is not None:
            ilvl = style_ppr.numPr.ilvl
            return int(ilvl.val) if ilvl is not None and ilvl.val is not None else 0
        if name.startswith("list") and name != "list paragraph":
            return 0
        style = style.base_style
        seen += 1
    return None
