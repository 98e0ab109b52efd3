"""The alignment viewer widgets (pytest-qt, offscreen)."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from s2s_desktop.core.alignment import merge_subwords
from s2s_desktop.core.engine import Engine, TranslationOptions
from s2s_desktop.gui.alignment import (
    AlignmentData,
    AlignmentDock,
    AlignmentPanel,
    HeatmapView,
    LinkView,
    PaneHighlighter,
    connect,
)
from s2s_desktop.gui.alignment.export import export_png, export_svg

GREEDY = TranslationOptions(beam_size=1)


@pytest.fixture(scope="module")
def engines(tiny_models):
    return {name: Engine(path, intra_threads=1) for name, path in tiny_models.items()}


def _move(widget, point) -> None:
    """A plain mouse move (no button) delivered to ``widget``."""
    pos = QPointF(point)
    event = QMouseEvent(QEvent.Type.MouseMove, pos, widget.mapToGlobal(pos), Qt.MouseButton.NoButton,
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def _svg_ok(path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    return root


# ------------------------------------------------------------------ data / merging
def test_word_and_subword_views_sentencepiece(engines):
    e = engines["tiny-en-de"]
    (r,) = e.translate_sentences(["The house is small."], GREEDY)
    words = AlignmentData.from_result(r, e.tokenizer)
    assert words.source_labels == ["The", "house", "is", "small."]
    assert words.target_labels == r.target.split()
    np.testing.assert_allclose(words.matrix.sum(axis=1), 1.0, rtol=1e-5)
    assert "[" in words.source_detail[1]  # the tooltip lists the pieces of the word
    subs = AlignmentData.from_result(r, e.tokenizer, subwords=True)
    assert subs.shape == r.attention.shape
    assert subs.source_labels[-1] == "</s>" and subs.source_special[-1]
    assert subs.source_labels[0].startswith("\u2581")
    # hard links never use </s>
    assert all(s != len(subs.source_labels) - 1 for s, _ in subs.hard("argmax"))


def test_subword_merging_byte_bpe(engines):
    e = engines["tiny-bart-sum"]
    src = e.encode("Free software.")
    assert src == ["<s>", "F", "ree", "\u0120s", "oftware", ".", "</s>"]
    tgt = ["F", "ree", "\u0120s", "oftware"]
    att = np.array([[0.1, 0.3, 0.3, 0.1, 0.1, 0.05, 0.05],
                    [0.1, 0.3, 0.3, 0.1, 0.1, 0.05, 0.05],
                    [0.0, 0.0, 0.0, 0.5, 0.3, 0.1, 0.1],
                    [0.0, 0.1, 0.0, 0.2, 0.6, 0.0, 0.1]])
    data = AlignmentData.from_tokens(src, tgt, att, e.tokenizer)
    assert data.source_labels == ["Free", "software."]
    assert data.target_labels == ["Free", "software"]
    # "Free" = F+ree summed (0.6) vs software.(0.25), renormalized without <s> </s>
    np.testing.assert_allclose(data.matrix[0], [0.6 / 0.85, 0.25 / 0.85], rtol=1e-5)
    # target "software" averages its two pieces' rows
    np.testing.assert_allclose(data.matrix[1], [0.05 / 0.9, 0.85 / 0.9], rtol=1e-5)
    assert data.hard("argmax") == {(0, 0), (1, 1)}
    raw = AlignmentData.from_tokens(src, tgt, att, e.tokenizer, subwords=True)
    assert raw.source_labels[3] == "\u2581s" and raw.source_special == [True, False, False, False, False, False, True]


# ------------------------------------------------------------------ rendering, every model kind
@pytest.mark.parametrize("model_id", ["tiny-en-de", "tiny-t5-sum", "tiny-bart-sum"])
def test_views_render_for_every_model_kind(qtbot, engines, model_id, tmp_path):
    e = engines[model_id]
    (r,) = e.translate_sentences(["Free software is good. The house is small."], GREEDY)
    assert r.attention is not None and r.target_tokens
    heat, links = HeatmapView(), LinkView()
    for w in (heat, links):
        qtbot.addWidget(w)
        w.resize(500, 300)
        w.show()
    for subwords in (False, True):
        data = AlignmentData.from_result(r, e.tokenizer, subwords)
        for w in (heat, links):
            w.set_data(data)
            w.set_hard(data.hard("argmax"))
            img = w.viewport().grab().toImage()
            assert img.width() > 0
        export_png(heat, tmp_path / f"h{subwords}.png")
        export_svg(links, tmp_path / f"l{subwords}.svg")
        assert not QImage(str(tmp_path / f"h{subwords}.png")).isNull()
        _svg_ok(tmp_path / f"l{subwords}.svg")


def test_200_token_sentence_renders_with_readable_labels(qtbot, tmp_path):
    rng = np.random.default_rng(0)
    n = 200
    att = rng.dirichlet(np.full(n, 0.05), size=n).astype(np.float32)
    src = [f"word{i}" for i in range(n)]
    tgt = [f"Wort{i}" for i in range(n)]
    data = AlignmentData(src, tgt, att)
    heat, links = HeatmapView(), LinkView()
    for w in (heat, links):
        qtbot.addWidget(w)
        w.resize(600, 400)
        w.show()
        w.set_data(data)
        w.set_hard(data.hard("threshold", 0.3))
    assert heat.horizontalScrollBar().maximum() > 0 and heat.verticalScrollBar().maximum() > 0
    heat.horizontalScrollBar().setValue(heat.horizontalScrollBar().maximum() // 2)
    heat.zoom(-6)  # tiny cells: only every k-th label is drawn
    assert heat.cell_size() < 10
    heat.viewport().grab()
    heat.zoom(8)
    heat.viewport().grab()
    # the link view lays words out from their real widths: no two labels overlap
    for side in ("source", "target"):
        spans = links.word_rects(side)
        assert all(a[0] + a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert links.horizontalScrollBar().maximum() > 0
    links.horizontalScrollBar().setValue(links.horizontalScrollBar().maximum())
    links.viewport().grab()
    # a word focused from the panes scrolls into view
    links.set_focus_word("target", 3)
    assert 0 <= links.word_x_in_view("target", 3) <= links.viewport().width()
    heat.set_focus_word("target", 150)
    assert heat.verticalScrollBar().value() <= 150 * heat.cell_size() <= heat.verticalScrollBar().value() + 400
    export_svg(heat, tmp_path / "big.svg")
    export_png(links, tmp_path / "big.png")
    _svg_ok(tmp_path / "big.svg")
    assert not QImage(str(tmp_path / "big.png")).isNull()


# ------------------------------------------------------------------ hover
def test_heatmap_hover_crosshair_and_tooltip(qtbot, engines):
    e = engines["tiny-en-de"]
    (r,) = e.translate_sentences(["The house is small."], GREEDY)
    heat = HeatmapView()
    qtbot.addWidget(heat)
    heat.resize(500, 400)
    heat.show()
    data = AlignmentData.from_result(r, e.tokenizer)
    heat.set_data(data)
    seen = []
    heat.hovered.connect(lambda t, s: seen.append((t, s)))
    ox, oy = heat._origin()
    c = heat.cell_size()
    _move(heat.viewport(), QPointF(ox + 1.5 * c, oy + 2.5 * c))
    assert seen[-1] == (2, 1)
    text = heat.tooltip_text(2, 1)
    assert data.target_labels[2] in text and "house" in text and f"{data.matrix[2, 1]:.3f}" in text
    heat.viewport().grab()  # paints the crosshair


def test_link_view_hover_isolates_a_word(qtbot, engines):
    e = engines["tiny-en-de"]
    (r,) = e.translate_sentences(["The house is small."], GREEDY)
    links = LinkView()
    qtbot.addWidget(links)
    links.resize(500, 260)
    links.show()
    links.set_data(AlignmentData.from_result(r, e.tokenizer))
    seen = []
    links.hovered.connect(lambda side, i: seen.append((side, i)))
    top, bottom, th = links._rows(links.viewport().height())
    _move(links.viewport(), QPointF(links.word_x_in_view("target", 1), bottom + th / 2))
    assert seen[-1] == ("target", 1)
    assert "house" in links.tooltip_text("target", 1) or "\u2190" in links.tooltip_text("target", 1)
    links.viewport().grab()
    _move(links.viewport(), QPointF(links.word_x_in_view("source", 0), top + th / 2))
    assert seen[-1] == ("source", 0)


@pytest.fixture
def panes(qtbot, engines):
    e = engines["tiny-en-de"]
    tt = e.translate_text("The dog is old. The house is small.", GREEDY)
    src, tgt = QPlainTextEdit(tt.source), QPlainTextEdit(tt.text)
    for w in (src, tgt):
        qtbot.addWidget(w)
        w.resize(600, 200)
        w.show()
    qtbot.waitExposed(tgt)
    hl = PaneHighlighter(src, tgt)
    hl.set_translation(tt, e.tokenizer)
    return e, tt, src, tgt, hl


def _point_of(edit, pos: int):
    cursor = QTextCursor(edit.document())
    cursor.setPosition(pos)
    rect = edit.cursorRect(cursor)
    return QPointF(rect.x() + 3, rect.center().y())


def _expected(tt, e, k):
    r = tt.results[k]
    return merge_subwords(r.source_tokens, r.target_tokens, r.attention, e.tokenizer)


def test_hover_target_word_highlights_its_source_words(panes):
    e, tt, src, tgt, hl = panes
    k = 1  # second sentence: "The house is small."
    words = _expected(tt, e, k)
    t_word = 1  # "Haus"
    start = tt.text.index(tt.results[k].target.split()[t_word], len(tt.results[0].target))
    _move(tgt.viewport(), _point_of(tgt, start + 1))
    shown = hl.weights("source")
    assert shown, "no source word highlighted"
    row = words.matrix[t_word]
    base = tt.source.index("The house")
    spans = [(base + m, base + m + len(w)) for m, w in zip(_word_starts("The house is small."), words.source_words)]
    best = int(row.argmax())
    strongest = max(shown, key=lambda x: x[2])
    assert strongest[:2] == spans[best]
    assert strongest[2] == pytest.approx(float(row[best]), rel=1e-5)
    # every highlighted range is a whole source word of that sentence, weight from the matrix
    for a, b, w in shown:
        j = spans.index((a, b))
        assert w == pytest.approx(float(row[j]), rel=1e-5)
    # the hovered target word itself is marked, nothing else on the target side
    assert [s.cursor.selectedText() for s in tgt.extraSelections()] == [tt.results[k].target.split()[t_word]]


def _word_starts(sentence: str) -> list[int]:
    out, pos = [], 0
    for w in sentence.split():
        pos = sentence.index(w, pos)
        out.append(pos)
        pos += len(w)
    return out


def test_hover_source_word_highlights_target_words(panes):
    e, tt, src, tgt, hl = panes
    words = _expected(tt, e, 0)
    _move(src.viewport(), _point_of(src, tt.source.index("dog") + 1))
    shown = hl.weights("target")
    col = words.matrix[:, 1]
    best = int(col.argmax())
    tgt_words = tt.results[0].target.split()
    strongest = max(shown, key=lambda x: x[2])
    assert tt.text[strongest[0] : strongest[1]] == tgt_words[best]
    assert strongest[2] == pytest.approx(float(col[best]), rel=1e-5)


def test_source_edit_clears_highlights_and_keeps_other_selections(panes, qtbot):
    e, tt, src, tgt, hl = panes
    from PySide6.QtWidgets import QTextEdit

    other = QTextEdit.ExtraSelection()
    other.cursor = QTextCursor(src.document())
    src.setExtraSelections([other])  # someone else's selection survives ours
    hl.highlight(0, "target", 0)
    assert hl.weights("source")
    assert len(src.extraSelections()) > 1
    src.textCursor().insertText("X")  # the user edits the source
    assert hl.weights("source") == [] and hl.weights("target") == []
    assert len(src.extraSelections()) == 1
    hl.highlight(0, "target", 0)  # stale: nothing is drawn until a new translation
    assert hl.weights("source") == []


def test_cursor_in_target_pane_highlights_and_follows_sentence(panes, qtbot):
    e, tt, src, tgt, hl = panes
    sentences = []
    hl.sentenceActivated.connect(sentences.append)
    tgt.setFocus()
    qtbot.waitUntil(tgt.hasFocus, timeout=2000)
    cursor = tgt.textCursor()
    cursor.setPosition(len(tt.text) - 2)
    tgt.setTextCursor(cursor)
    assert sentences and sentences[-1] == 1
    assert hl.weights("source")


# ------------------------------------------------------------------ the dock
def test_dock_navigator_overlay_exports_and_clear(qtbot, engines, tiny_models, tmp_path):
    e = engines["tiny-en-de"]
    tt = e.translate_text("The house is small. The dog is old.\nI like the garden.", GREEDY)
    dock = AlignmentDock()
    qtbot.addWidget(dock)
    dock.resize(520, 600)
    dock.show()
    panel = dock.panel
    panel.auto_heads = False
    dock.set_translation(tt, model_dir=tiny_models["tiny-en-de"])  # tokenizer loaded from the folder
    assert panel.sentence_box.count() == 3 and dock.current_sentence() == 0
    changed = []
    panel.sentenceChanged.connect(changed.append)
    panel.next_button.click()
    assert dock.current_sentence() == 1 and changed == [1]
    dock.set_current_sentence(2)
    assert panel.data().source_labels == ["I", "like", "the", "garden."]
    # overlay: argmax gives one link per target word; a low threshold gives more
    assert len(panel.heatmap._hard) == len(panel.data().target_labels)
    panel.set_hard_method("threshold", 0.05)
    assert panel.threshold_spin.isEnabled()
    many = set(panel.heatmap._hard)
    panel.set_hard_method("threshold", 0.9)
    assert len(panel.heatmap._hard) < len(many)
    panel.set_hard_method("none")
    assert panel.heatmap._hard == set() and panel.links._hard == set()
    panel.set_subwords(True)
    assert panel.data().subwords and panel.data().source_labels[-1] == "</s>"
    # exports: the current view as PNG and SVG, the whole text as Pharaoh and JSON
    for view in ("heatmap", "links"):
        panel.set_view(view)
        assert dock.export_view(tmp_path / f"{view}.svg") == "svg"
        _svg_ok(tmp_path / f"{view}.svg")
        assert dock.export_view(tmp_path / f"{view}.png") == "png"
        assert not QImage(str(tmp_path / f"{view}.png")).isNull()
    assert dock.export_alignments(tmp_path / "a.align", "pharaoh") == "pharaoh"
    lines = (tmp_path / "a.align").read_text().splitlines()
    assert len(lines) == 2
    for line, s_line, t_line in zip(lines, tt.source.split("\n"), tt.text.split("\n")):
        for pair in line.split():
            s, t = map(int, pair.split("-"))
            assert 0 <= s < len(s_line.split()) and 0 <= t < len(t_line.split())
    dock.export_alignments(tmp_path / "a.jsonl")
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 2
    # the source is edited: nothing stale stays
    dock.clear()
    assert panel.data() is None and panel.sentence_box.count() == 0
    assert "edited" in panel.status.text()
    assert not panel.action_pharaoh.isEnabled()


def test_dock_pending_sentence_and_refresh(qtbot, engines):
    e = engines["tiny-en-de"]
    job = e.start_text("The house is small. The dog is old.")
    panel = AlignmentPanel()
    qtbot.addWidget(panel)
    panel.set_translation(job, e.tokenizer)
    assert panel.data() is None and "not translated" in panel.status.text()
    for result in e.translate_sentences(job.sentences, GREEDY):
        job.add(result)
    panel.refresh()
    assert panel.data() is not None and panel.sentence_box.itemText(1).endswith("old.")
    assert panel.heads_available() is False  # no model_dir given: the heads tab says so


def test_connect_panel_and_panes(qtbot, panes):
    e, tt, src, tgt, hl = panes
    panel = AlignmentPanel()
    qtbot.addWidget(panel)
    panel.set_translation(tt, e.tokenizer)
    connect(panel, hl)
    _move(tgt.viewport(), _point_of(tgt, len(tt.text) - 3))  # into sentence 2
    assert panel.current_sentence() == 1
    panel.links.hovered.emit("target", 0)  # hovering in the viewer highlights the panes
    assert hl.weights("source")
    src.textCursor().insertText("Edited. ")  # editing the source clears the viewer too
    assert panel.data() is None and hl.weights("source") == []


# ------------------------------------------------------------------ all layers and heads
def test_all_heads_grid_off_thread(qtbot, engines, tiny_models):
    pytest.importorskip("transformers")
    e = engines["tiny-en-de"]
    tt = e.translate_text("The house is small.", GREEDY)
    panel = AlignmentPanel()
    qtbot.addWidget(panel)
    panel.resize(600, 600)
    panel.show()
    panel.set_translation(tt, e.tokenizer, tiny_models["tiny-en-de"])
    assert panel.heads_available()
    with qtbot.waitSignal(panel._job.finished, timeout=120_000):
        panel.set_view("heads")  # shown → computed on a worker thread
    heads = panel.heads_grid.heads()
    r = tt.results[0]
    assert heads.shape[2:] == r.attention.shape and heads.shape[:2] == (2, 4)
    # the model was converted with the heads averaged: the last layer's mean is what CT2 returned
    np.testing.assert_allclose(heads[-1].mean(axis=0), r.attention, atol=0.03)
    assert panel.heads_grid.selection() == (1, 4)
    panel.heads_grid.select(0, 2)  # "click" layer 1, head 2: enlarged below
    np.testing.assert_allclose(panel.heads_view.data().matrix,
                               AlignmentData.from_tokens(r.source_tokens, r.target_tokens, heads[0, 2],
                                                         e.tokenizer).matrix, rtol=1e-5)
    panel.heads_grid.grab()


@pytest.mark.parametrize("model_id", ["tiny-t5-sum", "tiny-bart-sum"])
def test_all_heads_rows_line_up_with_ct2_for_t5_and_bart(engines, tiny_models, model_id):
    pytest.importorskip("transformers")
    from s2s_desktop.gui.alignment.heads import compute_for_result

    e = engines[model_id]
    (r,) = e.translate_sentences(["Free software is good. The house is small."], GREEDY)
    heads = compute_for_result(tiny_models[model_id], r)  # T5: <pad> start; BART: </s> start + forced <s>
    assert heads.shape[2:] == r.attention.shape
    np.testing.assert_allclose(heads[-1].mean(axis=0), r.attention, atol=0.03)


def test_target_pane_rendered_differently_still_lines_up(qtbot, engines):
    """The main window's renderer need not reproduce reassemble() exactly (spaces between
    sentences, pending sentences): translated sentences are found in order."""
    e = engines["tiny-en-de"]
    tt = e.translate_text("The dog is old. The house is small.", GREEDY)
    shown = tt.results[0].target + "   " + tt.results[1].target
    assert shown != tt.text
    src, tgt = QPlainTextEdit(tt.source), QPlainTextEdit(shown)
    for w in (src, tgt):
        qtbot.addWidget(w)
    hl = PaneHighlighter(src, tgt, hover=False)
    hl.set_translation(tt, e.tokenizer)
    hl.highlight(1, "source", 1)  # "house"
    spans = hl.weights("target")
    assert spans and all(a >= len(tt.results[0].target) + 3 for a, _, _ in spans)
    assert hl.word_at("target", len(shown) - 2) == (1, len(tt.results[1].target.split()) - 1)
    tgt.setPlainText("something else entirely")
    assert hl.weights("target") == [] and hl.weights("source") == []
