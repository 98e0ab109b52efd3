"""Install, import, remove and verify models: the orchestration behind the CLI and the
model manager dialog.

Install = catalog entry (or a repo id typed by hand) → inspect the repository →
disk-space check → download (``.downloads/`` in the store, resumable) → convert with
CTranslate2 in a separate process (cancellable: the process is killed) → manifest with
checksums → one ``os.replace`` of a finished directory into ``<store>/<id>``.

Work happens in hidden directories of the user store (names start with "." and the
store never lists them), so a crash or cancel never leaves a half model that the app
would list; leftovers of dead processes are removed by :meth:`ModelManager.cleanup`.

All methods block; the GUI calls them from a worker thread, the CLI from a thread it
can cancel with Ctrl-C. Progress arrives through ``on_progress(Progress)``; a
:class:`~s2s_desktop.core.jobs.CancelToken` stops a download at the next chunk and a
conversion at once.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from s2s_desktop.core.errors import Cancelled, ModelError, S2SError
from s2s_desktop.core.jobs import CancelToken, check
from s2s_desktop.core.manifest import MANIFEST_NAME, ModelManifest, TokenizerSpec
from s2s_desktop.models.catalog import Catalog, CatalogEntry, model_id_for_repo
from s2s_desktop.models.convert import QUANTIZATIONS, checksum_dir, infer_manifest, sha256_file
from s2s_desktop.models.store import InstalledModel, ModelStore, dir_size

MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
HIDDEN_PREFIXES = (".staging-", ".removing-", ".replacing-")
CONVERT_KILL_GRACE = 3.0  # seconds between terminate and kill of a cancelled conversion


@dataclass
class Progress:
    stage: str  # "inspect" | "download" | "convert" | "install" | "done"
    message: str
    done: int = 0  # bytes (download) or 0
    total: int = 0

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None


@dataclass
class VerifyReport:
    id: str
    path: Path
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # everything wrong, as sentences

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {"id": self.id, "path": str(self.path), "ok": self.ok, "checked": self.checked, "missing": self.missing,
                "changed": self.changed, "unexpected": self.unexpected, "problems": self.problems}


# ------------------------------------------------------------------ in use
class InUseRegistry:
    """Which model directories are loaded in this process (engines register here).

    ``track(engine, path)`` holds the directory until the engine is garbage-collected or
    ``release`` is called; :meth:`ModelManager.remove` refuses a model that is held.
    """

    def __init__(self):
        self._counts: dict[str, int] = {}
        self._finalizers: dict[int, weakref.finalize] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(path) -> str:
        return str(Path(path).resolve())

    def acquire(self, path) -> None:
        with self._lock:
            key = self._key(path)
            self._counts[key] = self._counts.get(key, 0) + 1

    def release(self, path) -> None:
        with self._lock:
            key = self._key(path)
            if self._counts.get(key, 0) <= 1:
                self._counts.pop(key, None)
            else:
                self._counts[key] -= 1

    def track(self, owner, path=None) -> None:
        """Hold ``path`` (default: ``owner.model_dir``) while ``owner`` is alive, or until
        :meth:`untrack` (e.g. right after ``engine.unload()``)."""
        path = path if path is not None else owner.model_dir
        self.acquire(path)
        key = id(owner)

        def done():
            self._finalizers.pop(key, None)
            self.release(path)

        self._finalizers[key] = weakref.finalize(owner, done)

    def untrack(self, owner) -> None:
        finalizer = self._finalizers.get(id(owner))
        if finalizer is not None:
            finalizer()  # runs once: releases now, not again at garbage collection

    def in_use(self, path) -> bool:
        with self._lock:
            return self._counts.get(self._key(path), 0) > 0


IN_USE = InUseRegistry()


# ------------------------------------------------------------------ helpers
def check_model_id(model_id: str) -> str:
    if not MODEL_ID.match(model_id or "") or model_id in (".", ".."):
        raise ModelError(f"{model_id!r} is not a valid model id (letters, digits, '.', '_' and '-'; at most 100)")
    return model_id


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # cannot tell safely; age decides instead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _find_ct2_files(folder: Path) -> bool:
    from s2s_desktop.models.download import CT2_VOCABS

    return (folder / "model.bin").is_file() and (folder / "config.json").is_file() and any((folder / v).is_file() for v in CT2_VOCABS)


def guess_tokenizer(folder: Path) -> tuple[TokenizerSpec, list[str], list[str]]:
    """Tokenizer spec, source prefix and suffix for a CT2 folder that has no manifest."""
    if (folder / "source.spm").is_file():
        return TokenizerSpec("sentencepiece", "source.spm", "target.spm" if (folder / "target.spm").is_file() else None), [], ["</s>"]
    for name in ("sentencepiece.bpe.model", "spiece.model", "sentencepiece.model"):
        if (folder / name).is_file():
            return TokenizerSpec("sentencepiece", name), [], ["</s>"]
    if (folder / "tokenizer.json").is_file():
        return TokenizerSpec("hf", "tokenizer.json"), ["<s>"], ["</s>"]
    raise ModelError(f"{folder} has no tokenizer file this app can use (source.spm, sentencepiece.bpe.model, spiece.model or tokenizer.json)")


def _weights_in(folder: Path) -> str | None:
    names = {p.name for p in folder.iterdir() if p.is_file()}
    if any(n.endswith(".safetensors") for n in names):
        return "safetensors"
    if any(n.startswith("pytorch_model") and n.endswith(".bin") for n in names):
        return "pickle"
    return None


def conversion_unavailable() -> str | None:
    """Why Hugging Face checkpoints cannot be converted in this installation, or None.

    Conversion (models.convert, run in a child ``sys.executable -m`` process) needs torch
    and transformers: the packaged (PyInstaller) app and a plain ``pip install`` have
    neither, and there the converter would only fail late with a NameError about torch.
    Pre-converted CTranslate2 models need no conversion and install everywhere.
    """
    alternative = ("Pre-converted CTranslate2 models ([pre-converted] in the catalog) install without it; or convert "
                   "the model with the full install and import the converted folder.")
    if getattr(sys, "frozen", False):
        return ("Converting Hugging Face checkpoints needs the full install of s2s-desktop (Python with torch and "
                "transformers); this packaged app has neither. " + alternative)
    missing = [name for name in ("torch", "transformers") if importlib.util.find_spec(name) is None]
    if missing:
        return (f"Converting Hugging Face checkpoints needs {' and '.join(missing)}, which this installation lacks: "
                "install the training extras (pip install torch, then pip install 's2s-desktop[train]'). " + alternative)
    return None


def require_conversion() -> None:
    """Raise ModelError with the reason when checkpoints cannot be converted here."""
    reason = conversion_unavailable()
    if reason:
        raise ModelError(reason)


# ------------------------------------------------------------------ manager
class ModelManager:
    def __init__(self, store: ModelStore | None = None, catalog: Catalog | None = None, *,
                 endpoint: str | None = None, token: str | None = None, isolate_conversion: bool = True):
        self.store = store or ModelStore()
        self._catalog = catalog
        self.endpoint = endpoint
        self.token = token
        # Conversion in a child process: cancellable by killing it, and torch stays out
        # of the app's memory. False converts in-process (faster in tests, not cancellable).
        self.isolate_conversion = isolate_conversion
        self.registry = IN_USE

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog.load()
        return self._catalog

    @property
    def user_dir(self) -> Path:
        return self.store.user_dir

    # ------------------------------------------------------------- queries
    def installed(self) -> list[InstalledModel]:
        return self.store.list()

    def in_use(self, model: InstalledModel) -> bool:
        return self.registry.in_use(model.path)

    def available(self, task: str | None = None, language: str | None = None, text: str | None = None) -> list[tuple[CatalogEntry, InstalledModel | None]]:
        """Catalog entries (filtered) with the installed model of the same id, if any."""
        installed = {m.id: m for m in self.store.list()}
        by_repo = {m.manifest.source_repo.lower(): m for m in installed.values() if m.manifest.source_repo}
        return [(e, installed.get(e.id) or by_repo.get(e.repo.lower())) for e in self.catalog.filter(task, language, text)]

    def _user_model(self, model_id: str) -> InstalledModel:
        for model in self.store.list():
            if model.id == model_id:
                return model
        known = ", ".join(m.id for m in self.store.list()) or "none installed"
        raise ModelError(f"No installed model {model_id!r} (installed: {known})")

    # ------------------------------------------------------------- install
    def resolve(self, id_or_repo: str) -> tuple[CatalogEntry | None, str]:
        entry = self.catalog.find(id_or_repo)
        if entry:
            return entry, entry.repo
        if "/" not in id_or_repo:
            raise ModelError(
                f"{id_or_repo!r} is neither in the catalog (see `s2s models available`) nor a Hugging Face repo id "
                "such as Helsinki-NLP/opus-mt-en-de"
            )
        return None, id_or_repo

    def install(
        self,
        id_or_repo: str,
        *,
        revision: str | None = None,
        quantization: str | None = None,
        model_id: str | None = None,
        source: str | None = None,
        target: str | None = None,
        task: str | None = None,
        allow_pickle: bool = False,
        keep_checkpoint: bool = False,
        force: bool = False,
        keep_download: bool = False,
        on_progress: Callable[[Progress], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> InstalledModel:
        """Download a catalog model or any repo, convert it and install it atomically."""
        from s2s_desktop.models.download import (
            UnsafeRepo,
            download_files,
            estimate_install_bytes,
            inspect_repo,
        )

        report = on_progress or (lambda _p: None)
        entry, repo_id = self.resolve(id_or_repo)
        model_id = check_model_id(model_id or (entry.id if entry else model_id_for_repo(repo_id)))
        self._check_target_free(model_id, force)
        quantization = quantization or (entry.quantization if entry else "int8")
        if quantization not in QUANTIZATIONS:
            raise ModelError(f"Unknown quantization {quantization!r}; choose one of {', '.join(QUANTIZATIONS)}")
        manifest = entry.manifest(model_id, source, target) if entry else None  # fail early on bad languages

        report(Progress("inspect", f"Looking up {repo_id}…"))
        try:
            inspection = inspect_repo(repo_id, revision or (entry.revision if entry else None), allow_pickle=allow_pickle,
                                      token=self.token, endpoint=self.endpoint)
        except UnsafeRepo:
            if revision or not (entry and entry.safetensors_revision):
                raise
            inspection = inspect_repo(repo_id, entry.safetensors_revision, allow_pickle=allow_pickle,
                                      token=self.token, endpoint=self.endpoint)
        check(cancel)
        if entry and entry.format == "ctranslate2" and inspection.kind != "ctranslate2":
            raise ModelError(f"{repo_id} was expected to hold a CTranslate2 model (model.bin) but does not")
        if inspection.kind != "ctranslate2":
            require_conversion()  # before downloading a checkpoint this installation cannot convert

        self.user_dir.mkdir(parents=True, exist_ok=True)
        self.cleanup()
        downloads = self.user_dir / ".downloads" / f"{repo_id.replace('/', '--')}--{inspection.sha[:12]}"
        need = estimate_install_bytes(inspection, quantization, keep_checkpoint)

        def on_bytes(p) -> None:
            report(Progress("download", f"Downloading {repo_id}", p.done, p.total))

        try:
            download_files(inspection, downloads, on_progress=on_bytes, cancel=cancel, token=self.token,
                           extra_space=max(0, need - inspection.download_bytes))
        except Cancelled:
            shutil.rmtree(downloads, ignore_errors=True)  # the user gave up on this one
            _rmdir_if_empty(downloads.parent)
            raise
        shutil.rmtree(downloads / ".cache", ignore_errors=True)  # huggingface_hub's bookkeeping

        provenance = {"source_repo": inspection.repo_id, "revision": inspection.sha}
        extra = {"revision_requested": inspection.revision, "download_bytes": inspection.download_bytes,
                 "weights_format": inspection.weights_format}
        if inspection.endpoint.rstrip("/") != "https://huggingface.co":
            extra["endpoint"] = inspection.endpoint
        try:
            if inspection.kind == "ctranslate2":
                if manifest is None:
                    manifest = self._manifest_for_ct2(downloads, model_id, task, source, target)
                self._fill(manifest, provenance, extra, quantization=manifest.quantization or (entry.quantization if entry else None))
                installed = self._install_folder(downloads, model_id, manifest, force=force, move=not keep_download,
                                                 report=report, cancel=cancel)
            else:
                if manifest is None:
                    manifest = self._infer(downloads, model_id, task, source, target)
                self._fill(manifest, provenance, extra)
                if entry and entry.license:
                    manifest.license = entry.license
                installed = self._convert_and_install(downloads, model_id, manifest, quantization=quantization,
                                                      keep_checkpoint=keep_checkpoint, force=force, report=report,
                                                      cancel=cancel)
        except Cancelled:
            shutil.rmtree(downloads, ignore_errors=True)
            _rmdir_if_empty(downloads.parent)
            raise
        if not keep_download:
            shutil.rmtree(downloads, ignore_errors=True)
            _rmdir_if_empty(self.user_dir / ".downloads")
        report(Progress("done", f"Installed {installed.id}"))
        return installed

    def _fill(self, manifest: ModelManifest, provenance: dict, extra: dict, quantization: str | None = None) -> None:
        manifest.source_repo = provenance["source_repo"]
        manifest.revision = provenance["revision"]
        manifest.extra.update(extra)
        if quantization:
            manifest.quantization = quantization

    def _infer(self, folder: Path, model_id: str, task: str | None, source: str | None, target: str | None) -> ModelManifest:
        overrides = {k: v for k, v in {"task": task, "source": source, "target": target}.items() if v}
        try:
            return infer_manifest(folder, model_id, **overrides)
        except ModelError as exc:
            raise ModelError(f"{exc}. Models outside the catalog must be Marian (OPUS-MT), T5 or BART; "
                             "NLLB and M2M100 are installed from their catalog entries.") from None

    def _manifest_for_ct2(self, folder: Path, model_id: str, task: str | None, source: str | None, target: str | None) -> ModelManifest:
        if (folder / MANIFEST_NAME).is_file():
            manifest = ModelManifest.load(folder)
            manifest.id = model_id
            manifest.source = source or manifest.source
            manifest.target = target or manifest.target
            manifest.files = {}
            return manifest
        tokenizer, prefix, suffix = guess_tokenizer(folder)
        task = task or "translate"
        if task == "translate" and not (source and target):
            raise ModelError(f"{folder.name} is a CTranslate2 model without an s2s manifest: say which languages it "
                             "translates (--source and --target)")
        manifest = ModelManifest(id=model_id, task=task, source=source, target=target if task == "translate" else None,
                                 tokenizer=tokenizer, source_prefix=prefix, source_suffix=suffix,
                                 target_prefix=["<s>"] if tokenizer.kind == "hf" else [])
        try:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            manifest.quantization = config.get("quantization") or None
        except (OSError, ValueError):
            pass
        return manifest

    def _check_target_free(self, model_id: str, force: bool) -> None:
        for model in self.store.list():
            if model.id != model_id:
                continue
            if model.bundled:
                raise ModelError(f"{model_id!r} is a bundled model; choose another id (--id)")
            if not force:
                raise ModelError(f"{model_id!r} is already installed at {model.path}; remove it first or reinstall with --force")
            if self.in_use(model):
                raise ModelError(f"{model_id!r} is in use; close it before reinstalling")
        final = self.user_dir / model_id
        if final.exists() and not force and not (final / MANIFEST_NAME).is_file():
            raise ModelError(f"{final} exists and is not a model; move it away or choose another id (--id)")

    def _staging(self, model_id: str) -> Path:
        self.user_dir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".staging-{os.getpid()}-{model_id}-", dir=self.user_dir))

    def _commit(self, ready: Path, model_id: str, force: bool) -> InstalledModel:
        """Move a finished model directory into place with one rename."""
        final = self.user_dir / model_id
        old = None
        if final.exists():
            if not force:
                raise ModelError(f"{model_id!r} is already installed; reinstall with --force")
            old = self.user_dir / f".replacing-{os.getpid()}-{model_id}-{uuid.uuid4().hex[:8]}"
            os.replace(final, old)
        try:
            os.replace(ready, final)
        except BaseException:
            if old is not None:
                os.replace(old, final)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        manifest = ModelManifest.load(final)
        return InstalledModel(manifest, final, False, dir_size(final))

    def _install_folder(self, folder: Path, model_id: str, manifest: ModelManifest, *, force: bool, move: bool,
                        report, cancel) -> InstalledModel:
        """Install a ready CTranslate2 folder: copy (or move) it, write the manifest."""
        report(Progress("install", "Installing"))
        staging = self._staging(model_id)
        try:
            ready = staging / "model"
            if move:
                shutil.move(str(folder), ready)
            else:
                shutil.copytree(folder, ready, ignore=shutil.ignore_patterns(".cache", MANIFEST_NAME))
            (ready / MANIFEST_NAME).unlink(missing_ok=True)
            check(cancel)
            self._check_complete(ready, manifest)
            manifest.id = model_id
            from datetime import datetime, timezone

            manifest.created = manifest.created or datetime.now(timezone.utc).isoformat(timespec="seconds")
            manifest.files = checksum_dir(ready)
            manifest.save(ready)
            check(cancel)
            return self._commit(ready, model_id, force)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @staticmethod
    def _check_complete(folder: Path, manifest: ModelManifest) -> None:
        needed = ["config.json", "model.bin", manifest.tokenizer.source, manifest.tokenizer.target_file]
        missing = sorted({n for n in needed if not (folder / n).is_file()})
        if missing:
            raise ModelError(f"The model is incomplete: {', '.join(missing)} missing")

    def _convert_and_install(self, checkpoint: Path, model_id: str, manifest: ModelManifest, *, quantization: str,
                             keep_checkpoint: bool, force: bool, report, cancel) -> InstalledModel:
        staging = self._staging(model_id)
        try:
            ready = staging / "model"
            job = {
                "checkpoint": str(checkpoint),
                "output": str(ready),
                "manifest": manifest.to_dict(),
                "quantization": quantization,
                "keep_checkpoint": keep_checkpoint,
            }

            def stage(message: str) -> None:
                report(Progress("convert", message))

            report(Progress("convert", "Starting the converter"))
            if self.isolate_conversion:
                run_conversion_process(job, staging, on_stage=stage, cancel=cancel)
            else:
                check(cancel)
                run_conversion_job(job, on_stage=stage)
            check(cancel)
            self._check_complete(ready, ModelManifest.load(ready))
            report(Progress("install", "Installing"))
            return self._commit(ready, model_id, force)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    # -------------------------------------------------------------- import
    def import_path(
        self,
        path: str | os.PathLike,
        *,
        model_id: str | None = None,
        task: str | None = None,
        source: str | None = None,
        target: str | None = None,
        catalog_id: str | None = None,
        quantization: str = "int8",
        allow_pickle: bool = False,
        keep_checkpoint: bool = False,
        force: bool = False,
        on_progress: Callable[[Progress], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> InstalledModel:
        """Import a local folder: an s2s/CTranslate2 model (copied) or a Hugging Face
        checkpoint (converted). The folder itself is never modified."""
        report = on_progress or (lambda _p: None)
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise ModelError(f"{folder} is not a folder")
        entry = self.catalog.find(catalog_id) if catalog_id else None
        if catalog_id and entry is None:
            raise ModelError(f"No catalog entry {catalog_id!r} (see `s2s models available`)")
        if quantization not in QUANTIZATIONS:
            raise ModelError(f"Unknown quantization {quantization!r}; choose one of {', '.join(QUANTIZATIONS)}")
        self.cleanup()

        if (folder / MANIFEST_NAME).is_file():
            manifest = ModelManifest.load(folder)
            problems = self._compare(folder, manifest)
            if problems:
                raise ModelError(f"{folder} is damaged: {'; '.join(problems)}")
            model_id = check_model_id(model_id or manifest.id)
            self._check_target_free(model_id, force)
            manifest.id = model_id
            manifest.source = source or manifest.source
            manifest.target = target or manifest.target
            manifest.extra["imported_from"] = str(folder)
            return self._install_folder(folder, model_id, manifest, force=force, move=False, report=report, cancel=cancel)

        model_id = check_model_id(model_id or (entry.id if entry else model_id_for_repo(folder.resolve().name)))
        self._check_target_free(model_id, force)
        if _find_ct2_files(folder):
            manifest = entry.manifest(model_id, source, target) if entry else self._manifest_for_ct2(folder, model_id, task, source, target)
            manifest.extra["imported_from"] = str(folder)
            return self._install_folder(folder, model_id, manifest, force=force, move=False, report=report, cancel=cancel)

        if not (folder / "config.json").is_file():
            raise ModelError(f"{folder} is neither a CTranslate2 model (model.bin, config.json, vocabulary) nor a "
                             "Hugging Face checkpoint (config.json and weights)")
        weights = _weights_in(folder)
        if weights is None:
            raise ModelError(f"{folder} has no model weights (model.safetensors or pytorch_model.bin)")
        if weights == "pickle" and not allow_pickle:
            raise ModelError(f"{folder} only has pickled PyTorch weights (pytorch_model.bin), which can run code when "
                             "loaded. Convert it to safetensors, or allow pickled weights explicitly if you trust it.")
        require_conversion()
        manifest = entry.manifest(model_id, source, target) if entry else self._infer(folder, model_id, task, source, target)
        manifest.extra["imported_from"] = str(folder)
        return self._convert_and_install(folder, model_id, manifest, quantization=quantization,
                                         keep_checkpoint=keep_checkpoint, force=force, report=report, cancel=cancel)

    # -------------------------------------------------------------- remove
    def remove(self, model_id: str, *, unload: Callable[[InstalledModel], None] | None = None) -> Path:
        """Delete an installed user model. A loaded model is refused unless ``unload``
        (e.g. the GUI's "close engines of this model") releases it first."""
        model = self._user_model(model_id)
        if model.bundled:
            raise ModelError(f"{model_id!r} is bundled with the app and cannot be removed")
        if self.in_use(model):
            if unload is not None:
                unload(model)
            if self.in_use(model):
                raise ModelError(f"{model_id!r} is in use (loaded for translation); close it or switch to another "
                                 "model, then remove it")
        trash = self.user_dir / f".removing-{os.getpid()}-{model_id}-{uuid.uuid4().hex[:8]}"
        os.replace(model.path, trash)  # gone from the list at once
        shutil.rmtree(trash, ignore_errors=True)  # leftovers (locked files) go at the next cleanup
        return model.path

    # -------------------------------------------------------------- verify
    def verify(self, model_id: str) -> VerifyReport:
        """Recompute the checksums recorded in the manifest and check required files."""
        model = self.store.get(model_id)
        report = VerifyReport(model.id, model.path)
        manifest = model.manifest
        for problem in self._compare(model.path, manifest, report):
            report.problems.append(problem)
        for name in ("config.json", "model.bin", manifest.tokenizer.source, manifest.tokenizer.target_file):
            if not (model.path / name).is_file() and name not in report.missing:
                report.missing.append(name)
                report.problems.append(f"{name} is missing")
        if not manifest.files:
            report.problems.append("the manifest records no checksums, so the files cannot be verified")
        return report

    @staticmethod
    def _compare(folder: Path, manifest: ModelManifest, report: VerifyReport | None = None) -> list[str]:
        report = report or VerifyReport(manifest.id, folder)
        problems = []
        for name, digest in sorted(manifest.files.items()):
            path = folder / name
            if not path.resolve().is_relative_to(folder.resolve()):
                problems.append(f"the manifest names a file outside the model folder: {name!r}")
                continue
            report.checked += 1
            if not path.is_file():
                report.missing.append(name)
                problems.append(f"{name} is missing")
            elif sha256_file(path) != digest:
                report.changed.append(name)
                problems.append(f"{name} is corrupted (its checksum changed)")
        if manifest.files:
            known = set(manifest.files) | {MANIFEST_NAME}
            report.unexpected = sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                                       if p.is_file() and str(p.relative_to(folder)) not in known)
        return problems

    # ------------------------------------------------------------- cleanup
    def cleanup(self, max_age: float = 86400.0) -> list[Path]:
        """Remove work directories left by processes that died (or, where that cannot be
        told, that are older than ``max_age`` seconds)."""
        removed = []
        root = self.user_dir
        if not root.is_dir():
            return removed
        for child in root.iterdir():
            if not child.name.startswith(HIDDEN_PREFIXES) or not child.is_dir():
                continue
            try:
                pid = int(child.name.split("-")[1])
            except (IndexError, ValueError):
                pid = -1
            if pid == os.getpid():
                continue
            age = time.time() - child.stat().st_mtime
            if (pid > 0 and os.name == "posix" and not _pid_alive(pid)) or age > max_age:
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child)
        return removed

    def downloads_size(self) -> int:
        folder = self.user_dir / ".downloads"
        return dir_size(folder) if folder.is_dir() else 0


def _rmdir_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass


# ---------------------------------------------------------------- conversion job
def run_conversion_job(job: dict, on_stage: Callable[[str], None] | None = None) -> Path:
    """Do one conversion (in whatever process calls this)."""
    require_conversion()
    from s2s_desktop.models.convert import convert_checkpoint

    stage = on_stage or (lambda _m: None)
    manifest = ModelManifest.from_dict(job["manifest"])
    checkpoint = Path(job["checkpoint"])
    if manifest.tokenizer.kind == "hf" and not (checkpoint / manifest.tokenizer.source).is_file():
        stage("Building tokenizer.json")
        _build_tokenizer_json(checkpoint)
    out = convert_checkpoint(checkpoint, job["output"], manifest, quantization=job.get("quantization", "int8"),
                             keep_checkpoint=bool(job.get("keep_checkpoint")), force=True, on_stage=stage)
    ModelManager._check_complete(out, manifest)
    return out


def _build_tokenizer_json(checkpoint: Path) -> None:
    """BART-style repos with only vocab.json + merges.txt: let transformers build the
    fast tokenizer and save its tokenizer.json (no remote code)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(checkpoint), use_fast=True, trust_remote_code=False)
    with tempfile.TemporaryDirectory() as tmp:
        tok.save_pretrained(tmp)
        built = Path(tmp) / "tokenizer.json"
        if not built.is_file():
            raise ModelError("Could not build tokenizer.json from the checkpoint's vocabulary")
        shutil.copy(built, checkpoint / "tokenizer.json")


def run_conversion_process(job: dict, workdir: Path, *, on_stage: Callable[[str], None] | None = None,
                           cancel: CancelToken | None = None, poll: float = 0.05) -> None:
    """Run :func:`run_conversion_job` in a child Python process; kill it on cancel."""
    stage = on_stage or (lambda _m: None)
    job_file = Path(workdir) / "job.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    err_file = Path(workdir) / "stderr.txt"
    with open(err_file, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "s2s_desktop.models.manager", "--convert-job", str(job_file)],
                                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=str(workdir))
    lines: queue.Queue = queue.Queue()

    def reader():
        for raw in proc.stdout:
            lines.put(raw)
        lines.put(None)

    threading.Thread(target=reader, daemon=True).start()
    error = None
    finished = False
    try:
        while True:
            if cancel is not None and cancel.cancelled:
                raise Cancelled("Conversion cancelled")
            try:
                raw = lines.get(timeout=poll)
            except queue.Empty:
                continue
            if raw is None:
                break
            try:
                msg = json.loads(raw)
            except ValueError:
                continue
            if "stage" in msg:
                stage(msg["stage"])
            elif "error" in msg:
                error = msg["error"]
            elif msg.get("done"):
                finished = True
        proc.wait()
    except BaseException:
        _stop(proc)
        raise
    finally:
        if proc.stdout:
            proc.stdout.close()
    if proc.returncode != 0 or not finished:
        if error is None:
            tail = err_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
            error = "The converter stopped unexpectedly" + (f": {' '.join(tail)}" if tail else f" (exit code {proc.returncode})")
        raise ModelError(error)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(CONVERT_KILL_GRACE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _child_main(job_path: str) -> int:
    def emit(**msg):
        sys.stdout.write(json.dumps(msg) + "\n")
        sys.stdout.flush()

    try:
        job = json.loads(Path(job_path).read_text(encoding="utf-8"))
        run_conversion_job(job, on_stage=lambda m: emit(stage=m))
    except S2SError as exc:
        emit(error=str(exc))
        return 1
    except MemoryError:
        emit(error="Out of memory while converting; close other programs or pick a smaller model")
        return 1
    except Exception as exc:  # conversion errors come from torch/transformers/ctranslate2
        emit(error=f"Conversion failed: {type(exc).__name__}: {exc}")
        return 1
    emit(done=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--convert-job":
        sys.exit(_child_main(sys.argv[2]))
    sys.exit("usage: python -m s2s_desktop.models.manager --convert-job JOB.json")
