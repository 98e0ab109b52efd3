"""Paint times of the alignment views for long sentences (offscreen).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/alignment_render.py

Prints milliseconds per repaint of the heatmap (default cell size and zoomed out to
4 px cells) and of the link view, for 20/80/200-word sentences with peaked attention
(most weight near the diagonal, as real translations have), plus SVG/PNG export times.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def peaked(n: int, rng) -> np.ndarray:
    pos = np.arange(n)
    m = np.exp(-((pos[None, :] - pos[:, None] - rng.normal(0, 1.5, (n, 1))) ** 2) / 4.0)
    m += rng.dirichlet(np.full(n, 0.1), size=n) * 0.2
    return (m / m.sum(axis=1, keepdims=True)).astype(np.float32)


def timed(fn, repeat: int = 10) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat * 1000


def main() -> int:
    app = QApplication.instance() or QApplication([])  # noqa: F841
    from s2s_desktop.gui.alignment import AlignmentData, HeatmapView, LinkView
    from s2s_desktop.gui.alignment.export import export_png, export_svg

    rng = np.random.default_rng(0)
    print("| words | heatmap (auto cells) | heatmap (4 px cells) | link view | hover repaint, links | SVG export | PNG export |")
    print("|---|---|---|---|---|---|---|")
    for n in (20, 80, 200):
        data = AlignmentData([f"source{i}" for i in range(n)], [f"Ziel{i}" for i in range(n)], peaked(n, rng))
        heat, links = HeatmapView(), LinkView()
        for w in (heat, links):
            w.resize(700, 500)
            w.show()
            w.set_data(data)
            w.set_hard(data.hard("argmax"))
        a = timed(lambda: heat.viewport().grab())
        heat.set_cell_size(4)
        b = timed(lambda: heat.viewport().grab())
        c = timed(lambda: links.viewport().grab())
        links.set_focus_word("target", n // 2)
        d = timed(lambda: links.viewport().grab())
        with tempfile.TemporaryDirectory() as tmp:
            heat.set_cell_size(22)
            e = timed(lambda: export_svg(heat, Path(tmp) / "h.svg"), 2)
            f = timed(lambda: export_png(links, Path(tmp) / "l.png"), 2)
        print(f"| {n} | {a:.1f} ms | {b:.1f} ms | {c:.1f} ms | {d:.1f} ms | {e:.0f} ms | {f:.0f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
