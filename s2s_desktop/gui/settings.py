"""User settings: a plain dataclass, persisted with QSettings, edited in a dialog."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from s2s_desktop.core.device import COMPUTE_TYPES, DEVICES

THEMES = ("system", "light", "dark")
THEME_LABELS = {"system": "Follow system", "light": "Light", "dark": "Dark"}
DEVICE_LABELS = {"auto": "Automatic", "cpu": "CPU", "cuda": "CUDA (NVIDIA GPU)"}


def open_qsettings(path: str | Path | None = None) -> QSettings:
    """The app's settings file: ``settings.ini`` in the user data directory (so that
    ``S2S_DATA_DIR`` isolates tests and portable installs), or ``path``."""
    if path is None:
        from s2s_desktop.models.store import data_dir

        path = data_dir() / "settings.ini"
    return QSettings(str(path), QSettings.Format.IniFormat)


@dataclass
class AppSettings:
    device: str = "auto"
    compute_type: str = "auto"
    threads: int = 0  # 0 = automatic
    beam_size: int = 0  # 0 = the model's default
    max_length: int = 0  # max output tokens; 0 = the model's default
    translate_as_you_type: bool = True
    font_size: int = 0  # points; 0 = the system font size
    theme: str = "system"

    @classmethod
    def load(cls, qs: QSettings) -> AppSettings:
        values = {}
        default = cls()
        for f in fields(cls):
            fallback = getattr(default, f.name)
            raw = qs.value(f"settings/{f.name}", fallback)
            try:
                if isinstance(fallback, bool):
                    value = raw if isinstance(raw, bool) else str(raw).strip().lower() in ("1", "true", "yes", "on")
                elif isinstance(fallback, int):
                    value = max(0, int(raw))
                else:
                    value = str(raw)
            except (TypeError, ValueError):
                value = fallback
            values[f.name] = value
        s = cls(**values)
        if s.device not in DEVICES:
            s.device = "auto"
        if s.compute_type not in COMPUTE_TYPES:
            s.compute_type = "auto"
        if s.theme not in THEMES:
            s.theme = "system"
        return s

    def save(self, qs: QSettings) -> None:
        for f in fields(self):
            qs.setValue(f"settings/{f.name}", getattr(self, f.name))
        qs.sync()


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout()

        self.device = QComboBox()
        for d in DEVICES:
            self.device.addItem(DEVICE_LABELS.get(d, d), d)
        self.compute_type = QComboBox()
        for c in COMPUTE_TYPES:
            self.compute_type.addItem("Automatic" if c == "auto" else c, c)
        self.threads = QSpinBox()
        self.threads.setRange(0, 64)
        self.threads.setSpecialValueText("Automatic")
        self.beam_size = QSpinBox()
        self.beam_size.setRange(0, 16)
        self.beam_size.setSpecialValueText("Model default")
        self.beam_size.setToolTip("1 = greedy: fastest, and the output streams word by word")
        self.max_length = QSpinBox()
        self.max_length.setRange(0, 4096)
        self.max_length.setSingleStep(16)
        self.max_length.setSpecialValueText("Model default")
        self.max_length.setSuffix(" tokens")
        self.as_you_type = QCheckBox("Translate as you type")
        self.font_size = QSpinBox()
        self.font_size.setRange(0, 48)
        self.font_size.setSpecialValueText("System default")
        self.font_size.setSuffix(" pt")
        self.theme = QComboBox()
        for t in THEMES:
            self.theme.addItem(THEME_LABELS[t], t)

        form.addRow("&Device:", self.device)
        form.addRow("&Compute type:", self.compute_type)
        form.addRow("&Threads:", self.threads)
        form.addRow("&Beam size:", self.beam_size)
        form.addRow("&Max length:", self.max_length)
        form.addRow("", self.as_you_type)
        form.addRow("&Font size:", self.font_size)
        form.addRow("T&heme:", self.theme)

        note = QLabel("Device, compute type and threads apply the next time a model loads.")
        note.setWordWrap(True)
        note.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.set_values(settings)

    def set_values(self, s: AppSettings) -> None:
        self.device.setCurrentIndex(max(0, self.device.findData(s.device)))
        self.compute_type.setCurrentIndex(max(0, self.compute_type.findData(s.compute_type)))
        self.threads.setValue(s.threads)
        self.beam_size.setValue(s.beam_size)
        self.max_length.setValue(s.max_length)
        self.as_you_type.setChecked(s.translate_as_you_type)
        self.font_size.setValue(s.font_size)
        self.theme.setCurrentIndex(max(0, self.theme.findData(s.theme)))

    def values(self) -> AppSettings:
        return AppSettings(
            device=self.device.currentData(),
            compute_type=self.compute_type.currentData(),
            threads=self.threads.value(),
            beam_size=self.beam_size.value(),
            max_length=self.max_length.value(),
            translate_as_you_type=self.as_you_type.isChecked(),
            font_size=self.font_size.value(),
            theme=self.theme.currentData(),
        )
