"""Screenshots of the alignment viewer with a real translation (for docs/screenshots).

Run under a real X server (Xvfb), e.g.::

    Xvfb :99 -screen 0 1280x800x24 -nolisten tcp &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python bench/alignment_screenshot.py \\
        --model resources/models/ddtp-en-de --out /tmp/shots

It builds a stand-in window (source and target panes, the alignment dock on the right),
translates the text, hovers a target word (pane highlights + crosshair), and for each
of the heatmap, links and all-heads tabs grabs the X root window with ImageMagick's
``import`` (and the window itself with Qt as a fallback).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEXT = ("The house is small. I like the garden.\n"
        "The cat is black. The dog is old.")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--text", default=TEXT)
    ap.add_argument("--text-file")
    ap.add_argument("--out", default="/tmp/alignment-shots")
    ap.add_argument("--sentence", type=int, default=0)
    ap.add_argument("--word", type=int, default=1, help="target word hovered")
    ap.add_argument("--beam", type=int, default=1)
    ap.add_argument("--tabs", default="heatmap,links,heads")
    ap.add_argument("--size", default="1280x800")
    ap.add_argument("--subwords", action="store_true", help="show raw subword tokens")
    ap.add_argument("--hard", default="argmax", choices=("none", "argmax", "threshold"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = Path(args.text_file).read_text(encoding="utf-8") if args.text_file else args.text

    from PySide6.QtCore import QPointF, Qt, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow, QPlainTextEdit, QSplitter

    from s2s_desktop.core.engine import Engine, TranslationOptions
    from s2s_desktop.gui.alignment import AlignmentDock, PaneHighlighter, connect

    app = QApplication(sys.argv[:1])
    engine = Engine(args.model, intra_threads=2)
    tt = engine.translate_text(text, TranslationOptions(beam_size=args.beam))
    win = QMainWindow()
    win.setWindowTitle("s2s-desktop — alignments")
    w, h = map(int, args.size.split("x"))
    win.resize(w, h)
    src, tgt = QPlainTextEdit(tt.source), QPlainTextEdit(tt.text)
    for edit in (src, tgt):
        edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
    split = QSplitter(Qt.Orientation.Vertical)
    split.addWidget(src)
    split.addWidget(tgt)
    win.setCentralWidget(split)
    dock = AlignmentDock(win)
    win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    win.resizeDocks([dock], [int(w * 0.58)], Qt.Orientation.Horizontal)
    hl = PaneHighlighter(src, tgt)
    connect(dock.panel, hl)
    dock.set_translation(tt, engine.tokenizer, args.model)
    hl.set_translation(tt, engine.tokenizer)
    dock.set_current_sentence(args.sentence)
    dock.panel.set_subwords(args.subwords)
    dock.panel.set_hard_method(args.hard)
    win.show()

    tabs = [t for t in args.tabs.split(",") if t]
    state = {"i": 0}

    def hover(widget, point) -> None:
        from PySide6.QtCore import QEvent
        from PySide6.QtGui import QMouseEvent

        ev = QMouseEvent(QEvent.Type.MouseMove, QPointF(point), widget.mapToGlobal(QPointF(point)),
                         Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(widget, ev)

    def prepare(tab: str) -> None:
        panel = dock.panel
        panel.set_view(tab)
        data = panel.data()
        if data is None:
            return
        word = min(args.word, data.shape[0] - 1)
        if tab == "heatmap":
            view = panel.heatmap
            ox, oy = view._origin()
            c = view.cell_size()
            best = int(data.matrix[word].argmax())
            view.ensure_visible(word, best)
            ox, oy = ox - view.horizontalScrollBar().value(), oy - view.verticalScrollBar().value()
            hover(view.viewport(), QPointF(ox + (best + 0.5) * c, oy + (word + 0.5) * c))
        elif tab == "links":
            view = panel.links
            view.ensure_visible("target", word)
            top, bottom, th = view._rows(view.viewport().height())
            hover(view.viewport(), QPointF(view.word_x_in_view("target", word), bottom + th / 2))
        hl.highlight(args.sentence, "target", word)

    def step() -> None:
        if state["i"] >= len(tabs):
            app.quit()
            return
        tab = tabs[state["i"]]
        prepare(tab)
        if tab == "heads" and dock.panel.heads_available():
            dock.panel.wait_for_heads(120_000)
            app.processEvents()
            prepare(tab)
        QTimer.singleShot(700, lambda: capture(tab))

    def capture(tab: str) -> None:
        win.grab().save(str(out / f"alignment-{tab}-qt.png"))
        if os.environ.get("DISPLAY"):
            subprocess.run(["import", "-window", "root", str(out / f"alignment-{tab}.png")], check=False)
        state["i"] += 1
        QTimer.singleShot(100, step)

    QTimer.singleShot(1500, step)
    app.exec()
    print("\n".join(str(p) for p in sorted(out.glob("alignment-*.png"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
