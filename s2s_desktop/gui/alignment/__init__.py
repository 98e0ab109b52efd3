"""The attention-alignment viewer (issue 5).

Integration in the main window::

    from s2s_desktop.gui.alignment import AlignmentPanel, PaneHighlighter, connect

    panel = AlignmentPanel()
    self.alignment_dock.setWidget(panel)          # or AlignmentDock(self) as the dock
    highlighter = PaneHighlighter(self.source_edit, self.target_edit)
    connect(panel, highlighter)                   # cursor follows, hovers sync both ways

    # a translation starts / results arrive / the source is edited:
    panel.set_translation(text_translation, engine.tokenizer, engine.model_dir)
    highlighter.set_translation(text_translation, engine.tokenizer)
    panel.refresh(); highlighter.refresh()
    panel.clear(); highlighter.clear()

Nothing here imports torch/transformers; the all-heads mode does, lazily, on a worker
thread.
"""

# (importing s2s_desktop.gui first installs qtcompat's PySide6 6.12 work-around)
from s2s_desktop.gui.alignment.data import AlignmentData  # noqa: E402
from s2s_desktop.gui.alignment.dock import AlignmentDock, AlignmentPanel  # noqa: E402
from s2s_desktop.gui.alignment.heads import HeadsGrid, compute_cross_attentions, hf_checkpoint  # noqa: E402
from s2s_desktop.gui.alignment.heatmap import HeatmapView  # noqa: E402
from s2s_desktop.gui.alignment.highlighter import PaneHighlighter  # noqa: E402
from s2s_desktop.gui.alignment.links import LinkView  # noqa: E402

__all__ = [
    "AlignmentData", "AlignmentDock", "AlignmentPanel", "HeadsGrid", "HeatmapView", "LinkView", "PaneHighlighter",
    "compute_cross_attentions", "connect", "hf_checkpoint",
]


def connect(panel, highlighter) -> None:
    """Wire a panel (or dock) and a pane highlighter together: the panel follows the
    sentence under the cursor, a word hovered in either shows in the other, and editing
    the source clears both (no stale alignments even if the window forgets to)."""
    highlighter.sentenceActivated.connect(panel.set_current_sentence)
    highlighter.invalidated.connect(panel.clear)
    highlighter.wordFocused.connect(lambda sentence, side, word: _focus(panel, sentence, side, word))
    panel.wordHovered.connect(highlighter.highlight_word)


def _focus(panel, sentence: int, side: str, word: int) -> None:
    if sentence == panel.current_sentence():
        panel.set_focus_word(side, word)
