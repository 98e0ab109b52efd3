"""s2s-desktop: offline translation and summarization on CTranslate2 seq2seq models."""

__version__ = "0.1.0"
APP_NAME = "s2s-desktop"
