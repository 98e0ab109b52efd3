"""Inspect and download model repositories from the Hugging Face Hub.

Everything goes through ``huggingface_hub`` (``HfApi`` for the listing,
``snapshot_download`` for the files), so ``HF_ENDPOINT`` mirrors, ``HF_TOKEN`` and the
client's retry/resume logic apply. What this module adds:

- the file selection: only what conversion needs, safetensors preferred; pickled
  PyTorch weights (``pytorch_model.bin``) are refused unless explicitly allowed;
- safety checks on the listing: a file name that could escape the target directory
  rejects the whole repository;
- a disk-space check before the first byte is fetched;
- byte progress and cancel (through a ``tqdm`` subclass whose ``update`` raises);
- errors translated into messages meant for the user (no network, gated, 404, disk
  full), all :class:`~s2s_desktop.core.errors.S2SError` subclasses;
- a check after download of each file's size and, where the listing gives one, sha256.

``huggingface_hub`` is imported lazily: it costs ~0.25 s and only downloads need it.
"""

from __future__ import annotations

import errno
import glob
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from s2s_desktop.core.errors import Cancelled, S2SError
from s2s_desktop.core.jobs import CancelToken

DEFAULT_ENDPOINT = "https://huggingface.co"
# Progress granularity: huggingface_hub reports bytes per chunk (10 MiB by default).
PROGRESS_CHUNK = 1 << 20
# Disk headroom kept free beyond the estimate.
SPACE_MARGIN = 64 << 20

# Files conversion (and the tokenizer) may need, besides the weights. Top level only.
CONFIG_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "tokenizer.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "source.spm",
    "target.spm",
    "spiece.model",
    "sentencepiece.bpe.model",
    "sentencepiece.model",
)
SAFE_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")
PICKLE_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json")
SHARD_SAFE = re.compile(r"^model-\d{5}-of-\d{5}\.safetensors$")
SHARD_PICKLE = re.compile(r"^pytorch_model-\d{5}-of-\d{5}\.bin$")
# A CTranslate2 model directory: model.bin + config.json + a vocabulary.
CT2_VOCABS = ("shared_vocabulary.json", "shared_vocabulary.txt", "source_vocabulary.json",
              "source_vocabulary.txt", "target_vocabulary.json", "target_vocabulary.txt",
              "vocabulary.json", "vocabulary.txt")
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")


class DownloadError(S2SError):
    """A download failed; the message says why and what to do."""


class NetworkError(DownloadError):
    pass


class RepoNotFound(DownloadError):
    pass


class AccessDenied(DownloadError):
    """401/403: a gated or private repository."""


class NotEnoughSpace(DownloadError):
    pass


class UnsafeRepo(DownloadError):
    """The repository's listing or contents are refused (pickle only, hostile names)."""


@dataclass
class RepoFileInfo:
    path: str
    size: int
    sha256: str | None = None  # known for LFS files


@dataclass
class RepoInspection:
    """What a repository holds at one commit, and which files a download will take."""

    repo_id: str
    revision: str  # as asked ("main", a tag, a sha)
    sha: str  # the resolved commit
    files: list[RepoFileInfo]
    kind: str  # "transformers" (needs conversion) or "ctranslate2" (ready to use)
    selected: list[str] = field(default_factory=list)
    weights_format: str = "safetensors"  # or "pickle" (only with allow_pickle) or "ctranslate2"
    endpoint: str = DEFAULT_ENDPOINT

    @property
    def by_path(self) -> dict[str, RepoFileInfo]:
        return {f.path: f for f in self.files}

    @property
    def download_bytes(self) -> int:
        info = self.by_path
        return sum(info[p].size for p in self.selected)

    @property
    def weight_bytes(self) -> int:
        info = self.by_path
        return sum(info[p].size for p in self.selected if p.endswith((".safetensors", ".bin")))


@dataclass
class DownloadProgress:
    done: int  # bytes
    total: int


def hub_endpoint(endpoint: str | None = None) -> str:
    """The endpoint to use: explicit, else ``HF_ENDPOINT`` (read now, not at import)."""
    return (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def check_repo_id(repo_id: str) -> str:
    repo_id = repo_id.strip()
    if not REPO_ID.match(repo_id) or ".." in repo_id:
        raise DownloadError(f"{repo_id!r} is not a Hugging Face repository id (expected e.g. Helsinki-NLP/opus-mt-en-de)")
    return repo_id


def safe_relative_path(name: str) -> PurePosixPath:
    """The name as a relative path that stays inside its directory, or UnsafeRepo."""
    bad = (
        not name
        or "\0" in name
        or "\\" in name
        or name.startswith("/")
        or re.match(r"^[A-Za-z]:", name) is not None
    )
    path = PurePosixPath(name)
    if bad or any(part in ("", ".", "..") for part in name.split("/")):
        raise UnsafeRepo(f"The repository lists a file named {name!r}, which could escape the download folder; refusing it")
    return path


def _is_ct2(names: set[str]) -> bool:
    return "model.bin" in names and "config.json" in names and any(v in names for v in CT2_VOCABS)


def select_files(names: list[str], *, allow_pickle: bool = False, repo_id: str = "") -> tuple[str, list[str], str]:
    """(kind, files to fetch, weights format) for a repository listing."""
    top = {n for n in names if "/" not in n}
    if _is_ct2(top):
        extra = CT2_VOCABS + CONFIG_FILES + ("s2s-model.json",)
        wanted = ["model.bin", *(n for n in sorted(top) if n in extra)]
        return "ctranslate2", sorted(set(wanted)), "ctranslate2"
    if "config.json" not in top:
        raise DownloadError(f"{repo_id or 'The repository'} has no config.json: it is not a Transformers or CTranslate2 model")
    configs = [n for n in sorted(top) if n in CONFIG_FILES]
    safe = [n for n in sorted(top) if n in SAFE_WEIGHTS or SHARD_SAFE.match(n)]
    if any(n.endswith(".safetensors") for n in safe):
        return "transformers", configs + safe, "safetensors"
    pickle = [n for n in sorted(top) if n in PICKLE_WEIGHTS or SHARD_PICKLE.match(n)]
    if pickle:
        if not allow_pickle:
            raise UnsafeRepo(
                f"{repo_id or 'This repository'} only has pickled PyTorch weights (pytorch_model.bin). Loading a "
                "pickle can run arbitrary code, so it is refused. If you trust the publisher, allow pickled weights "
                "explicitly (--allow-pickle), or pick a revision with model.safetensors."
            )
        return "transformers", configs + pickle, "pickle"
    raise DownloadError(f"{repo_id or 'The repository'} has no model weights this app can use (model.safetensors or a CTranslate2 model.bin)")


# ------------------------------------------------------------------ errors
def translate_error(exc: BaseException, repo_id: str, endpoint: str) -> BaseException:
    """Map huggingface_hub / httpx / OS errors to a user-facing S2SError."""
    if isinstance(exc, (S2SError, KeyboardInterrupt)):
        return exc
    from huggingface_hub import errors as hf_errors

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return NotEnoughSpace(f"The disk is full while downloading {repo_id}. Free some space and try again "
                              "(completed files are kept and the download resumes).")
    if isinstance(exc, hf_errors.GatedRepoError):
        return AccessDenied(
            f"{repo_id} is a gated model: accept its license at {DEFAULT_ENDPOINT}/{repo_id} with your account, "
            "then set HF_TOKEN to an access token (or run `hf auth login`) and try again."
        )
    if isinstance(exc, hf_errors.RevisionNotFoundError):
        return RepoNotFound(f"{repo_id} has no such revision (branch, tag or commit); check --revision.")
    if isinstance(exc, hf_errors.RepositoryNotFoundError):
        status = getattr(getattr(exc, "response", None), "status_code", 404)
        hint = " If it is private, set HF_TOKEN to a token that can read it." if status == 401 else ""
        return RepoNotFound(f"No model {repo_id!r} on {endpoint}: check the id (it is case-sensitive).{hint}")
    if isinstance(exc, getattr(hf_errors, "RemoteEntryNotFoundError", ())) or isinstance(exc, getattr(hf_errors, "EntryNotFoundError", ())):
        if not isinstance(exc, hf_errors.LocalEntryNotFoundError):
            return RepoNotFound(f"A file of {repo_id} is missing on the server: {exc}")
    if isinstance(exc, hf_errors.OfflineModeIsEnabled) or os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return NetworkError("Downloads are disabled (HF_HUB_OFFLINE is set). Unset it to download models.")
    if isinstance(exc, hf_errors.HfHubHTTPError):
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status in (401, 403):
            return AccessDenied(
                f"Access to {repo_id} was denied ({status}). If the model is gated, accept its license at "
                f"{DEFAULT_ENDPOINT}/{repo_id} and set HF_TOKEN to an access token; check that the token is valid."
            )
        if status == 404:
            return RepoNotFound(f"No model {repo_id!r} on {endpoint}.")
        if status is not None and status >= 500:
            return NetworkError(f"The Hub at {endpoint} is having trouble ({status}); try again later.")
    network = _is_network_error(exc)
    if network or isinstance(exc, hf_errors.LocalEntryNotFoundError):
        return NetworkError(
            f"Cannot reach {endpoint} to download {repo_id}: check your internet connection"
            f"{' (or HF_ENDPOINT)' if endpoint != DEFAULT_ENDPOINT else ''}. Files already downloaded are kept; "
            "run the download again to resume."
        )
    if isinstance(exc, OSError) and "Consistency check failed" in str(exc):
        return NetworkError(f"A file of {repo_id} arrived incomplete; run the download again to resume.")
    return exc


def _is_network_error(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        name = type(exc).__name__
        module = type(exc).__module__ or ""
        if module.startswith(("httpx", "httpcore")) and name in (
            "ConnectError", "ConnectTimeout", "ReadTimeout", "ReadError", "RemoteProtocolError", "NetworkError",
            "TimeoutException", "PoolTimeout", "WriteError", "ProxyError",
        ):
            return True
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


# ---------------------------------------------------------------- inspect
def inspect_repo(
    repo_id: str,
    revision: str | None = None,
    *,
    allow_pickle: bool = False,
    token: str | None = None,
    endpoint: str | None = None,
) -> RepoInspection:
    """Resolve the revision to a commit, list its files and choose what to download."""
    repo_id = check_repo_id(repo_id)
    endpoint = hub_endpoint(endpoint)
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile

    api = HfApi(endpoint=endpoint, token=token)
    try:
        info = api.model_info(repo_id, revision=revision)
        sha = info.sha
        if not sha:
            raise DownloadError(f"{endpoint} did not say which commit {repo_id} is at")
        entries = [e for e in api.list_repo_tree(repo_id, revision=sha, recursive=True) if isinstance(e, RepoFile)]
    except BaseException as exc:
        raise translate_error(exc, repo_id, endpoint) from exc
    files = []
    for entry in entries:
        safe_relative_path(entry.path)
        sha256 = entry.lfs.sha256 if getattr(entry, "lfs", None) is not None else None
        files.append(RepoFileInfo(entry.path, int(entry.size or 0), sha256))
    kind, selected, weights = select_files([f.path for f in files], allow_pickle=allow_pickle, repo_id=repo_id)
    return RepoInspection(repo_id, revision or "main", sha, files, kind, selected, weights, endpoint)


# --------------------------------------------------------------- download
def estimate_install_bytes(inspection: RepoInspection, quantization: str = "int8", keep_checkpoint: bool = False) -> int:
    """Disk needed: the download itself plus the converted model (and a kept checkpoint)."""
    total = inspection.download_bytes
    if inspection.kind == "ctranslate2":
        return total + SPACE_MARGIN
    # CT2 output relative to fp32 weights; checkpoints are usually fp32 (fp16 ones are rarer,
    # and for them this overestimates int8 and underestimates float32 by 2x: be generous).
    factor = {"float32": 2.0, "int8_float32": 0.5, "int8": 0.5}.get(quantization, 1.0)
    out = int(inspection.weight_bytes * factor) + (total - inspection.weight_bytes)
    if keep_checkpoint:
        out += total
    return total + out + SPACE_MARGIN


def check_free_space(path: Path, needed: int, what: str) -> None:
    probe = Path(path)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed:
        raise NotEnoughSpace(
            f"Not enough disk space for {what}: it needs about {_mb(needed)} but only {_mb(free)} is free on "
            f"{probe}. Free some space or choose a smaller model."
        )


def _mb(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def _progress_class(on_bytes: Callable[[int], None], cancel: CancelToken | None):
    """A tqdm class for snapshot_download: forwards byte counts, raises Cancelled."""
    from huggingface_hub.utils import tqdm as hf_tqdm

    class _Progress(hf_tqdm):
        def __init__(self, *args, **kwargs):
            self._role = kwargs.get("name") or ""
            kwargs["disable"] = True  # never draw; the caller shows progress its own way
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            if cancel is not None and cancel.cancelled:
                raise Cancelled("Download cancelled")
            if self._role == "huggingface_hub.snapshot_download":  # the aggregated byte bar
                on_bytes(int(n or 0))
            return super().update(n)

    return _Progress


def download_files(
    inspection: RepoInspection,
    dest: Path,
    *,
    on_progress: Callable[[DownloadProgress], None] | None = None,
    cancel: CancelToken | None = None,
    token: str | None = None,
    max_workers: int = 4,
    extra_space: int = 0,
) -> Path:
    """Fetch the selected files of ``inspection`` into ``dest`` (resumable across calls).

    Raises Cancelled (partial file removed by huggingface_hub; completed files stay) or a
    DownloadError subclass. Before starting, the remaining download plus ``extra_space``
    (e.g. for the converted model) must be free on the disk.
    """
    import huggingface_hub.constants as hf_constants
    from huggingface_hub import snapshot_download

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    by_path = inspection.by_path
    targets = {name: dest / safe_relative_path(name) for name in inspection.selected}
    for name, target in targets.items():  # belt and braces: resolved path stays inside
        if not target.resolve().is_relative_to(dest.resolve()):
            raise UnsafeRepo(f"{name!r} would be written outside {dest}; refusing it")
    have = sum(by_path[n].size for n, t in targets.items() if t.is_file() and t.stat().st_size == by_path[n].size)
    check_free_space(dest, inspection.download_bytes - have + extra_space + SPACE_MARGIN, inspection.repo_id)

    total = inspection.download_bytes
    state = DownloadProgress(0, total)
    lock = threading.Lock()

    def on_bytes(n: int) -> None:
        with lock:  # callbacks in order, so that the count never goes back
            state.done = max(0, min(total, state.done + n))
            if on_progress:
                on_progress(DownloadProgress(state.done, total))

    if cancel is not None and cancel.cancelled:
        raise Cancelled("Download cancelled")
    hf_constants.DOWNLOAD_CHUNK_SIZE = min(hf_constants.DOWNLOAD_CHUNK_SIZE, PROGRESS_CHUNK)
    if on_progress:
        on_progress(DownloadProgress(0, total))
    try:
        snapshot_download(
            inspection.repo_id,
            revision=inspection.sha,
            local_dir=dest,
            allow_patterns=[glob.escape(n) for n in inspection.selected],
            tqdm_class=_progress_class(on_bytes, cancel),
            endpoint=inspection.endpoint,
            token=token,
            max_workers=max_workers,
        )
    except Cancelled:
        raise
    except BaseException as exc:
        if cancel is not None and cancel.cancelled:
            raise Cancelled("Download cancelled") from None
        raise translate_error(exc, inspection.repo_id, inspection.endpoint) from exc
    if cancel is not None and cancel.cancelled:
        raise Cancelled("Download cancelled")
    verify_download(inspection, dest)
    if on_progress:
        on_progress(DownloadProgress(total, total))
    return dest


def verify_download(inspection: RepoInspection, dest: Path) -> None:
    """Each selected file exists with the listed size (and sha256 where listed).

    A file that fails is deleted, so that the next attempt fetches it again.
    """
    from s2s_desktop.models.convert import sha256_file

    by_path = inspection.by_path
    for name in inspection.selected:
        path = Path(dest) / name
        info = by_path[name]
        if not path.is_file():
            raise NetworkError(f"{name} of {inspection.repo_id} was not downloaded; run the download again.")
        size = path.stat().st_size
        problem = None
        if size != info.size:
            problem = f"has {size} bytes instead of {info.size}"
        elif info.sha256 and sha256_file(path) != info.sha256:
            problem = "does not match its published sha256 checksum"
        if problem:
            path.unlink(missing_ok=True)
            raise DownloadError(f"{name} of {inspection.repo_id} {problem} (corrupted in transit?); it was deleted, "
                                "run the download again.")

