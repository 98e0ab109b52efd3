"""Link view: source words on top, target words below, curves between them.

Curve opacity and width follow the weight (weights under ``floor`` are not drawn).
Hovering a word isolates its links and tints the words it links to (Seq2Seq-Vis style);
hard links are drawn on top in orange. Words are laid out from their real text widths,
so labels never overlap; the shorter row is spread to the longer one's width so links
stay as vertical as possible. Long sentences scroll horizontally; Ctrl+wheel zooms.
"""

from __future__ import annotations

import bisect

import numpy as np

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QAbstractScrollArea, QToolTip, QWidget

from s2s_desktop.gui.alignment.data import AlignmentData
from s2s_desktop.gui.alignment.heatmap import HARD_COLOR, SPECIAL_COLOR

LINK_COLOR = QColor(33, 113, 181)
HOVER_BG = QColor(255, 214, 102)
MARGIN = 10
GAP = 12  # px between words (at zoom 1)


class LinkView(QAbstractScrollArea):
    hovered = Signal(str, int)  # side ("source"/"target"), index; ("", -1) when none

    def __init__(self, parent: QWidget | None = None, floor: float = 0.03):
        super().__init__(parent)
        self._data: AlignmentData | None = None
        self._hard: set[tuple[int, int]] = set()
        self._floor = floor
        self._zoom = 1.0
        self._hover: tuple[str, int] = ("", -1)
        self._focus: tuple[str, int] = ("", -1)
        self._message = "No alignment to show"
        self._src_x: list[tuple[float, float]] = []  # (left, width) per word
        self._tgt_x: list[tuple[float, float]] = []
        self._width = 0
        self.viewport().setMouseTracking(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumSize(160, 120)
        self._layout()

    # ------------------------------------------------------------------ API
    def set_data(self, data: AlignmentData | None, message: str = "") -> None:
        self._data = data
        self._hover = ("", -1)
        self._message = message or "No alignment to show"
        self._layout()
        self.viewport().update()

    def data(self) -> AlignmentData | None:
        return self._data

    def set_hard(self, pairs: set[tuple[int, int]]) -> None:
        self._hard = set(pairs)
        self.viewport().update()

    def set_floor(self, floor: float) -> None:
        self._floor = float(floor)
        self.viewport().update()

    def set_focus_word(self, side: str, index: int) -> None:
        self._focus = (side, index)
        if index >= 0:
            self.ensure_visible(side, index)
        self.viewport().update()

    def ensure_visible(self, side: str, index: int) -> None:
        """Scroll so that a word is on screen (centred if it was not)."""
        spans = self._src_x if side == "source" else self._tgt_x
        if not (0 <= index < len(spans)):
            return
        left, width = spans[index]
        bar = self.horizontalScrollBar()
        vp = self.viewport().width()
        if left < bar.value() or left + width > bar.value() + vp:
            bar.setValue(int(left + width / 2 - vp / 2))

    def zoom_factor(self) -> float:
        return self._zoom

    def zoom(self, steps: float) -> None:
        self.set_zoom(self._zoom * (1.2 ** steps))

    def set_zoom(self, zoom: float) -> None:
        self._zoom = max(0.4, min(3.0, zoom))
        self._layout()
        self.viewport().update()

    def fit(self) -> None:
        self.set_zoom(1.0)

    def word_center(self, side: str, index: int) -> float:
        left, width = (self._src_x if side == "source" else self._tgt_x)[index]
        return left + width / 2

    def word_x_in_view(self, side: str, index: int) -> float:
        """x of a word's centre in viewport coordinates (scrolling and centring applied)."""
        return self.word_center(side, index) + self._xoff(self.viewport().width()) - self.horizontalScrollBar().value()

    def word_rects(self, side: str) -> list[tuple[float, float]]:
        return list(self._src_x if side == "source" else self._tgt_x)

    def content_size(self) -> QSize:
        """The picture for exports: as wide as all the words, as tall as it looks best."""
        font, _ = self._fonts()
        th = QFontMetrics(font).height() + 4
        band = max(90 * self._zoom, min(360 * self._zoom, 0.45 * self._width))
        return QSize(max(self._width, 200), int(2 * MARGIN + 2 * th + band + 8))

    def paint_content(self, painter: QPainter) -> None:
        size = self.content_size()
        self._paint(painter, 0, size.width(), size.height(), export=True)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, 240)

    # ------------------------------------------------------------------ layout
    def _fonts(self) -> tuple[QFont, QFont]:
        font = QFont(self.font())
        size = font.pointSizeF() if font.pointSizeF() > 0 else 9.0
        font.setPointSizeF(size * self._zoom)
        bold = QFont(font)
        bold.setBold(True)
        return font, bold

    def _min_height(self) -> int:
        font, _ = self._fonts()
        return int(QFontMetrics(font).height() * 2 + 2 * MARGIN + 90 * self._zoom)

    def _layout(self) -> None:
        self._src_x, self._tgt_x, self._width = [], [], 0
        if self._data is not None:
            _, bold = self._fonts()
            fm = QFontMetrics(bold)  # bold: hovering a word must not make it overlap
            gap = GAP * self._zoom
            ws = [fm.horizontalAdvance(s) + 6 * self._zoom for s in self._data.source_labels]
            wt = [fm.horizontalAdvance(s) + 6 * self._zoom for s in self._data.target_labels]
            total = lambda widths: sum(widths) + gap * max(0, len(widths) - 1)  # noqa: E731
            natural = max(total(ws), total(wt))
            # short sentences spread out to the view's width (at most 3× their natural width)
            width = max(natural, min(self.viewport().width() - 2 * MARGIN, natural * 3))
            self._src_x = _spread(ws, gap, width, MARGIN)
            self._tgt_x = _spread(wt, gap, width, MARGIN)
            self._width = int(width + 2 * MARGIN)
        self.setMinimumHeight(min(self._min_height() + 20, 400))
        self._update_scrollbars()

    def _update_scrollbars(self) -> None:
        h = self.horizontalScrollBar()
        vp = self.viewport().width()
        h.setRange(0, max(0, self._width - vp))
        h.setPageStep(vp)
        h.setSingleStep(20)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._layout()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        self.viewport().update()

    def _rows(self, h: int) -> tuple[float, float, float]:
        """(top text row y, bottom text row y, text height): the two rows a band apart,
        the band no taller than the words are wide (long curves read badly)."""
        font, _ = self._fonts()
        th = QFontMetrics(font).height() + 4
        band = h - 2 * MARGIN - 2 * th - 8
        band = max(40.0, min(band, max(90 * self._zoom, min(360 * self._zoom, 0.45 * self._width))))
        top = max(MARGIN, (h - band - 2 * th - 8) / 2)
        return top, top + th + 8 + band, th

    def _xoff(self, w: int) -> float:
        """Centre a picture narrower than the view."""
        return max(0.0, (w - self._width) / 2)

    def _word_at(self, x: float, y: float) -> tuple[str, int]:
        if self._data is None:
            return "", -1
        top, bottom, th = self._rows(self.viewport().height())
        if top <= y <= top + th:
            side, spans = "source", self._src_x
        elif bottom <= y <= bottom + th:
            side, spans = "target", self._tgt_x
        else:
            return "", -1
        lefts = [left for left, _ in spans]
        i = bisect.bisect_right(lefts, x) - 1
        if 0 <= i < len(spans) and spans[i][0] <= x <= spans[i][0] + spans[i][1]:
            return side, i
        return "", -1

    # ------------------------------------------------------------------ events
    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        hover = self._word_at(pos.x() + self.horizontalScrollBar().value() - self._xoff(self.viewport().width()), pos.y())
        if hover != self._hover:
            self._hover = hover
            self.hovered.emit(*hover)
            self.viewport().update()
        side, i = hover
        if self._data is not None and i >= 0:
            QToolTip.showText(event.globalPosition().toPoint(), self.tooltip_text(side, i), self.viewport())
        else:
            QToolTip.hideText()

    def tooltip_text(self, side: str, i: int) -> str:
        d = self._data
        if d is None:
            return ""
        if side == "source":
            weights, other, detail = d.matrix[:, i], d.target_labels, d.source_detail[i]
        else:
            weights, other, detail = d.matrix[i], d.source_labels, d.target_detail[i]
        order = [int(k) for k in weights.argsort()[::-1][:3] if weights[k] >= 0.01]
        lines = [detail] + [f"  {'→' if side == 'source' else '←'} {other[k]}  {weights[k]:.3f}" for k in order]
        return "\n".join(lines)

    def leaveEvent(self, event) -> None:  # noqa: N802
        if self._hover != ("", -1):
            self._hover = ("", -1)
            self.hovered.emit("", -1)
            self.viewport().update()
        super().leaveEvent(event)

    def wheelEvent(self, event) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            bar = self.horizontalScrollBar()
            x = event.position().x()
            frac = (x + bar.value()) / max(1, self._width)
            self.zoom(1 if event.angleDelta().y() > 0 else -1)
            bar.setValue(int(frac * self._width - x))
            event.accept()
            return
        if event.angleDelta().y() and not event.angleDelta().x():  # a plain wheel scrolls sideways
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - event.angleDelta().y())
            event.accept()
            return
        super().wheelEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self.viewport())
        try:
            self._paint(painter, self.horizontalScrollBar().value(), self.viewport().width(), self.viewport().height())
        finally:
            painter.end()

    # ------------------------------------------------------------------ painting
    def _paint(self, p: QPainter, sx: int, w: int, h: int, export: bool = False) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        pal = self.palette()
        p.fillRect(QRect(0, 0, w, h), QColor(255, 255, 255) if export else pal.base().color())
        d = self._data
        font, bold = self._fonts()
        p.setFont(font)
        if d is None or not d.matrix.size:
            p.setPen(pal.placeholderText().color())
            p.drawText(QRect(0, 0, w, h), Qt.AlignmentFlag.AlignCenter, self._message)
            return
        top, bottom, th = self._rows(h)
        y1, y2 = top + th + 2, bottom - 2
        mid = (y1 + y2) / 2
        xoff = self._xoff(w)
        p.translate(xoff - sx, 0)
        lo, hi = sx - xoff - 50, sx - xoff + w + 50
        hover = ("", -1) if export else self._hover
        side, idx = hover if hover[1] >= 0 else self._focus
        rows, cols = d.shape
        matrix = d.matrix
        # which links, with which weights
        src_c = [left + width / 2 for left, width in self._src_x]
        tgt_c = [left + width / 2 for left, width in self._tgt_x]
        isolated = idx >= 0 and side in ("source", "target")
        ts, ss = np.nonzero(matrix >= self._floor)  # vectorized: 200×200 stays fast
        xs_all = np.asarray(src_c)[ss] if len(ss) else np.zeros(0)
        xt_all = np.asarray(tgt_c)[ts] if len(ts) else np.zeros(0)
        visible = ~(((xs_all < lo) & (xt_all < lo)) | ((xs_all > hi) & (xt_all > hi)))
        links = []
        for t, s, xs, xt in zip(ts[visible].tolist(), ss[visible].tolist(), xs_all[visible].tolist(),
                                xt_all[visible].tolist()):
            on = not isolated or (side == "source" and s == idx) or (side == "target" and t == idx)
            links.append((on, float(matrix[t, s]), xs, xt))
        links.sort(key=lambda item: (item[0], item[1]))  # strong and isolated links on top
        p.setBrush(Qt.BrushStyle.NoBrush)
        for on, wgt, xs, xt in links:
            color = QColor(LINK_COLOR)
            if on:
                color.setAlphaF(min(1.0, 0.15 + 0.85 * wgt))
                pen = QPen(color, (0.6 + 5.0 * wgt) * self._zoom)
            else:
                color.setAlphaF(0.06)
                pen = QPen(color, 0.8 * self._zoom)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            path = QPainterPath(QPointF(xs, y1))
            path.cubicTo(QPointF(xs, mid), QPointF(xt, mid), QPointF(xt, y2))
            p.drawPath(path)
        if self._hard:
            for s, t in sorted(self._hard):
                if not (0 <= s < cols and 0 <= t < rows):
                    continue
                xs, xt = src_c[s], tgt_c[t]
                if (xs < lo and xt < lo) or (xs > hi and xt > hi):
                    continue
                on = not isolated or (side == "source" and s == idx) or (side == "target" and t == idx)
                color = QColor(HARD_COLOR)
                color.setAlphaF(0.95 if on else 0.2)
                pen = QPen(color, 1.6 * self._zoom, Qt.PenStyle.DashLine)
                p.setPen(pen)
                path = QPainterPath(QPointF(xs, y1))
                path.cubicTo(QPointF(xs, mid), QPointF(xt, mid), QPointF(xt, y2))
                p.drawPath(path)
        # words: the hovered one marked, the words it links to tinted by weight
        tint_src = tint_tgt = None
        if isolated and side == "target" and 0 <= idx < rows:
            tint_src = matrix[idx]
        elif isolated and side == "source" and 0 <= idx < cols:
            tint_tgt = matrix[:, idx]
        self._words(p, d.source_labels, d.source_special, self._src_x, top, th, font, bold,
                    idx if side == "source" else -1, tint_src, lo, hi)
        self._words(p, d.target_labels, d.target_special, self._tgt_x, bottom, th, font, bold,
                    idx if side == "target" else -1, tint_tgt, lo, hi)

    def _words(self, p, labels, special, spans, y, th, font, bold, strong_index, tint, lo, hi) -> None:
        peak = float(tint.max()) if tint is not None and tint.size and tint.max() > 0 else 1.0
        for i, (label, (left, width)) in enumerate(zip(labels, spans)):
            if left + width < lo or left > hi:
                continue
            rect = QRectF(left, y, width, th)
            if i == strong_index:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(HOVER_BG)
                p.drawRoundedRect(rect, 4, 4)
            elif tint is not None and tint[i] >= 0.02:
                bg = QColor(LINK_COLOR)
                bg.setAlphaF(min(1.0, 0.85 * float(tint[i]) / peak))
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(bg)
                p.drawRoundedRect(rect, 4, 4)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setFont(bold if i == strong_index else font)
            light = tint is not None and i != strong_index and float(tint[i]) / peak > 0.55
            p.setPen(QColor(255, 255, 255) if light else SPECIAL_COLOR if special[i] else QColor(20, 20, 20))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)


def _spread(widths: list[float], gap: float, width: float, margin: float) -> list[tuple[float, float]]:
    """Left edges: words in order, extra room shared evenly between the gaps (or around
    a single word)."""
    if not widths:
        return []
    used = sum(widths) + gap * (len(widths) - 1)
    extra = max(0.0, width - used)
    if len(widths) == 1:
        return [(margin + extra / 2, widths[0])]
    step = gap + extra / (len(widths) - 1)
    out, x = [], margin
    for wd in widths:
        out.append((x, wd))
        x += wd + step
    return out
