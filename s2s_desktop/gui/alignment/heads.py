"""All layers and heads: re-run one sentence through the original Hugging Face model.

CTranslate2 returns one matrix (the last layer's cross-attention, head 0 or the head
average fixed at conversion). When the converter kept the checkpoint under ``hf/``, this
module teacher-forces the sentence's own source and target tokens through transformers
(imported lazily, on a worker thread) and returns every decoder layer's cross-attention
for every head: an array ``(layers, heads, target_tokens, source_tokens)`` whose rows
line up with ``SentenceResult.attention``.

:class:`HeadsGrid` shows it as a layer × head grid of small heatmaps (plus each layer's
head average); clicking one selects it (the dock shows it enlarged).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Sequence

import numpy as np
from PySide6.QtCore import QObject, QRect, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QToolTip, QWidget

from s2s_desktop.gui.alignment.data import ramp

_models: dict[str, tuple] = {}
_models_lock = threading.Lock()


def hf_checkpoint(model_dir: str | Path | None) -> Path | None:
    """The kept Hugging Face checkpoint of a model folder, if there is one."""
    if not model_dir:
        return None
    hf = Path(model_dir) / "hf"
    return hf if (hf / "config.json").is_file() else None


def _vocab(model_dir: Path, hf: Path):
    """token → id as the Hugging Face model numbers them."""
    if (hf / "vocab.json").is_file():  # Marian
        vocab = json.loads((hf / "vocab.json").read_text(encoding="utf-8"))
        return vocab.get, vocab.get("<unk>", 0)
    if (hf / "tokenizer.json").is_file():  # BART and other tokenizers-library models
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(hf / "tokenizer.json"))
        return tok.token_to_id, tok.token_to_id("<unk>") or 0
    for name in ("spiece.model", "source.spm", "sentencepiece.bpe.model"):
        if (hf / name).is_file():  # T5
            import sentencepiece as spm

            sp = spm.SentencePieceProcessor(model_file=str(hf / name))
            unk = sp.unk_id()
            size = sp.get_piece_size()

            def lookup(token, _sp=sp, _unk=unk, _size=size):
                if token.startswith("<extra_id_") and token.endswith(">"):
                    try:
                        return _size + 99 - int(token[10:-1])  # T5's added sentinel ids
                    except ValueError:
                        return None
                i = _sp.piece_to_id(token)
                return None if i == _unk and token != _sp.id_to_piece(_unk) else i

            return lookup, unk
    for name in ("shared_vocabulary.json", "source_vocabulary.json"):
        if (model_dir / name).is_file():
            vocab = {t: i for i, t in enumerate(json.loads((model_dir / name).read_text(encoding="utf-8")))}
            return vocab.get, vocab.get("<unk>", 0)
    raise FileNotFoundError(f"no vocabulary found for {model_dir}")


def _load(model_dir: Path):
    key = str(Path(model_dir).resolve())
    with _models_lock:
        if key in _models:
            return _models[key]
        hf = hf_checkpoint(model_dir)
        if hf is None:
            raise FileNotFoundError(f"{model_dir} keeps no Hugging Face checkpoint (hf/)")
        import torch  # noqa: F401  (lazily: only this mode needs it)
        from transformers import AutoModelForSeq2SeqLM

        model = AutoModelForSeq2SeqLM.from_pretrained(str(hf), attn_implementation="eager")
        model.eval()
        lookup, unk = _vocab(Path(model_dir), hf)
        _models[key] = (model, lookup, unk)
        return _models[key]


def release_models() -> None:
    """Forget the transformers models loaded for the all-heads mode (frees memory)."""
    with _models_lock:
        _models.clear()


def compute_cross_attentions(
    model_dir: str | Path,
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    target_prefix: Sequence[str] = (),
) -> np.ndarray:
    """(layers, heads, len(target_tokens), len(source_tokens)) cross-attention weights."""
    import torch

    model, lookup, unk = _load(Path(model_dir))

    def ids(tokens):
        out = []
        for tok in tokens:
            i = lookup(tok)
            out.append(unk if i is None else int(i))
        return out

    cfg = model.config
    start = cfg.decoder_start_token_id
    if start is None:
        start = cfg.pad_token_id if cfg.pad_token_id is not None else 0
    src = torch.tensor([ids(source_tokens)])
    dec = torch.tensor([[int(start)] + ids(list(target_prefix)) + ids(target_tokens)])
    with torch.inference_mode():
        out = model(input_ids=src, attention_mask=torch.ones_like(src), decoder_input_ids=dec, output_attentions=True)
    n = len(target_prefix)
    layers = [a[0, :, n : n + len(target_tokens), :].float().numpy() for a in out.cross_attentions]
    return np.stack(layers).astype(np.float32)


def compute_for_result(model_dir: str | Path, result, target_prefix: Sequence[str] | None = None) -> np.ndarray:
    if target_prefix is None:
        target_prefix = _manifest_prefix(model_dir)
    return compute_cross_attentions(model_dir, result.source_tokens, result.target_tokens, target_prefix)


def _manifest_prefix(model_dir) -> list[str]:
    try:
        from s2s_desktop.core.manifest import ModelManifest

        return list(ModelManifest.load(Path(model_dir)).target_prefix)
    except Exception:
        return []


# ------------------------------------------------------------------ off the GUI thread
class HeadsJob(QObject):
    """Runs compute_for_result on a QThreadPool thread; results come back queued."""

    finished = Signal(int, object)  # request id, np.ndarray
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._next = 0
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)

    def start(self, model_dir, result, target_prefix=None) -> int:
        self._next += 1
        request = self._next
        job = self

        class _Run(QRunnable):
            def run(self_inner) -> None:  # noqa: N805
                try:
                    heads = compute_for_result(model_dir, result, target_prefix)
                except Exception as exc:  # shown in the dock, never raised into Qt
                    job.failed.emit(request, f"{type(exc).__name__}: {exc}")
                else:
                    job.finished.emit(request, heads)

        self.pool.start(_Run())
        return request

    @property
    def latest(self) -> int:
        return self._next

    def wait(self, ms: int = 60000) -> bool:
        return self.pool.waitForDone(ms)


# ------------------------------------------------------------------ the grid
class HeadsGrid(QWidget):
    """Layer × head thumbnails (rows: layers; last column: the layer's head average)."""

    selected = Signal(int, int)  # layer, head (head == heads: the average)

    def __init__(self, parent: QWidget | None = None, thumb: int = 72):
        super().__init__(parent)
        self._heads: np.ndarray | None = None
        self._thumb = thumb
        self._sel = (-1, -1)
        self._lut = [QColor(*c).rgb() for c in ramp(256)]
        self._images: dict[tuple[int, int], QImage] = {}
        self._message = ""
        self.setMouseTracking(True)

    def set_heads(self, heads: np.ndarray | None, message: str = "") -> None:
        self._heads = heads
        self._message = message
        self._images.clear()
        self._sel = (-1, -1)
        self.updateGeometry()
        self.resize(self.sizeHint())
        self.update()

    def heads(self) -> np.ndarray | None:
        return self._heads

    def selection(self) -> tuple[int, int]:
        return self._sel

    def select(self, layer: int, head: int) -> None:
        self._sel = (layer, head)
        self.update()
        self.selected.emit(layer, head)

    def matrix(self, layer: int, head: int) -> np.ndarray:
        assert self._heads is not None
        return self._heads[layer].mean(axis=0) if head >= self._heads.shape[1] else self._heads[layer, head]

    def _geometry(self):
        fm = QFontMetrics(self.font())
        return fm.horizontalAdvance("L00 ") + 6, fm.height() + 6, self._thumb + 8

    def sizeHint(self) -> QSize:  # noqa: N802
        if self._heads is None:
            return QSize(240, 80)
        lw, lh, step = self._geometry()
        layers, heads = self._heads.shape[:2]
        return QSize(lw + (heads + 1) * step + 6, lh + layers * step + 6)

    def content_size(self) -> QSize:
        return self.sizeHint()

    def _cell_at(self, pos) -> tuple[int, int]:
        if self._heads is None:
            return -1, -1
        lw, lh, step = self._geometry()
        layers, heads = self._heads.shape[:2]
        col, row = (pos.x() - lw) // step, (pos.y() - lh) // step
        if pos.x() >= lw and pos.y() >= lh and 0 <= row < layers and 0 <= col <= heads:
            return int(row), int(col)
        return -1, -1

    def mousePressEvent(self, event) -> None:  # noqa: N802
        layer, head = self._cell_at(event.position().toPoint())
        if layer >= 0:
            self.select(layer, head)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        layer, head = self._cell_at(event.position().toPoint())
        if layer >= 0 and self._heads is not None:
            name = "average of the heads" if head >= self._heads.shape[1] else f"head {head}"
            m = self.matrix(layer, head)
            sharp = float(m.max(axis=1).mean()) if m.size else 0.0
            QToolTip.showText(event.globalPosition().toPoint(),
                              f"layer {layer + 1}, {name}\nmean row peak {sharp:.2f} — click to enlarge", self)
        else:
            QToolTip.hideText()

    def _image(self, layer: int, head: int) -> QImage:
        key = (layer, head)
        if key not in self._images:
            m = np.clip(self.matrix(layer, head), 0, 1)
            idx = np.ascontiguousarray((m * 255 + 0.5).astype(np.uint8))
            img = QImage(idx.data, idx.shape[1], idx.shape[0], idx.strides[0], QImage.Format.Format_Indexed8)
            img.setColorTable(self._lut)
            self._images[key] = img.copy()  # detach from the numpy buffer
        return self._images[key]

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        try:
            self.paint_content(p)
        finally:
            p.end()

    def paint_content(self, p: QPainter) -> None:
        hint = self.sizeHint()
        p.fillRect(QRect(0, 0, max(self.width(), hint.width()), max(self.height(), hint.height())), QColor(255, 255, 255))
        if self._heads is None:
            p.setPen(self.palette().placeholderText().color())
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message)
            return
        lw, lh, step = self._geometry()
        layers, heads = self._heads.shape[:2]
        p.setPen(QColor(60, 60, 60))
        for h in range(heads + 1):
            p.drawText(QRect(lw + h * step, 0, step, lh), Qt.AlignmentFlag.AlignCenter, "avg" if h == heads else f"H{h}")
        for layer in range(layers):
            p.setPen(QColor(60, 60, 60))
            p.drawText(QRect(0, lh + layer * step, lw - 4, step), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       f"L{layer + 1}")
            for h in range(heads + 1):
                target = QRect(lw + h * step + 4, lh + layer * step + 4, self._thumb, self._thumb)
                p.drawImage(target, self._image(layer, h))
                selected = (layer, h) == self._sel
                p.setPen(QPen(QColor(230, 85, 13) if selected else QColor(200, 200, 200), 3 if selected else 1))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(target.adjusted(-1, -1, 0, 0))
