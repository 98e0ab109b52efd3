"""Work around a refcount bug of PySide6 6.12 on CPython 3.11.

Measured here (PySide6/shiboken6 6.12.0, Python 3.11.7): every call of a wrapped C++
method that returns ``void`` (``QPainter.fillRect``, ``QWidget.update``,
``QRect.setX``…) hands back ``None`` without taking a reference, so each call lowers
``sys.getrefcount(None)`` by one. ``None`` starts with a few thousand references; a
heatmap repaint makes thousands of such calls, and the process dies with "Fatal Python
error: none_dealloc: deallocating None". (From Python 3.12 on, ``None`` is immortal and
the bug is harmless; shiboken apparently relies on that.)

``guard()`` gives ``None`` an enormous reference count once, which makes it immortal in
practice on 3.11 as well. Idempotent, a no-op on 3.12+ and on other interpreters.
"""

from __future__ import annotations

import sys

_BUMP = 1 << 40


def guard() -> None:
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return
    if sys.getrefcount(None) > _BUMP // 2:
        return
    import ctypes

    ctypes.c_ssize_t.from_address(id(None)).value += _BUMP
