"""read_document on real files generated in tmp_path (reportlab, pypdf, python-docx)."""

from __future__ import annotations

import os
import random
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s2s_desktop.core import documents
from s2s_desktop.core.documents import (MAX_BYTES, SUPPORTED_EXTENSIONS, Document,
                                        read_document)
from s2s_desktop.core.errors import Cancelled, DocumentError
from s2s_desktop.core.jobs import CancelToken

# --------------------------------------------------------------------------- helpers

PAGE1 = [
    "Chapter One",
    "",
    "The quick brown fox jumps over the lazy dog while this",
    "paragraph is hard-wrapped across several lines to give an exam-",
    "ple of hyphenation in the middle of a long sentence.",
    "",
    "The second paragraph starts here and it",
    "continues on the following line.",
]
PAGE2 = ["Page two has its own text.", "It spans two lines."]


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    """One drawString per line, 14 pt leading; "" leaves an empty line (a paragraph gap)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    for lines in pages:
        y = 780
        for line in lines:
            if line:
                c.drawString(72, y, line)
            y -= 14
        c.showPage()
    c.save()
    return path


def expect_error(path, match: str, **kwargs) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        read_document(path, **kwargs)
    message = str(info.value)
    assert message.startswith(f"Cannot read {path}: "), message
    assert match.lower() in message.lower(), message
    return info.value


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "sample.pdf"
    return make_pdf(path, [PAGE1, PAGE2, []])  # the third page has no text


# --------------------------------------------------------------------------- PDF


def test_pdf_paragraphs_hyphenation_and_pages(sample_pdf):
    doc = read_document(sample_pdf)
    assert isinstance(doc, Document)
    assert doc.format == "pdf" and doc.pages == 3 and doc.encoding is None
    assert doc.path == sample_pdf
    assert doc.text.split("\n\n") == [
        "Chapter One",
        "The quick brown fox jumps over the lazy dog while this paragraph is hard-wrapped "
        "across several lines to give an example of hyphenation in the middle of a long sentence.",
        "The second paragraph starts here and it continues on the following line.",
        "Page two has its own text. It spans two lines.",
    ]
    assert doc.warnings == ["1 of 3 pages has no text layer (scanned?)"]


def test_pdf_platypus_layout(tmp_path):
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    ss = getSampleStyleSheet()
    long = ("The committee reviewed the proposal in considerable detail and concluded that "
            "the investment would substantially improve the regional transport network. ") * 2
    path = tmp_path / "report.pdf"
    SimpleDocTemplate(str(path)).build([
        Paragraph("Annual Report", ss["Heading1"]),
        Paragraph(long, ss["BodyText"]),
        Paragraph("A short closing line.", ss["BodyText"]),
    ])
    doc = read_document(path)
    assert doc.text.split("\n\n") == ["Annual Report", long.strip(), "A short closing line."]


def test_pdf_progress_per_page(sample_pdf):
    calls = []
    read_document(sample_pdf, on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_pdf_cancel_between_pages(sample_pdf):
    token = CancelToken()
    calls = []

    def progress(done, total):
        calls.append(done)
        if done == 1:
            token.cancel()

    with pytest.raises(Cancelled):
        read_document(sample_pdf, on_progress=progress, cancel=token)
    assert calls == [1]


def test_cancelled_before_start(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("hello")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        read_document(path, cancel=token)


def test_pdf_encrypted(sample_pdf, tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=str(sample_pdf))
    writer.encrypt("secret")
    locked = tmp_path / "locked.pdf"
    with open(locked, "wb") as f:
        writer.write(f)
    expect_error(locked, "the PDF is password-protected")

    # An owner password alone (empty user password) does not stop reading.
    writer = PdfWriter(clone_from=str(sample_pdf))
    writer.encrypt("", owner_password="owner")
    owner_only = tmp_path / "owner.pdf"
    with open(owner_only, "wb") as f:
        writer.write(f)
    assert read_document(owner_only).text.startswith("Chapter One\n\nThe quick brown fox")


def test_pdf_truncated(sample_pdf, tmp_path):
    raw = sample_pdf.read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(raw[: len(raw) // 2])
    expect_error(path, "damaged")


def test_pdf_without_text_layer(tmp_path):
    path = make_pdf(tmp_path / "scan.pdf", [[], []])
    expect_error(path, "no text layer")


def test_pdf_named_pdf_but_not_pdf(tmp_path):
    path = tmp_path / "fake.pdf"
    path.write_text("just some text, not a PDF")
    expect_error(path, "not a valid PDF")


# --------------------------------------------------------------------------- DOCX


def make_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_heading("Quarterly Summary", level=1)
    d.add_paragraph("Sales grew in every region.")
    d.add_paragraph("First point", style="List Bullet")
    d.add_paragraph("Second point", style="List Bullet")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Region"
    table.cell(0, 1).text = "Growth"
    table.cell(1, 0).text = "North"
    table.cell(1, 1).text = "12%"
    d.add_paragraph("")  # empty paragraphs are dropped
    d.add_paragraph("Closing remarks.")
    d.save(str(path))
    return path


def test_docx_body_order_tables_and_lists(tmp_path):
    doc = read_document(make_docx(tmp_path / "report.docx"))
    assert doc.format == "docx" and doc.pages is None and doc.encoding is None
    assert doc.text == (
        "Quarterly Summary\n\n"
        "Sales grew in every region.\n\n"
        "- First point\n"
        "- Second point\n\n"
        "Region | Growth\n"
        "North | 12%\n\n"
        "Closing remarks."
    )


def test_docx_corrupt(tmp_path):
    path = tmp_path / "corrupt.docx"
    path.write_bytes(random.Random(1).randbytes(4000))
    expect_error(path, "not a Word .docx document")


def test_docx_zip_without_document(tmp_path):
    path = tmp_path / "other.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "hi")
    expect_error(path, "not a Word .docx document")


def test_docx_truncated(tmp_path):
    good = make_docx(tmp_path / "good.docx").read_bytes()
    path = tmp_path / "truncated.docx"
    path.write_bytes(good[: len(good) // 2])
    expect_error(path, "damaged")


def test_docx_empty_document(tmp_path):
    import docx

    path = tmp_path / "blank.docx"
    docx.Document().save(str(path))
    expect_error(path, "no text")


# --------------------------------------------------------------------------- HTML

HTML = """<!DOCTYPE html>
<html><head><title>Page title</title>
<style>body { color: red; }</style>
<script>var secret = "script text";</script>
</head>
<body>
<noscript>Enable JavaScript</noscript>
<template><p>template text</p></template>
<h1>Main   heading</h1>
<p>First paragraph
   spans <b>several</b> source
   lines.</p>
<p hidden>Hidden by attribute</p>
<div style="display: none">Hidden by style</div>
<span style="visibility:hidden">Invisible span</span>
<span aria-hidden="true">Icon</span>
<svg><text>svg text</text></svg>
<!-- a comment -->
<ul><li>Apples</li><li>Pears <em>and</em> plums</li></ul>
<table><tr><th>Name</th><th>Age</th></tr><tr><td>Ann</td><td>31</td></tr></table>
<div>Line one<br>Line two</div>
<pre>keep   this
  indented</pre>
<p>Caf&eacute; &amp; cr&egrave;me</p>
</body></html>"""


def test_html_visible_text_only(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")
    doc = read_document(path)
    assert doc.format == "html" and doc.encoding == "utf-8"
    assert doc.text == (
        "Main heading\n\n"
        "First paragraph spans several source lines.\n\n"
        "- Apples\n"
        "- Pears and plums\n\n"
        "Name | Age\n"
        "Ann | 31\n\n"
        "Line one\n"
        "Line two\n\n"
        "keep   this\n"
        "  indented\n\n"
        "Café & crème"
    )
    for hidden in ("Page title", "color", "secret", "Enable JavaScript", "template text",
                   "Hidden", "Invisible", "Icon", "svg text", "comment"):
        assert hidden not in doc.text


def test_html_declared_encoding(tmp_path):
    path = tmp_path / "legacy.htm"
    path.write_bytes('<html><head><meta charset="windows-1252"></head>'
                     '<body><p>Grüße – “quoted”</p></body></html>'.encode("cp1252"))
    doc = read_document(path)
    assert doc.text == "Grüße – “quoted”"
    assert doc.encoding == "cp1252"


def test_html_nested_lists_and_br_paragraphs(tmp_path):
    path = tmp_path / "nested.html"
    path.write_text("<body>Intro<br><br>Next para<ol><li>One<ul><li>Sub</li></ul></li>"
                    "<li><p>Two</p></li></ol></body>")
    assert read_document(path).text == "Intro\n\nNext para\n\n- One\n  - Sub\n- Two"


def test_html_without_visible_text(tmp_path):
    path = tmp_path / "empty.html"
    path.write_text("<html><head><title>x</title></head><body><script>1</script></body></html>")
    expect_error(path, "no visible text")


def test_html_deeply_nested(tmp_path):
    path = tmp_path / "deep.html"
    path.write_text("<div>" * 3000 + "deep text" + "</div>" * 3000)
    assert read_document(path).text == "deep text"


# --------------------------------------------------------------------------- text

FRENCH = "Les élèves français étudient à l'école. Très bien, garçon! Où est la forêt?\n"


@pytest.mark.parametrize(
    "encoding, text",
    [
        ("utf-8", "Grüße aus Köln – ça va? Ναι, 日本語.\nSecond line.\n"),
        ("utf-16", "Grüße aus Köln, naïve café.\nZweite Zeile.\n"),
        ("latin-1", FRENCH),
        ("cp1252", "He said “hello” – and paid 5 € for the café’s crème brûlée.\n"),
    ],
)
def test_text_encodings(tmp_path, encoding, text):
    path = tmp_path / "note.txt"
    path.write_bytes(text.encode(encoding))
    doc = read_document(path)
    assert doc.text == text
    assert doc.format == "text" and doc.pages is None and doc.warnings == []
    assert doc.encoding


def test_text_bom_is_stripped_and_newlines_normalized(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfHello BOM\r\nsecond line\r\n")
    doc = read_document(path)
    assert doc.text == "Hello BOM\nsecond line\n"
    assert doc.encoding == "utf-8-sig"


def test_utf16_bom_detected(tmp_path):
    path = tmp_path / "wide.txt"
    path.write_bytes("Grüße".encode("utf-16"))  # with BOM
    doc = read_document(path)
    assert doc.text == "Grüße" and doc.encoding.startswith("utf-16")


def test_markdown_kept_raw(tmp_path):
    raw = "# Title\n\n* item *one*\n\n```\ncode\n```\n"
    path = tmp_path / "readme.md"
    path.write_text(raw)
    doc = read_document(path)
    assert doc.text == raw and doc.format == "markdown"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    expect_error(path, "empty")


def test_whitespace_only_file(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text(" \n\n\t\n")
    expect_error(path, "no text")


@pytest.mark.parametrize("payload", [
    bytes(range(256)) * 16,  # with NUL bytes
    random.Random(7).randbytes(5000).replace(b"\x00", b"\x01"),  # without
])
def test_binary_file_named_txt(tmp_path, payload):
    path = tmp_path / "program.txt"
    path.write_bytes(payload)
    expect_error(path, "binary")


def test_too_large(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("x" * 5000)
    err = expect_error(path, "too large", max_bytes=1000)
    assert "MB" in str(err) and "limit" in str(err)
    assert "5,000 bytes" in str(err)


def test_default_limit_is_50_mb():
    assert MAX_BYTES == 50 * 1024 * 1024


# --------------------------------------------------------------------------- paths


def test_missing_path(tmp_path):
    expect_error(tmp_path / "nope.txt", "does not exist")


def test_directory(tmp_path):
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    expect_error(folder, "folder")


def test_permission_denied(tmp_path, monkeypatch):
    path = tmp_path / "secret.txt"
    path.write_text("classified")
    if sys.platform == "win32" or (hasattr(os, "geteuid") and os.geteuid() == 0):
        # chmod cannot lock out root (or work on Windows): make open() fail the same way.
        def denied(file, *args, **kwargs):
            raise PermissionError(13, "Permission denied", str(file))

        monkeypatch.setattr(documents, "open", denied, raising=False)
        expect_error(path, "permission denied")
        return
    path.chmod(0)
    try:
        expect_error(path, "permission denied")
    finally:
        path.chmod(0o600)


def test_unsupported_extension(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    err = expect_error(path, "not supported")
    for ext in SUPPORTED_EXTENSIONS:
        assert ext in str(err)


def test_unknown_extension_binary(tmp_path):
    path = tmp_path / "data.xyz"
    path.write_bytes(bytes(range(256)) * 4)
    err = expect_error(path, "not supported")
    assert ".docx" in str(err)


def test_sniffing_without_extension(tmp_path, sample_pdf):
    pdf = tmp_path / "pdf_noext"
    pdf.write_bytes(sample_pdf.read_bytes())
    assert read_document(pdf).format == "pdf"

    word = tmp_path / "word_noext"
    word.write_bytes(make_docx(tmp_path / "w.docx").read_bytes())
    assert read_document(word).text.startswith("Quarterly Summary")

    html = tmp_path / "page_noext"
    html.write_text("  <html><body><p>Hello <i>web</i></p></body></html>")
    doc = read_document(html)
    assert doc.format == "html" and doc.text == "Hello web"

    text = tmp_path / "notes.log"
    text.write_text("plain <b>log</b> line\n")
    doc = read_document(text)
    assert doc.format == "text" and doc.text == "plain <b>log</b> line\n"

    archive = tmp_path / "archive_noext"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.bin", bytes(range(256)))
    expect_error(archive, "not supported")


def test_str_path_accepted(tmp_path):
    path = tmp_path / "s.text"
    path.write_text("string path")
    doc = read_document(str(path))
    assert doc.path == path and doc.text == "string path"


def test_progress_for_single_step_formats(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("hi there")
    calls = []
    read_document(path, on_progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 1)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(min_size=1, max_size=2000),
       ext=st.sampled_from(sorted(SUPPORTED_EXTENSIONS) + ["", ".dat"]))
def test_arbitrary_bytes_never_crash(tmp_path, payload, ext):
    path = tmp_path / f"fuzz{ext}"
    path.write_bytes(payload)
    try:
        doc = read_document(path)
    except DocumentError as err:
        assert str(err).startswith(f"Cannot read {path}: ")
    else:
        assert doc.text.strip()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_pdf_never_crashes(tmp_path, sample_pdf, data):
    raw = bytearray(sample_pdf.read_bytes())
    for _ in range(data.draw(st.integers(1, 10))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(1, len(raw)))]
    path = tmp_path / "damaged.pdf"
    path.write_bytes(bytes(raw))
    try:
        read_document(path)
    except DocumentError:
        pass
