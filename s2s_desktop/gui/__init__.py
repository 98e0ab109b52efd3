"""The PySide6 desktop GUI (``s2s-desktop``). Importing this package imports nothing heavy."""
