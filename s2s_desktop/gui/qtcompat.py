"""Work-around for a reference-counting bug of PySide6 6.12 on Python < 3.12.

PySide6/shiboken6 6.12.0 return ``None`` from every void method (and ``True`` from
``Signal.emit()``) without taking a reference, which is harmless on Python 3.12+ where
those objects are immortal, but on Python 3.11 each call lowers the reference count by
one. A GUI makes millions of such calls (every ``setText``, ``setPosition``,
``insertText``...), so after a while the interpreter aborts with "Fatal Python error:
none_dealloc" (seen after about a minute of streaming output).

:func:`install` probes for the bug once and, where present, gives ``None``, ``True`` and
``False`` so many references that they can never reach zero -- what Python 3.12 does
by design. It is a no-op on 3.12+ and with a fixed binding. Importing ``s2s_desktop.gui``
installs it.
"""

from __future__ import annotations

import sys

_BOOST = 1 << 40  # a trillion calls before the count could come back down to today's value
_state: dict[str, object] = {}


def _leaks() -> dict[str, int]:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    n = 16
    none0, true0 = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(n):
        probe.setObjectName("probe")  # a void method
    none1 = sys.getrefcount(None)
    for _ in range(n):
        probe.ping.emit()
    true1 = sys.getrefcount(True)
    return {"None": none0 - none1, "True": true0 - true1}


def install() -> bool:
    """Apply the work-around if this binding needs it; True when applied."""
    if "applied" in _state:
        return bool(_state["applied"])
    applied = False
    if sys.version_info < (3, 12) and sys.implementation.name == "cpython":
        leaks = _leaks()
        _state["leaks"] = leaks
        if leaks["None"] > 0 or leaks["True"] > 0:
            import ctypes

            for obj in (None, True, False):
                ctypes.c_ssize_t.from_address(id(obj)).value += _BOOST  # ob_refcnt comes first
            applied = True
    _state["applied"] = applied
    return applied


def emit(signal, *args) -> None:
    """``signal.emit(*args)``; kept as one place to patch binding bugs around emits."""
    signal.emit(*args)
