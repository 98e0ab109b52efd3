"""What the About dialog shows: version, bundled models and runtime libraries with their
licenses. Qt-free (plain data plus an HTML rendering), so tests and the CLI can use it."""

from __future__ import annotations

import html
import platform
from importlib import metadata

from s2s_desktop import APP_NAME, __version__

# (distribution, shown name, license when the installed metadata does not say)
RUNTIME_LIBRARIES = (
    ("ctranslate2", "CTranslate2", "MIT"),
    ("sentencepiece", "SentencePiece", "Apache-2.0"),
    ("tokenizers", "Hugging Face Tokenizers", "Apache-2.0"),
    ("numpy", "NumPy", "BSD-3-Clause"),
    ("PySide6_Essentials", "Qt for Python (PySide6) and Qt", "LGPL-3.0-only OR GPL-2.0-only OR GPL-3.0-only"),
    ("huggingface_hub", "huggingface_hub", "Apache-2.0"),
    ("platformdirs", "platformdirs", "MIT"),
    ("sentencex", "sentencex", "MIT"),
    ("charset-normalizer", "charset-normalizer", "MIT"),
    ("pypdf", "pypdf", "BSD-3-Clause"),
    ("python-docx", "python-docx", "MIT"),
    ("beautifulsoup4", "Beautiful Soup", "MIT"),
)


def _license_of(dist: metadata.Distribution) -> str | None:
    meta = dist.metadata
    expression = meta.get("License-Expression")
    if expression:
        return expression.strip()
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 80:
        return text
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return ", ".join(classifiers) or None


def library_licenses() -> list[tuple[str, str, str]]:
    """(name, version, license) of Python and each runtime library that is installed."""
    rows = [("Python", platform.python_version(), "PSF-2.0")]
    for dist_name, shown, fallback in RUNTIME_LIBRARIES:
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            continue
        rows.append((shown, dist.version, _license_of(dist) or fallback))
    return rows


def bundled_model_licenses() -> list[tuple[str, str, str]]:
    """(id, name, license) of each model shipped with the app."""
    from s2s_desktop.models.store import ModelStore

    return [(m.id, m.manifest.name or m.id, m.manifest.license or "unknown")
            for m in ModelStore().list() if m.bundled]


def about_html() -> str:
    esc = html.escape
    models = "".join(f"<li>{esc(name)} ({esc(mid)}): {esc(lic)}</li>" for mid, name, lic in bundled_model_licenses())
    libs = "".join(f"<li>{esc(name)} {esc(version)}: {esc(lic)}</li>" for name, version, lic in library_licenses())
    return (
        f"<p><b>{esc(APP_NAME)}</b> {esc(__version__)}<br>Offline translation and summarization on CTranslate2 "
        "models. Nothing you type leaves this computer.<br>License: MIT</p>"
        f"<p><b>Bundled models</b></p><ul>{models or '<li>none</li>'}</ul>"
        f"<p><b>Libraries</b></p><ul>{libs}</ul>"
        "<p>Qt and PySide6 are used under the LGPL-3.0: they are separate shared libraries in the installed "
        "app and can be replaced.</p>"
    )
