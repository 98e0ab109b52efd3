"""Heatmap of target × source attention, with frozen row/column labels.

Rows are target words (left labels), columns source words (top labels, written
vertically). Scrolling moves the cells; the labels stay put on their edge. Ctrl+wheel or
:meth:`zoom` changes the cell size; where cells get smaller than a line of text only
every k-th label is drawn (the hovered one always), so labels never overlap. Hovering a
cell shows a crosshair and a tooltip with the word pair and weight.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt, Signal
import numpy as np
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QAbstractScrollArea, QToolTip, QWidget

from s2s_desktop.gui.alignment.data import AlignmentData, ramp

_LUT = [QColor(*c) for c in ramp(256)]
HARD_COLOR = QColor(230, 85, 13)
CROSS_COLOR = QColor(255, 170, 0)
FOCUS_COLOR = QColor(230, 85, 13)
SPECIAL_COLOR = QColor(130, 130, 130)
MARGIN = 6
LEGEND_H = 26  # the colour scale under the cells
MAX_LABEL = 180  # px; longer labels are elided (the tooltip has the full word)


def shade(value: float) -> QColor:
    return _LUT[max(0, min(255, int(value * 255 + 0.5)))]


class HeatmapView(QAbstractScrollArea):
    hovered = Signal(int, int)  # target index, source index (-1, -1: none)
    clicked = Signal(int, int)

    MIN_CELL, MAX_CELL, AUTO_MAX = 3, 72, 52

    def __init__(self, parent: QWidget | None = None, cell: int = 26):
        super().__init__(parent)
        self._data: AlignmentData | None = None
        self._img: QImage | None = None
        self._hard: set[tuple[int, int]] = set()
        self._cell = self._default = cell
        self._auto = True  # grow small matrices to fill the view until the user zooms
        self._hover: tuple[int, int] = (-1, -1)
        self._focus: tuple[str, int] = ("", -1)  # a word highlighted from outside
        self._message = "No alignment to show"
        self.viewport().setMouseTracking(True)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)
        self.setMinimumSize(120, 100)
        self._layout()

    # ------------------------------------------------------------------ API
    def set_data(self, data: AlignmentData | None, message: str = "") -> None:
        self._data = data
        self._img = None
        self._hover = (-1, -1)
        self._message = message or "No alignment to show"
        if data is not None and self._auto and data.matrix.size:
            self._cell = self._fitting(self._default, self.AUTO_MAX)
        self._layout()
        self.viewport().update()

    def data(self) -> AlignmentData | None:
        return self._data

    def _image(self) -> QImage:
        """The matrix as an indexed image (one pixel per cell), built once per data."""
        if self._img is None:
            idx = np.ascontiguousarray((np.clip(self._data.matrix, 0, 1) * 255 + 0.5).astype(np.uint8))
            img = QImage(idx.data, idx.shape[1], idx.shape[0], idx.strides[0], QImage.Format.Format_Indexed8)
            img.setColorTable([c.rgb() for c in _LUT])
            self._img = img.copy()
        return self._img

    def set_hard(self, pairs: set[tuple[int, int]]) -> None:
        self._hard = set(pairs)
        self.viewport().update()

    def set_focus_word(self, side: str, index: int) -> None:
        self._focus = (side, index)
        if index >= 0:
            self.ensure_visible(index if side == "target" else -1, index if side == "source" else -1)
        self.viewport().update()

    def ensure_visible(self, t: int = -1, s: int = -1) -> None:
        """Scroll so that row ``t`` / column ``s`` is on screen (centred if it was not)."""
        ox, oy = self._origin()
        c = self._cell
        for index, bar, room in ((s, self.horizontalScrollBar(), self.viewport().width() - ox),
                                 (t, self.verticalScrollBar(), self.viewport().height() - oy)):
            if index < 0 or room <= c:
                continue
            lo, hi = bar.value(), bar.value() + room
            if index * c < lo or (index + 1) * c > hi:
                bar.setValue(int(index * c + c / 2 - room / 2))

    def cell_size(self) -> int:
        return self._cell

    def set_cell_size(self, size: int) -> None:
        self._cell = max(self.MIN_CELL, min(self.MAX_CELL, int(size)))
        self._layout()
        self.viewport().update()

    def zoom(self, steps: float) -> None:
        self._auto = False
        self.set_cell_size(round(self._cell * (1.25 ** steps)) if steps else self._cell)

    def fit(self) -> None:
        """Cells as large as fit the visible area (at least MIN_CELL)."""
        if not self._data or not self._data.matrix.size:
            return
        self._auto = True
        self.set_cell_size(self._fitting(self.MIN_CELL, self.AUTO_MAX))

    def _fitting(self, lo: int, hi: int) -> int:
        self._layout()
        rows, cols = self._data.shape
        avail_w = self.viewport().width() - self._label_w - 2 * MARGIN
        avail_h = self.viewport().height() - self._label_h - 2 * MARGIN - LEGEND_H
        return int(max(lo, min(avail_w // max(cols, 1), avail_h // max(rows, 1), hi)))

    def content_size(self) -> QSize:
        """Size of the whole picture (labels + cells), for exports."""
        if not self._data:
            return QSize(320, 120)
        rows, cols = self._data.shape
        return QSize(max(self._label_w + cols * self._cell, self._label_w + 260) + 2 * MARGIN,
                     self._label_h + rows * self._cell + 2 * MARGIN + LEGEND_H)

    def paint_content(self, painter: QPainter) -> None:
        """Paint the whole picture at (0, 0), unscrolled (PNG/SVG export)."""
        size = self.content_size()
        self._paint(painter, 0, 0, size.width(), size.height(), export=True)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, 320)

    # ------------------------------------------------------------------ layout
    def _fonts(self) -> tuple[QFont, QFont]:
        font = QFont(self.font())
        bold = QFont(font)
        bold.setBold(True)
        return font, bold

    def _layout(self) -> None:
        font, bold = self._fonts()
        fm = QFontMetrics(bold)
        if self._data:
            widest = lambda labels: max((fm.horizontalAdvance(s) for s in labels), default=0)  # noqa: E731
            self._label_w = min(MAX_LABEL, widest(self._data.target_labels)) + 10
            self._label_h = min(MAX_LABEL, widest(self._data.source_labels)) + 10
        else:
            self._label_w = self._label_h = 0
        self._line_h = QFontMetrics(font).height()
        self._update_scrollbars()

    def _update_scrollbars(self) -> None:
        size = self.content_size() if self._data else QSize(0, 0)
        vp = self.viewport().size()
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setRange(0, max(0, size.width() - vp.width()))
        v.setRange(0, max(0, size.height() - vp.height()))
        h.setPageStep(vp.width())
        v.setPageStep(vp.height())
        h.setSingleStep(max(1, self._cell))
        v.setSingleStep(max(1, self._cell))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._auto and self._data is not None and self._data.matrix.size:
            self._cell = self._fitting(self._default, self.AUTO_MAX)
            self._layout()
        self._update_scrollbars()

    def _origin(self) -> tuple[int, int]:
        return MARGIN + self._label_w, MARGIN + self._label_h

    def _cell_at(self, pos: QPoint) -> tuple[int, int]:
        if not self._data:
            return -1, -1
        ox, oy = self._origin()
        x = pos.x() + self.horizontalScrollBar().value() - ox
        y = pos.y() + self.verticalScrollBar().value() - oy
        rows, cols = self._data.shape
        # over a label: the whole row / column
        t = math.floor(y / self._cell) if pos.y() >= oy else -1
        s = math.floor(x / self._cell) if pos.x() >= ox else -1
        t = t if 0 <= t < rows else -1
        s = s if 0 <= s < cols else -1
        return t, s

    # ------------------------------------------------------------------ events
    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position().toPoint()
        hover = self._cell_at(pos)
        if hover != self._hover:
            self._hover = hover
            self.hovered.emit(*hover)
            self.viewport().update()
        t, s = hover
        if self._data and (t >= 0 or s >= 0):
            QToolTip.showText(event.globalPosition().toPoint(), self.tooltip_text(t, s), self.viewport())
        else:
            QToolTip.hideText()

    def tooltip_text(self, t: int, s: int) -> str:
        d = self._data
        if d is None:
            return ""
        if t >= 0 and s >= 0:
            w = float(d.matrix[t, s])
            rank = int((d.matrix[t] > w).sum()) + 1
            hard = "  ● hard link" if (s, t) in self._hard else ""
            return (f"{d.target_detail[t]}  ←  {d.source_detail[s]}\n"
                    f"weight {w:.3f}  (rank {rank} of {d.shape[1]} in this row){hard}")
        if t >= 0:
            best = int(d.matrix[t].argmax()) if d.shape[1] else -1
            return f"target {t + 1}: {d.target_detail[t]}" + (
                f"\nstrongest source: {d.source_labels[best]} ({d.matrix[t, best]:.3f})" if best >= 0 else "")
        col = d.matrix[:, s]
        best = int(col.argmax()) if d.shape[0] else -1
        return f"source {s + 1}: {d.source_detail[s]}" + (
            f"\nstrongest target: {d.target_labels[best]} ({col[best]:.3f})" if best >= 0 else "")

    def leaveEvent(self, event) -> None:  # noqa: N802
        if self._hover != (-1, -1):
            self._hover = (-1, -1)
            self.hovered.emit(-1, -1)
            self.viewport().update()
        super().leaveEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        t, s = self._cell_at(event.position().toPoint())
        if t >= 0 or s >= 0:
            self.clicked.emit(t, s)
        super().mousePressEvent(event)

    def wheelEvent(self, event) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            pos = event.position().toPoint()
            ox, oy = self._origin()
            hx, hy = self.horizontalScrollBar(), self.verticalScrollBar()
            # keep the cell under the mouse in place
            fx = (pos.x() + hx.value() - ox) / self._cell
            fy = (pos.y() + hy.value() - oy) / self._cell
            self.zoom(1 if event.angleDelta().y() > 0 else -1)
            hx.setValue(int(fx * self._cell + ox - pos.x()))
            hy.setValue(int(fy * self._cell + oy - pos.y()))
            event.accept()
            return
        super().wheelEvent(event)

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        self.viewport().update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self.viewport())
        try:
            vp = self.viewport()
            self._paint(painter, self.horizontalScrollBar().value(), self.verticalScrollBar().value(),
                        vp.width(), vp.height())
        finally:
            painter.end()

    # ------------------------------------------------------------------ painting
    def _paint(self, p: QPainter, sx: int, sy: int, w: int, h: int, export: bool = False) -> None:
        pal = self.palette()
        p.fillRect(QRect(0, 0, w, h), QColor(255, 255, 255) if export else pal.base().color())
        d = self._data
        font, bold = self._fonts()
        p.setFont(font)
        if d is None or not d.matrix.size:
            p.setPen(pal.placeholderText().color())
            p.drawText(QRect(0, 0, w, h), Qt.AlignmentFlag.AlignCenter, self._message)
            return
        rows, cols = d.shape
        c = self._cell
        ox, oy = self._origin()
        ht, hs = (-1, -1) if export else self._hover
        fside, findex = self._focus
        # visible ranges
        t0 = max(0, sy // c - 1)
        t1 = min(rows, (sy + h - oy) // c + 2)
        s0 = max(0, sx // c - 1)
        s1 = min(cols, (sx + w - ox) // c + 2)
        # --- cells (clipped to the area right/below the labels)
        p.save()
        p.setClipRect(QRect(ox, oy, max(0, w - ox), max(0, h - oy)))
        p.translate(ox - sx, oy - sy)
        matrix = d.matrix
        gap = 1 if c >= 8 else 0
        if export or (t1 - t0) * (s1 - s0) <= 400:
            for t in range(t0, t1):  # vector cells (SVG stays crisp)
                row = matrix[t]
                for s in range(s0, s1):
                    p.fillRect(QRect(s * c, t * c, c - gap, c - gap), shade(float(row[s])))
        elif t1 > t0 and s1 > s0:
            # many cells on screen: one nearest-neighbour scaled image, then the grid
            p.drawImage(QRect(s0 * c, t0 * c, (s1 - s0) * c, (t1 - t0) * c), self._image(),
                        QRect(s0, t0, s1 - s0, t1 - t0))
            if gap:
                p.setPen(QPen(pal.base().color(), 1))
                for t in range(t0, t1):
                    p.drawLine(s0 * c, (t + 1) * c - 1, s1 * c, (t + 1) * c - 1)
                for s in range(s0, s1):
                    p.drawLine((s + 1) * c - 1, t0 * c, (s + 1) * c - 1, t1 * c)
        if c >= 30:  # room for the value
            small = QFont(font)
            small.setPointSizeF(max(6.0, font.pointSizeF() * 0.75))
            p.setFont(small)
            for t in range(t0, t1):
                for s in range(s0, s1):
                    v = float(matrix[t, s])
                    if v >= 0.005:
                        p.setPen(QColor(255, 255, 255) if v > 0.45 else QColor(40, 40, 40))
                        p.drawText(QRect(s * c, t * c, c - gap, c - gap), Qt.AlignmentFlag.AlignCenter,
                                   f"{v:.2f}".lstrip("0"))
            p.setFont(font)
        # external focus (from the panes / link view): a dashed outline, shades untouched
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(FOCUS_COLOR, 2, Qt.PenStyle.DashLine))
        if fside == "target" and 0 <= findex < rows:
            p.drawRect(QRect(0, findex * c, cols * c - gap, c - gap))
        elif fside == "source" and 0 <= findex < cols:
            p.drawRect(QRect(findex * c, 0, c - gap, rows * c - gap))
        # hard links
        if self._hard:
            pen = QPen(HARD_COLOR, max(1.0, min(2.5, c / 10)))
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            inset = max(1, c // 5)
            for s, t in self._hard:
                if t0 <= t < t1 and s0 <= s < s1:
                    if c >= 8:
                        p.drawRect(QRect(s * c + inset, t * c + inset, c - 2 * inset - gap, c - 2 * inset - gap))
                    else:
                        p.fillRect(QRect(s * c, t * c, c, c), HARD_COLOR)
        # crosshair: outlines, so the shades stay readable
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(CROSS_COLOR, 2))
        if ht >= 0:
            p.drawRect(QRect(0, ht * c, cols * c - gap, c - gap))
        if hs >= 0:
            p.drawRect(QRect(hs * c, 0, c - gap, rows * c - gap))
        if ht >= 0 and hs >= 0:
            p.setPen(QPen(QColor(0, 0, 0), 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRect(hs * c, ht * c, c - gap, c - gap))
        # colour scale (and the title, e.g. "layer 2, head 1") under the cells
        ly = rows * c + 8
        if ly - sy < h:
            bar_w = 120
            for k in range(60):
                p.fillRect(QRectF(k * bar_w / 60, ly, bar_w / 60 + 0.5, 10), shade(k / 59))
            p.setPen(QColor(90, 90, 90))
            p.drawRect(QRect(0, ly, bar_w, 10))
            caption = "weight 0 → 1" + (f"   {d.title}" if d.title else "")
            p.drawText(QRect(bar_w + 8, ly - 4, 600, 18), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       caption)
        p.restore()
        # --- labels
        fm = QFontMetrics(font)
        stride = max(1, math.ceil((self._line_h + 1) / c))
        emph = {("target", ht), ("source", hs), (fside, findex)}
        # row labels (target), right-aligned, frozen on the left
        p.save()
        p.setClipRect(QRect(0, oy, ox, max(0, h - oy)))
        p.translate(0, oy - sy)
        for t in range(t0, t1):
            strong = ("target", t) in emph
            if t % stride and not strong:
                continue
            self._label(p, QRect(MARGIN, t * c + (c - self._line_h) // 2, self._label_w - 6, self._line_h),
                        d.target_labels[t], d.target_special[t], strong, fm, font, bold, Qt.AlignmentFlag.AlignRight)
        p.restore()
        # column labels (source), vertical, frozen on top
        p.save()
        p.setClipRect(QRect(ox, 0, max(0, w - ox), oy))
        p.translate(ox - sx, oy)
        p.rotate(-90)
        for s in range(s0, s1):
            strong = ("source", s) in emph
            if s % stride and not strong:
                continue
            # rotated: x runs up from the cells, y runs along the columns
            self._label(p, QRect(4, s * c + (c - self._line_h) // 2, self._label_h - 8, self._line_h),
                        d.source_labels[s], d.source_special[s], strong, fm, font, bold, Qt.AlignmentFlag.AlignLeft)
        p.restore()
        # corner caption, when there is room for it
        small = QFont(font)
        small.setPointSizeF(max(6.0, font.pointSizeF() * 0.8))
        sfm = QFontMetrics(small)
        if sfm.horizontalAdvance("source →") <= ox - MARGIN - 4 and 2 * sfm.height() <= oy - MARGIN - 4:
            p.setPen(pal.placeholderText().color() if not export else QColor(120, 120, 120))
            p.setFont(small)
            p.drawText(QRect(MARGIN, MARGIN, ox - MARGIN - 4, oy - MARGIN - 4),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, "target ↓\nsource →")

    def _label(self, p, rect, text, special, strong, fm, font, bold, align) -> None:
        if strong:
            p.fillRect(rect.adjusted(-3, 0, 3, 0), QColor(255, 214, 102))
        p.setFont(bold if strong else font)
        p.setPen(SPECIAL_COLOR if special else QColor(20, 20, 20))
        metrics = QFontMetrics(bold) if strong else fm
        p.drawText(rect, align | Qt.AlignmentFlag.AlignVCenter,
                   metrics.elidedText(text, Qt.TextElideMode.ElideRight, rect.width()))
