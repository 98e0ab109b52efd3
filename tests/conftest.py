import hashlib
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parents[1]
# The tiny models are rebuilt whenever the code that builds them changes.
_BUILD_INPUTS = [ROOT / "tests" / "factory.py", ROOT / "s2s_desktop" / "models" / "convert.py", ROOT / "s2s_desktop" / "core" / "manifest.py"]


@pytest.fixture(scope="session")
def tiny_models(request) -> dict[str, Path]:
    """{id: CTranslate2 model dir} for tiny-en-de (trained Marian), tiny-t5-sum, tiny-bart-sum."""
    from tests.factory import build_all

    key = hashlib.sha256(b"".join(p.read_bytes() for p in _BUILD_INPUTS)).hexdigest()[:12]
    root = Path(request.config.cache.mkdir(f"tiny-models-{key}"))
    if not (root / "complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        build_all(root)
        (root / "complete").touch()
    return {p.name: p for p in sorted((root / "ct2").iterdir())}


@pytest.fixture
def model_store(tmp_path, tiny_models, monkeypatch):
    """A user store holding copies of the tiny models, and no bundled models."""
    from s2s_desktop.models.store import ModelStore

    models = tmp_path / "data" / "models"
    for model_id, path in tiny_models.items():
        shutil.copytree(path, models / model_id, ignore=shutil.ignore_patterns("hf"))
    monkeypatch.setenv("S2S_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("S2S_BUNDLED_DIR", str(tmp_path / "no-bundled"))
    return ModelStore()


@pytest.fixture(scope="session")
def en_de(tiny_models):
    from s2s_desktop.core.engine import Engine

    return Engine(tiny_models["tiny-en-de"], intra_threads=1)
