"""Model manager against a local hub (tests/hub_server.py): download → convert → store,
and every way that can go wrong. No network is used."""

from __future__ import annotations

import errno
import gc
import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from s2s_desktop.core.errors import Cancelled, ModelError
from s2s_desktop.core.jobs import CancelToken
from s2s_desktop.models import download as dl
from s2s_desktop.models.catalog import Catalog, CatalogEntry
from s2s_desktop.models.manager import IN_USE, ModelManager
from s2s_desktop.models.store import ModelStore
from tests.hub_server import HubFile, LocalHub

MARIAN_REPO = "Helsinki-NLP/opus-mt-en-de"
CT2_REPO = "s2s-test/tiny-en-de-ct2"
MARIAN_TOK = {"kind": "sentencepiece", "source": "source.spm", "target": "target.spm"}


def test_catalog_entries():
    """The shipped catalog loads, builds manifests and flags non-commercial licenses."""
    catalog = Catalog.load()
    assert len(catalog) >= 20
    repos = {e.repo for e in catalog}
    for repo in ("Helsinki-NLP/opus-mt-en-de", "Helsinki-NLP/opus-mt-en-ROMANCE", "Helsinki-NLP/opus-mt-mul-en",
                 "facebook/nllb-200-distilled-600M", "facebook/m2m100_418M", "sshleifer/distilbart-cnn-12-6",
                 "facebook/bart-large-cnn", "google/flan-t5-base"):
        assert repo in repos
    for entry in catalog:
        m = entry.manifest()
        assert m.task == entry.task and m.source_repo == entry.repo and entry.params_m and entry.download_mb
    nllb = catalog.find("facebook/nllb-200-distilled-600M")
    assert nllb.non_commercial
    m = nllb.manifest(source="fr", target="de")
    assert (m.source_prefix, m.target_prefix, m.source_suffix) == (["fra_Latn"], ["deu_Latn"], ["</s>"])
    assert m.extra["languages"]["tokens"]["en"] == "eng_Latn"
    m = catalog.find("opus-mt-en-romance").manifest(target="es")
    assert m.source_prefix == [">>es<<"] and m.target == "es"
    m = catalog.find("facebook/m2m100_418M").manifest(source="de", target="en")
    assert (m.source_prefix, m.target_prefix) == (["__de__"], ["__en__"])
    assert catalog.find("flan-t5-base").manifest().source_text_prefix == "summarize: "
    assert [e.id for e in catalog.filter(task="summarize", text="bart")] == ["distilbart-cnn-12-6", "bart-large-cnn"]
    assert all("fr" in e.languages for e in catalog.filter(language="fr"))
    with pytest.raises(ModelError, match="does not write"):
        catalog.find("opus-mt-en-romance").manifest(target="de")


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def tiny_hf(tiny_models) -> Path:
    return tiny_models["tiny-en-de"].parent.parent / "hf" / "tiny-en-de"


@pytest.fixture(scope="module")
def hub(tiny_models, tiny_hf):
    with LocalHub() as hub:
        hub.add_folder(MARIAN_REPO, tiny_hf, skip=("spm.model", "spm.vocab"))
        hub.add_folder(CT2_REPO, tiny_models["tiny-en-de"], skip=("s2s-model.json",))
        hub.add_folder("s2s-test/gated", tiny_models["tiny-en-de"], gated=True)
        pickle_files = {n: (tiny_hf / n).read_bytes() for n in ("config.json", "source.spm", "target.spm", "vocab.json")}
        pickle_files["pytorch_model.bin"] = b"\x80\x02not really a pickle" * 100
        hub.add_repo("s2s-test/pickle-only", pickle_files)
        hub.add_folder("s2s-test/evil", tiny_models["tiny-en-de"], extra_listing=["../../evil.txt"])
        yield hub


@pytest.fixture
def manager(tmp_path, hub, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
    catalog = Catalog([
        CatalogEntry(id="tiny-en-de", repo=MARIAN_REPO, task="translate", sources=["en"], targets=["de"],
                     tokenizer=MARIAN_TOK, max_input_tokens=127, max_output_tokens=127, license="cc-by-4.0"),
        CatalogEntry(id="tiny-ct2", repo=CT2_REPO, task="translate", format="ctranslate2", sources=["en"],
                     targets=["de"], tokenizer=MARIAN_TOK, license="apache-2.0"),
    ])
    store = ModelStore(tmp_path / "models", tmp_path / "no-bundled")
    return ModelManager(store, catalog, endpoint=hub.url)


def store_entries(manager) -> list[str]:
    """Everything in the store folder, hidden work folders included."""
    root = manager.user_dir
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def translate(path: Path, text: str) -> str:
    from s2s_desktop.core.engine import Engine

    engine = Engine(path, intra_threads=1)
    return next(iter(engine.translate_sentences([text]))).target


# ------------------------------------------------------------------- install
def test_download_convert_list_translate(manager, hub):
    stages, fractions = [], []

    def progress(p):
        stages.append(p.stage)
        if p.stage == "download" and p.total:
            fractions.append(p.done / p.total)

    start = time.perf_counter()
    model = manager.install("tiny-en-de", on_progress=progress)
    elapsed = time.perf_counter() - start
    print(f"\ndownload+convert of tiny-en-de: {elapsed:.2f} s")
    assert [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s] == ["inspect", "download", "convert", "install", "done"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [m.id for m in manager.installed()] == ["tiny-en-de"]
    assert store_entries(manager) == ["tiny-en-de"]  # no staging/download leftovers
    m = model.manifest
    assert (m.source_repo, m.revision, m.quantization, m.license) == (MARIAN_REPO, hub.repos[MARIAN_REPO].sha, "int8", "cc-by-4.0")
    assert set(m.files) >= {"model.bin", "config.json", "source.spm", "target.spm"}
    assert translate(model.path, "The house is small.") == "Das Haus ist klein."
    assert manager.verify("tiny-en-de").ok
    with pytest.raises(ModelError, match="already installed"):
        manager.install("tiny-en-de")


def test_preconverted_ct2_repo_and_cli(manager, hub, monkeypatch, capsys):
    """A CTranslate2 repo installs without conversion; the CLI actions drive the same code."""
    from s2s_desktop.models import cli

    monkeypatch.setattr(cli, "_manager", lambda: manager)
    parser = cli.build_standalone_parser()

    def run(*argv):
        args = parser.parse_args(list(argv))
        return args.func(args)

    assert run("available", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(e["id"], e["installed"]) for e in listed] == [("tiny-en-de", False), ("tiny-ct2", False)]
    assert run("download", "tiny-ct2", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["id"] == "tiny-ct2" and out["source"] == "en" and out["target"] == "de"
    assert translate(Path(out["path"]), "The house is small.") == "Das Haus ist klein."
    assert run("verify", "tiny-ct2") == 0
    assert "OK" in capsys.readouterr().out
    (Path(out["path"]) / "source.spm").write_bytes(b"garbage")
    assert run("verify", "tiny-ct2", "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["changed"] == ["source.spm"] and not report["ok"]
    assert run("remove", "tiny-ct2") == 0
    assert store_entries(manager) == []


def test_dropped_connection_resumes(manager, hub, tmp_path):
    """The server cuts model.safetensors mid-file; huggingface_hub resumes with Range."""
    repo = hub.repos[MARIAN_REPO]
    repo.files["model.safetensors"].drop_after = 200_000
    inspection = dl.inspect_repo(MARIAN_REPO, endpoint=hub.url)
    assert inspection.kind == "transformers" and inspection.weights_format == "safetensors"
    assert "model.safetensors" in inspection.selected and "spm.model" not in inspection.selected
    dest = dl.download_files(inspection, tmp_path / "dl")
    assert repo.files["model.safetensors"].drop_after is None  # the drop happened
    assert (dest / "model.safetensors").read_bytes() == repo.files["model.safetensors"].data
    assert any(m == "GET" and p.endswith("model.safetensors") for m, p in hub.requests)


def test_corrupted_transfer_is_caught(manager, hub, tmp_path):
    """A byte flipped in transit fails the sha256 check; the bad file is deleted."""
    f = hub.repos[MARIAN_REPO].files["model.safetensors"]
    f.served_corrupt = True
    try:
        with pytest.raises(dl.DownloadError, match="sha256"):
            manager.install("tiny-en-de")
    finally:
        f.served_corrupt = False
    assert [m.id for m in manager.installed()] == []
    assert not list(manager.user_dir.glob(".downloads/*/model.safetensors"))


def test_corrupted_installed_file_verify(manager, tiny_models):
    model = manager.import_path(tiny_models["tiny-en-de"], model_id="copy")
    report = manager.verify("copy")
    assert report.ok and report.checked >= 5
    data = bytearray((model.path / "model.bin").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (model.path / "model.bin").write_bytes(bytes(data))
    (model.path / "target.spm").unlink()
    report = manager.verify("copy")
    assert not report.ok
    assert report.changed == ["model.bin"] and report.missing == ["target.spm"]
    assert any("corrupted" in p for p in report.problems)
    with pytest.raises(ModelError, match="damaged"):  # importing a damaged folder is refused
        manager.import_path(model.path, model_id="copy2")


def test_import_checkpoint_converts(manager, tiny_hf, tmp_path):
    """A local Hugging Face checkpoint is converted (child process); the folder is untouched."""
    before = sorted(p.name for p in tiny_hf.iterdir())
    stages = []
    model = manager.import_path(tiny_hf, model_id="imported", source="en", target="de", keep_checkpoint=True,
                                on_progress=lambda p: stages.append(p.stage))
    assert sorted(p.name for p in tiny_hf.iterdir()) == before
    assert "convert" in stages and model.manifest.extra["imported_from"] == str(tiny_hf)
    assert (model.path / "hf" / "model.safetensors").is_file()  # kept for the all-heads viewer
    assert translate(model.path, "The house is small.") == "Das Haus ist klein."
    assert manager.verify("imported").ok
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text((tiny_hf / "config.json").read_text())
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x02")
    with pytest.raises(ModelError, match="pickled"):
        manager.import_path(pickled)


def test_hf_endpoint_environment(manager, hub, monkeypatch):
    """HF_ENDPOINT is honoured when no endpoint is given (read at call time)."""
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    manager.endpoint = None
    model = manager.install("tiny-ct2")
    assert model.manifest.extra["endpoint"] == hub.url


# ------------------------------------------------------------------- errors
def test_gated_repo(manager, hub):
    with pytest.raises(dl.AccessDenied, match="HF_TOKEN") as info:
        manager.install("s2s-test/gated", source="en", target="de")
    assert "accept its license" in str(info.value)
    manager.token = "hf_test_token"  # the local hub accepts any token
    model = manager.install("s2s-test/gated")
    assert model.id == "gated" and model.manifest.source == "en"  # the repo's own s2s manifest


def test_missing_repo_and_revision(manager, hub):
    with pytest.raises(dl.RepoNotFound, match="No model 'nobody/nothing'"):
        manager.install("nobody/nothing")
    with pytest.raises(dl.RepoNotFound, match="revision"):
        manager.install("tiny-en-de", revision="v9")
    with pytest.raises(ModelError, match="neither in the catalog"):
        manager.install("no-such-id")
    with pytest.raises(dl.DownloadError, match="not a Hugging Face repository id"):
        manager.install("a/b/../c")
    assert store_entries(manager) == []


def test_no_network(manager):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    manager.endpoint = f"http://127.0.0.1:{port}"
    with pytest.raises(dl.NetworkError, match="Cannot reach"):
        manager.install("tiny-ct2")
    assert store_entries(manager) == []


def test_disk_full(manager, monkeypatch):
    """Not enough space is found before downloading; ENOSPC mid-way gets a clear message."""
    real = shutil.disk_usage
    monkeypatch.setattr(dl.shutil, "disk_usage", lambda p: real(p)._replace(free=10_000))
    with pytest.raises(dl.NotEnoughSpace, match="Not enough disk space"):
        manager.install("tiny-en-de")
    monkeypatch.setattr(dl.shutil, "disk_usage", real)

    import huggingface_hub

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", full)
    with pytest.raises(dl.NotEnoughSpace, match="disk is full"):
        manager.install("tiny-en-de")
    assert [m.id for m in manager.installed()] == []


def test_pickle_only_refused(manager, hub):
    with pytest.raises(dl.UnsafeRepo, match="pickle"):
        manager.install("s2s-test/pickle-only")
    assert not any(p.endswith("pytorch_model.bin") for _, p in hub.requests)
    inspection = dl.inspect_repo("s2s-test/pickle-only", allow_pickle=True, endpoint=hub.url)
    assert inspection.weights_format == "pickle" and "pytorch_model.bin" in inspection.selected


def test_malicious_file_name_rejected(manager, hub, tmp_path):
    with pytest.raises(dl.UnsafeRepo, match="escape"):
        manager.install("s2s-test/evil", source="en", target="de")
    assert not (tmp_path / "evil.txt").exists() and not (manager.user_dir.parent / "evil.txt").exists()
    for name in ("../x", "/etc/passwd", "a/../../b", "C:\\x", "a\\..\\b", "", "a//b"):
        with pytest.raises(dl.UnsafeRepo):
            dl.safe_relative_path(name)
    assert str(dl.safe_relative_path("sub/dir/file.json")) == "sub/dir/file.json"


# ------------------------------------------------------------------- cancel
def test_cancel_mid_download(manager, hub):
    big = HubFile(b"\0" * (3 << 20), delay=0.02)  # 3 MiB at ~3 MiB/s
    hub.add_repo("s2s-test/slow", {"config.json": b"{}", "model.safetensors": big})
    cancel = CancelToken()
    seen = []

    def progress(p):
        if p.stage == "download" and p.done:
            seen.append(p.done)
            cancel.cancel()

    with pytest.raises(Cancelled):
        manager.install("s2s-test/slow", on_progress=progress, cancel=cancel)
    assert seen and seen[0] < big.data.__len__()
    assert store_entries(manager) == []  # no model, no partial download, no staging


def test_cancel_mid_conversion(manager, hub):
    cancel = CancelToken()

    def progress(p):
        if p.stage == "convert" and p.message.startswith("Loading"):
            cancel.cancel()  # the child process is importing torch right now

    start = time.perf_counter()
    with pytest.raises(Cancelled):
        manager.install("tiny-en-de", on_progress=progress, cancel=cancel)
    assert time.perf_counter() - start < 4
    assert store_entries(manager) == []


# ------------------------------------------------------------------- remove
def test_remove_loaded_model(manager, tiny_models):
    from s2s_desktop.core.engine import Engine

    model = manager.import_path(tiny_models["tiny-en-de"], model_id="loaded")
    holder = {"engine": Engine(model.path, intra_threads=1)}
    IN_USE.track(holder["engine"])
    assert manager.in_use(model)
    with pytest.raises(ModelError, match="in use"):
        manager.remove("loaded")
    assert (model.path / "model.bin").is_file()

    def unload(m):
        assert m.id == "loaded"
        holder.clear()
        gc.collect()

    manager.remove("loaded", unload=unload)
    assert store_entries(manager) == [] and not manager.in_use(model)
    with pytest.raises(ModelError, match="No installed model"):
        manager.remove("loaded")


def test_cleanup_of_dead_work_dirs(manager):
    manager.user_dir.mkdir(parents=True)
    dead = manager.user_dir / ".staging-999999999-x-abc"
    (dead / "model").mkdir(parents=True)
    (dead / "model" / "s2s-model.json").write_text("{}")
    assert [m.id for m in manager.installed()] == []  # hidden dirs are never listed
    assert manager.cleanup() == [dead] and not dead.exists()


def test_concurrent_progress_threads(manager, hub):
    """install() can run on a worker thread while the caller polls (as the GUI does)."""
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("m", manager.install("tiny-ct2")))
    t.start()
    t.join(30)
    assert result["m"].id == "tiny-ct2"


# ------------------------------------------------------------------- dialog
def test_manager_dialog(qtbot, manager, hub, tiny_models):
    from PySide6.QtCore import Qt

    from s2s_desktop.gui.manager_dialog import ModelManagerDialog

    dialog = ModelManagerDialog(manager=manager)
    qtbot.addWidget(dialog)
    dialog.confirm = lambda title, text: True
    changes = []
    dialog.modelsChanged.connect(lambda: changes.append(1))
    status = lambda: [dialog.table.item(i, 6).text() for i in range(dialog.table.rowCount())]  # noqa: E731
    assert status() == ["Available", "Available"]
    assert not dialog.download_button.isEnabled()  # nothing selected yet

    dialog.text_filter.setText("ct2")
    assert [dialog.table.isRowHidden(i) for i in range(2)] == [True, False]
    dialog.text_filter.clear()

    # download: progress, then modelsChanged; the GUI thread stays responsive meanwhile
    assert dialog.select("tiny-ct2")
    with qtbot.waitSignal(dialog.modelsChanged, timeout=30000):
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
        assert dialog.busy and dialog.cancel_button.isEnabled() and not dialog.download_button.isEnabled()
    assert status() == ["Available", "Installed"]
    assert "Installed tiny-ct2" in dialog.status.text()

    # verify (off the GUI thread), then corrupt and verify again
    def run_and_wait(button):
        with qtbot.waitSignal(dialog.busyChanged, check_params_cb=lambda busy: not busy, timeout=30000):
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    dialog.select("tiny-ct2")
    run_and_wait(dialog.verify_button)
    assert "intact" in dialog.status.text()
    path = manager.store.get("tiny-ct2").path
    (path / "model.bin").write_bytes(b"broken")
    run_and_wait(dialog.verify_button)
    assert "model.bin is corrupted" in dialog.status.text()

    # remove
    with qtbot.waitSignal(dialog.modelsChanged, timeout=30000):
        qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert status() == ["Available", "Available"] and not path.exists()

    # import a local CTranslate2 folder: its id matches the first catalog entry
    with qtbot.waitSignal(dialog.modelsChanged, timeout=30000):
        dialog.import_folder(str(tiny_models["tiny-en-de"]))
    assert status() == ["Installed", "Available"]

    # a hand-entered repo, cancelled mid-download: nothing is left behind
    hub.add_repo("s2s-test/slow", {"config.json": b"{}", "model.safetensors": HubFile(b"\0" * (3 << 20), delay=0.02)})
    dialog.table.clearSelection()
    dialog.repo_edit.setText("s2s-test/slow")
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress.maximum() == 1000 and dialog.progress.value() > 0, timeout=20000)
    with qtbot.waitSignal(dialog.busyChanged, check_params_cb=lambda busy: not busy, timeout=30000):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert "Cancelled" in dialog.status.text()
    assert store_entries(manager) == ["tiny-en-de"]
    assert len(changes) == 3  # install, remove, import
