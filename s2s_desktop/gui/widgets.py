"""Small widgets of the main window: the message bar, the text panes and the renderer
that streams a translation into the target pane without re-laying out the whole text."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from s2s_desktop.gui.qtcompat import emit


def utf16_len(s: str) -> int:
    """Length in QString units (QTextCursor positions count UTF-16 code units)."""
    return len(s) + sum(1 for c in s if ord(c) > 0xFFFF)


def count_words(text: str) -> int:
    return len(text.split())


# --------------------------------------------------------------------- message bar
class MessageBar(QFrame):
    """A non-modal message strip above the panes: icon, text, optional details."""

    LEVELS = ("error", "warning", "info")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.level = "info"
        self.icon = QLabel()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setToolTip("Show or hide the technical details")
        self.close_button = QToolButton()
        self.close_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss (Ctrl+Shift+D)")
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(160)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setFont(QFont("monospace"))
        self.details.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.text, 1)
        row.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.details)
        self.details_button.toggled.connect(self.details.setVisible)
        self.close_button.clicked.connect(self.dismiss)
        self.hide()

    def show_message(self, text: str, level: str = "error", details: str = "") -> None:
        self.level = level if level in self.LEVELS else "info"
        pixmap = {
            "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
            "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
            "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
        }[self.level]
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self.icon.setPixmap(self.style().standardIcon(pixmap).pixmap(size, size))
        self.text.setText(text)
        self.details.setPlainText(details)
        self.details_button.setChecked(False)
        self.details_button.setVisible(bool(details))
        self._restyle()
        self.show()

    def _restyle(self) -> None:
        # tinted from the current palette, so it reads well in light and dark themes
        base = self.palette().color(QPalette.ColorRole.Window)
        tint = {"error": QColor(220, 50, 47), "warning": QColor(230, 160, 0), "info": QColor(38, 139, 210)}[self.level]
        mix = lambda a, b: int(a * 0.82 + b * 0.18)  # noqa: E731
        bg = QColor(mix(base.red(), tint.red()), mix(base.green(), tint.green()), mix(base.blue(), tint.blue()))
        self.setStyleSheet(
            f"#messageBar {{ background: {bg.name()}; border: 1px solid {tint.name()}; border-radius: 4px; }}"
        )

    def dismiss(self) -> None:
        self.hide()
        self.text.clear()
        self.details.clear()


# ------------------------------------------------------------------------ panes
class SourceEdit(QPlainTextEdit):
    """The editable source pane; dropped files are handed to the window instead of
    being inserted as URLs."""

    fileDropped = Signal(str)

    def _local_file(self, event) -> str | None:
        mime = event.mimeData()
        if mime.hasUrls():
            for url in mime.urls():
                if url.isLocalFile():
                    return url.toLocalFile()
        return None

    def dragEnterEvent(self, event):  # noqa: N802
        if self._local_file(event):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event):  # noqa: N802
        if self._local_file(event):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event):  # noqa: N802
        path = self._local_file(event)
        if path:
            event.acceptProposedAction()
            emit(self.fileDropped, path)
        else:
            super().dropEvent(event)


class Pane(QWidget):
    """A header (title, counts, buttons) over a text edit."""

    def __init__(self, title: str, edit: QPlainTextEdit, parent: QWidget | None = None):
        super().__init__(parent)
        self.edit = edit
        self.title = QLabel(title)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.counts = QLabel()
        self.counts.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.header = QHBoxLayout()
        self.header.setContentsMargins(2, 0, 2, 0)
        self.header.addWidget(self.title)
        self.header.addStretch(1)
        self.header.addWidget(self.counts)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(self.header)
        layout.addWidget(edit, 1)

    def add_button(self, button: QToolButton) -> None:
        button.setAutoRaise(True)
        self.header.addWidget(button)

    def update_counts(self) -> None:
        text = self.edit.toPlainText()
        words = count_words(text)
        self.counts.setText(f"{words:,} word{'s' if words != 1 else ''} · {len(text):,} characters")


# ------------------------------------------------------------- output rendering
class OutputRenderer:
    """Shows a TextTranslation in a read-only QPlainTextEdit while it fills in.

    Each segment of the layout is displayed as: the finished translation, else the
    streamed partial text, else the source sentence in the placeholder colour. Updates
    edit only the segments that changed (back to front, inside one edit block), so a
    long document does not get re-laid out on every streamed token.
    """

    def __init__(self, edit: QPlainTextEdit):
        self.edit = edit
        self.translation = None
        self.shown: list[str] = []  # text displayed per segment
        self.pending: list[bool] = []  # displayed in the "not translated yet" style
        self.partials: dict[int, str] = {}  # sentence index -> streamed text

    def _formats(self) -> tuple[QTextCharFormat, QTextCharFormat]:
        normal = QTextCharFormat()  # the edit's own text colour, whatever the theme
        pending = QTextCharFormat()
        pending.setForeground(self.edit.palette().color(QPalette.ColorRole.PlaceholderText))
        return normal, pending

    def _wanted(self) -> tuple[list[str], list[bool]]:
        t = self.translation
        texts = [seg.text for seg in t.segments]
        pending = [False] * len(texts)
        for i, seg_index in enumerate(t.segment_of):
            result = t.results.get(i)
            if result is not None:
                texts[seg_index] = result.target
            elif i in self.partials:
                texts[seg_index] = self.partials[i]
            else:
                pending[seg_index] = True
        return texts, pending

    def start(self, translation) -> None:
        self.translation = translation
        self.partials = {}
        self.shown, self.pending = [], []
        self.render(full=True)

    def clear(self) -> None:
        self.translation = None
        self.shown, self.pending, self.partials = [], [], {}

    def render(self, full: bool = False) -> None:
        if self.translation is None:
            return
        texts, pending = self._wanted()
        normal, grey = self._formats()
        doc = self.edit.document()
        bar = self.edit.verticalScrollBar()
        scroll = bar.value()
        cursor = QTextCursor(doc)
        cursor.beginEditBlock()
        if full or len(texts) != len(self.shown):
            cursor.select(QTextCursor.SelectionType.Document)
            cursor.removeSelectedText()
            cursor.setCharFormat(normal)
            # one insert per run of same-style segments: thousands of inserts would stall
            run: list[str] = []
            style = pending[0] if pending else False
            for text, is_pending in zip(texts, pending):
                if is_pending != style and run:
                    cursor.insertText("".join(run), grey if style else normal)
                    run = []
                style = is_pending
                run.append(text)
            if run:
                cursor.insertText("".join(run), grey if style else normal)
        else:
            starts, pos = [], 0
            for text in self.shown:
                starts.append(pos)
                pos += utf16_len(text)
            for i in range(len(texts) - 1, -1, -1):
                if texts[i] == self.shown[i] and pending[i] == self.pending[i]:
                    continue
                cursor.setPosition(starts[i])
                cursor.setPosition(starts[i] + utf16_len(self.shown[i]), QTextCursor.MoveMode.KeepAnchor)
                cursor.insertText(texts[i], grey if pending[i] else normal)
        cursor.endEditBlock()
        self.shown, self.pending = texts, pending
        bar.setValue(scroll)

    @property
    def text(self) -> str:
        """The text as the engine reassembles it (source shown for unfinished sentences)."""
        if self.translation is None:
            return self.edit.toPlainText()
        return self.translation.text


def recent_label(path: str) -> str:
    p = Path(path)
    return f"{p.name}  —  {p.parent}"


__all__ = ["MessageBar", "OutputRenderer", "Pane", "SourceEdit", "count_words", "recent_label", "utf16_len"]
