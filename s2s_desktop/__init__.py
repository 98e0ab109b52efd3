"""s2s-desktop: offline translation and summarization on CTranslate2 seq2seq models."""

__version__ = "0.1.0"
APP_NAME = "s2s-desktop"
# Desktop id: the .desktop file and AppStream metainfo names in packaging/linux/ (and the
# Wayland app_id), so that desktops match the window to its launcher and icon.
APP_ID = "io.github.s2s_desktop.s2s_desktop"
