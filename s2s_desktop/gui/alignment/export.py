"""PNG and SVG export of an alignment view (anything with ``content_size()`` and
``paint_content(painter)``): the whole picture, not just the scrolled-to part."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QColor, QImage, QPainter

MAX_PIXELS = 16_000  # per side; very large views are scaled down for PNG


def export_png(view, path: str | Path, scale: float = 2.0) -> QSize:
    size = view.content_size()
    scale = min(scale, MAX_PIXELS / max(1, size.width()), MAX_PIXELS / max(1, size.height()))
    img = QImage(max(1, int(size.width() * scale)), max(1, int(size.height() * scale)), QImage.Format.Format_ARGB32)
    img.fill(QColor(255, 255, 255))
    painter = QPainter(img)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.scale(scale, scale)
        view.paint_content(painter)
    finally:
        painter.end()
    if not img.save(str(path), "PNG"):
        raise OSError(f"Cannot write {path}")
    return img.size()


def export_svg(view, path: str | Path, title: str = "Attention alignment") -> QSize:
    from PySide6.QtSvg import QSvgGenerator

    size = view.content_size()
    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(size)
    gen.setViewBox(QRect(0, 0, size.width(), size.height()))
    gen.setTitle(title)
    gen.setDescription("Exported by s2s-desktop's alignment viewer")
    painter = QPainter()
    if not painter.begin(gen):
        raise OSError(f"Cannot write {path}")
    try:
        view.paint_content(painter)
    finally:
        painter.end()
    if not Path(path).is_file():
        raise OSError(f"Cannot write {path}")
    return size


def export_image(view, path: str | Path, title: str = "Attention alignment") -> str:
    """PNG or SVG by the file suffix (PNG when there is none). Returns the kind."""
    if str(path).lower().endswith(".svg"):
        export_svg(view, path, title)
        return "svg"
    export_png(view, path)
    return "png"
