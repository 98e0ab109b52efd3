"""The alignment viewer wired into the real main window, the way the window should do it
(the window builds them with its first translation)."""

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QEvent, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent, QTextCursor  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from s2s_desktop.gui.alignment import AlignmentPanel, PaneHighlighter, connect  # noqa: E402

LONG = 30_000


def wire(window):
    """The window wires the viewer itself; this returns its panel and highlighter."""
    return window.ensure_alignment_viewer()


@pytest.fixture
def window(qtbot, model_store, tmp_path):
    main_window = pytest.importorskip("s2s_desktop.gui.main_window")
    from s2s_desktop.gui.settings import open_qsettings
    from s2s_desktop.models.store import ModelStore

    w = main_window.MainWindow(store=ModelStore(), qsettings=open_qsettings(tmp_path / "settings.ini"),
                               autosave_path=tmp_path / "autosave" / "source.txt")
    for name in ("alignment_dock", "translationUpdated", "source", "target", "current_model", "select_model"):
        if not hasattr(w, name):
            pytest.skip(f"the main window has no {name} yet")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.select_model("tiny-en-de")
    yield w
    w.close()


def _move(widget, point) -> None:
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(point), widget.mapToGlobal(QPointF(point)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def test_viewer_in_the_main_window(qtbot, window):
    panel, highlighter = wire(window)
    window.alignment_dock.show()
    with qtbot.waitSignal(window.jobFinished, timeout=LONG, check_params_cb=lambda kind: kind == "translate"):
        window.source.setPlainText("The dog is old. The house is small.")
        window.run_task()
    qtbot.waitUntil(lambda: panel.data() is not None and len(window.current_translation.results) == 2, timeout=LONG)
    assert panel.sentence_box.count() == 2
    # hover the last word of the translation: the dock follows, the source pane lights up
    text = window.target.toPlainText()
    cursor = QTextCursor(window.target.document())
    cursor.setPosition(len(text) - 2)
    rect = window.target.cursorRect(cursor)
    _move(window.target.viewport(), QPointF(rect.x(), rect.center().y()))
    assert panel.current_sentence() == 1
    shown = highlighter.weights("source")
    assert shown and all(a >= len("The dog is old. ") for a, _, _ in shown)
    # the source is edited: no stale highlights, the dock says why
    window.source.textCursor().insertText("Now ")
    assert highlighter.weights("source") == [] and panel.data() is None


def test_hard_wrapped_paragraph_translates_as_sentences_and_highlights(qtbot, window):
    """Text pasted from an e-mail or a PDF is hard-wrapped: a sentence that runs across
    the wrap is translated whole, its translation takes one line, and hovering a word on
    the wrapped line still lights up that sentence's translation."""
    panel, highlighter = wire(window)
    source = "The dog is old and the house\nis small. We need a new computer.\n\nGood morning."
    with qtbot.waitSignal(window.jobFinished, timeout=LONG, check_params_cb=lambda kind: kind == "translate"):
        window.source.setPlainText(source)
        window.run_task()
    translation = window.current_translation
    assert translation.sentences == ["The dog is old and the house\nis small.", "We need a new computer.", "Good morning."]
    qtbot.waitUntil(lambda: len(translation.results) == 3, timeout=LONG)
    first = translation.results[0]
    assert "\n" not in first.target and first.source_tokens[:3] != []
    target = window.target.toPlainText()
    assert target.count("\n") == 2  # only the blank line between the paragraphs
    assert target.split("\n")[0].startswith(first.target)
    # hover "small." on the wrapped second line of the source
    cursor = QTextCursor(window.source.document())
    cursor.setPosition(source.index("small") + 2)
    rect = window.source.cursorRect(cursor)
    _move(window.source.viewport(), QPointF(rect.x(), rect.center().y()))
    assert panel.current_sentence() == 0
    lit = highlighter.weights("target")
    assert lit and all(a < len(first.target) for a, _, _ in lit)
