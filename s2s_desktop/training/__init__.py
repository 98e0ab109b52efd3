"""Training pipeline (Qt-free): corpora, DDTP builder, vocabularies, Marian training,
export to CTranslate2 with a model card, evaluation.

Heavy imports (torch, transformers) happen only inside the functions that need them.
"""

from s2s_desktop.core.errors import S2SError


class TrainingError(S2SError):
    """A corpus, run directory or training setting is unusable; the message says why."""


class CorpusError(TrainingError):
    """A corpus cannot be read or holds no usable pairs."""
