"""The PySide6 desktop GUI (``s2s-desktop``). Importing this package imports nothing heavy.

It does install :mod:`s2s_desktop.gui.qtcompat`'s work-around for PySide6 6.12's
reference-counting bug on Python 3.11 (without it a long session aborts).
"""

from s2s_desktop.gui.qtcompat import install as _install_qt_workarounds

_install_qt_workarounds()
