"""Debounced autosave of the source text, restored on the next launch (also after a
crash: the file is written atomically a moment after each edit)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

DELAY_MS = 500


def default_path() -> Path:
    from s2s_desktop.models.store import data_dir

    return data_dir() / "autosave" / "source.txt"


class Autosave(QObject):
    def __init__(self, path: Path | None = None, delay_ms: int = DELAY_MS, parent: QObject | None = None):
        super().__init__(parent)
        self.path = Path(path) if path else default_path()
        self._text: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.flush)
        self.error: str | None = None  # the last write error, if any

    def load(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return ""

    def schedule(self, text: str) -> None:
        self._text = text
        self._timer.start()

    @property
    def pending(self) -> bool:
        return self._text is not None

    def flush(self) -> None:
        self._timer.stop()
        if self._text is None:
            return
        text, self._text = self._text, None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)  # no fsync: an app crash keeps the page cache; fsync can stall the GUI
            os.replace(tmp, self.path)
            self.error = None
        except OSError as exc:
            self.error = f"Cannot autosave to {self.path}: {exc.strerror or exc}"
