"""Where models live: bundled (read-only, shipped in resources/models) and the user's
store under the platformdirs data directory (``models/<id>/``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from s2s_desktop import APP_NAME
from s2s_desktop.core.errors import ModelError
from s2s_desktop.core.manifest import MANIFEST_NAME, ModelManifest

# Preferred defaults when the user has not chosen a model.
DEFAULT_TRANSLATE_PAIR = ("en", "de")


def data_dir() -> Path:
    """The user data directory (``S2S_DATA_DIR`` overrides it, e.g. for tests)."""
    override = os.environ.get("S2S_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def resources_dir() -> Path:
    """resources/ of a source checkout, or s2s_desktop/resources once installed."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "resources"
    return installed if installed.is_dir() else package.parent / "resources"


def bundled_models_dir() -> Path:
    override = os.environ.get("S2S_BUNDLED_DIR")
    return Path(override) if override else resources_dir() / "models"


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@dataclass
class InstalledModel:
    manifest: ModelManifest
    path: Path
    bundled: bool
    size_bytes: int

    @property
    def id(self) -> str:
        return self.manifest.id

    def to_json(self) -> dict:
        m = self.manifest
        return {
            "id": m.id,
            "name": m.name or m.id,
            "task": m.task,
            "source": m.source,
            "target": m.target if m.task == "translate" else None,
            "path": str(self.path),
            "size_bytes": self.size_bytes,
            "bundled": self.bundled,
            "quantization": m.quantization,
            "license": m.license,
            "source_repo": m.source_repo,
            "revision": m.revision,
        }


class ModelStore:
    def __init__(self, user_dir: Path | None = None, bundled_dir: Path | None = None):
        self.user_dir = Path(user_dir) if user_dir else data_dir() / "models"
        self.bundled_dir = Path(bundled_dir) if bundled_dir else bundled_models_dir()
        self.problems: list[str] = []  # unreadable model folders seen by the last list()

    def _scan(self, root: Path, bundled: bool) -> list[InstalledModel]:
        found = []
        if not root.is_dir():
            return found
        for child in sorted(root.iterdir()):
            # temp dirs of an install in progress start with "." and are never listed
            if child.name.startswith(".") or not child.is_dir():
                continue
            if not (child / MANIFEST_NAME).is_file():
                continue
            try:
                manifest = ModelManifest.load(child)
            except ModelError as exc:
                self.problems.append(str(exc))
                continue
            found.append(InstalledModel(manifest, child, bundled, dir_size(child)))
        return found

    def list(self) -> list[InstalledModel]:
        """Bundled models first; a user model with a bundled model's id is ignored."""
        self.problems = []
        models = self._scan(self.bundled_dir, True)
        seen = {m.id for m in models}
        for model in self._scan(self.user_dir, False):
            if model.id in seen:
                self.problems.append(f"{model.path}: id {model.id!r} is already used by a bundled model")
                continue
            seen.add(model.id)
            models.append(model)
        return models

    def get(self, id_or_path: str) -> InstalledModel:
        """A model by id, or any model directory given by path."""
        for model in self.list():
            if model.id == id_or_path:
                return model
        path = Path(id_or_path).expanduser()
        if (path / MANIFEST_NAME).is_file():
            return InstalledModel(ModelManifest.load(path), path, False, dir_size(path))
        known = ", ".join(m.id for m in self.list()) or "none installed"
        raise ModelError(f"No model {id_or_path!r} (installed: {known})")

    def default(self, task: str = "translate") -> InstalledModel:
        models = [m for m in self.list() if m.manifest.task == task]
        if not models:
            raise ModelError(
                f"No {task} model is installed. Install one with `s2s models download ID` "
                "(see `s2s models available`) or pass --model PATH."
            )
        if task == "translate":
            for m in models:
                if (m.manifest.source, m.manifest.target) == DEFAULT_TRANSLATE_PAIR:
                    return m
        return models[0]
