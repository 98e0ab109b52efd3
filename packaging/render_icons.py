"""Render resources/icons/s2s-desktop.svg into the PNG sizes desktops and installers use.

    .venv/bin/python packaging/render_icons.py

Uses Qt's own SVG renderer (PySide6.QtSvg, part of the app's dependencies), so no extra
tool is needed. Output: s2s-desktop-<N>.png beside the SVG (the app's window icon, the
PyInstaller spec's .ico/.icns source, and what `packaging/linux/install-desktop.sh` copies
into the freedesktop hicolor theme).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SVG = ICONS / "s2s-desktop.svg"


def render(svg: Path = SVG, out_dir: Path = ICONS, sizes=SIZES) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (fonts, image plugins)
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        path = out_dir / f"s2s-desktop-{size}.png"
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"could not write {path}")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in render():
        print(p.relative_to(ICONS.parents[1]))
    sys.exit(0)
