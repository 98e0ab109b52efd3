"""Packaging: desktop metadata, icons, the PyInstaller spec, the wheel and the bundle.

Fast tests check the files under packaging/ and resources/icons/ (appstreamcli and
desktop-file-validate run when installed, else those tests skip). Tests marked slow build
the wheel and use the one-folder bundle (``make package-test``): the bundle's CLI
translates a sentence with the bundled model and its window opens offscreen.
``S2S_BUNDLE_DIR`` points them at a bundle built elsewhere; without it they use
dist/s2s-desktop and build it with packaging/build.sh when it is missing.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from s2s_desktop import __version__

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
LINUX = PACKAGING / "linux"
ICONS = ROOT / "resources" / "icons"
SPEC = PACKAGING / "pyinstaller" / "s2s-desktop.spec"
APP_ID = "io.github.s2s_desktop.s2s_desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
DESKTOP = LINUX / f"{APP_ID}.desktop"
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)
SENTENCE = "The house is small."


def _env(tmp_path: Path) -> dict:
    env = dict(os.environ)
    env.update(S2S_DATA_DIR=str(tmp_path / "data"), QT_QPA_PLATFORM="offscreen", HF_HUB_OFFLINE="1",
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    env.pop("S2S_BUNDLED_DIR", None)
    return env


# ------------------------------------------------------------ desktop metadata
def test_metainfo_names_the_desktop_file_and_current_version():
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("project_license") == "MIT"
    versions = [r.get("version") for r in root.iter("release")]
    assert versions and versions[0] == __version__, "add a <release> for the new version (newest first)"
    binaries = {b.text for b in root.iter("binary")}
    assert binaries == {"s2s-desktop", "s2s"}


def test_desktop_entry_launches_the_gui_with_the_app_icon():
    entry = {}
    for line in DESKTOP.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            entry[key] = value
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == "s2s-desktop"
    assert entry["Icon"] == "s2s-desktop"
    assert entry["Terminal"] == "false"


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstreamcli not installed (apt-get install appstream)")
def test_metainfo_validates_with_appstreamcli():
    proc = subprocess.run(["appstreamcli", "validate", "--no-net", "--strict", str(METAINFO)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate not installed (apt-get install desktop-file-utils)")
def test_desktop_file_validates():
    proc = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


# ------------------------------------------------------------------- icons
def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_icon_set_is_complete():
    svg = ET.parse(ICONS / "s2s-desktop.svg").getroot()
    assert svg.tag.endswith("svg") and svg.get("viewBox") == "0 0 512 512"
    for size in ICON_SIZES:
        assert _png_size(ICONS / f"s2s-desktop-{size}.png") == (size, size)


def test_icons_render_from_the_svg(qapp, tmp_path):  # qapp: render into the suite's QApplication
    pytest.importorskip("PySide6.QtSvg")
    spec = importlib.util.spec_from_file_location("render_icons", PACKAGING / "render_icons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.render(out_dir=tmp_path, sizes=(16, 64))
    assert [p.name for p in written] == ["s2s-desktop-16.png", "s2s-desktop-64.png"]
    assert _png_size(written[1]) == (64, 64)


# ------------------------------------------------------------ spec, launcher
def test_spec_leaves_out_torch_and_transformers():
    text = SPEC.read_text(encoding="utf-8")
    excludes = text[text.index("EXCLUDES = ["):text.index("]", text.index("EXCLUDES = ["))]
    for name in ("torch", "transformers", "s2s_desktop.training"):
        assert f'"{name}"' in excludes
    assert '"s2s_desktop/resources"' in text  # where models.store.resources_dir() looks when frozen


def _frozen_module():
    spec = importlib.util.spec_from_file_location("_frozen", PACKAGING / "pyinstaller" / "_frozen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_frozen_launcher_answers_a_conversion_child_call_with_a_clear_error():
    frozen = _frozen_module()
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as stop:
        frozen.intercept_child_call(["-m", "s2s_desktop.models.manager", "--convert-job", "job.json"])
    assert stop.value.code == 1
    message = json.loads(out.getvalue())["error"]  # the manager's child protocol
    assert "full install" in message and "pre-converted" in message.lower()
    frozen.intercept_child_call(["document.txt"])  # ordinary arguments pass through
    frozen.intercept_child_call([])


# ------------------------------------------------------------------- wheel
@pytest.mark.slow
def test_wheel_ships_resources_and_entry_points(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(tmp_path.glob("s2s_desktop-*.whl"))
    assert wheel.name.startswith(f"s2s_desktop-{__version__}-")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert "s2s_desktop/resources/catalog.json" in names
    assert "s2s_desktop/resources/icons/s2s-desktop.svg" in names
    assert {f"s2s_desktop/resources/icons/s2s-desktop-{n}.png" for n in ICON_SIZES} <= names
    bundled = sorted(p.parent.name for p in (ROOT / "resources" / "models").glob("*/s2s-model.json"))
    for model_id in bundled:
        assert f"s2s_desktop/resources/models/{model_id}/model.bin" in names
    assert "s2s = s2s_desktop.cli:main" in entry_points
    assert "s2s-desktop = s2s_desktop.gui.app:main" in entry_points


# ------------------------------------------------------------------ bundle
@pytest.fixture(scope="session")
def bundle() -> Path:
    given = os.environ.get("S2S_BUNDLE_DIR")
    folder = Path(given) if given else ROOT / "dist" / "s2s-desktop"
    exe = ".exe" if os.name == "nt" else ""
    if not (folder / f"s2s{exe}").is_file():
        if given:
            pytest.fail(f"S2S_BUNDLE_DIR={given} holds no s2s executable")
        if os.name == "nt":
            pytest.skip("build the bundle first (see packaging/README.md)")
        proc = subprocess.run(["sh", str(PACKAGING / "build.sh")], cwd=ROOT, env={**os.environ, "PYTHON": sys.executable},
                              capture_output=True, text=True, timeout=1800)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return folder


def _exe(bundle: Path, name: str) -> str:
    return str(bundle / (name + (".exe" if os.name == "nt" else "")))


@pytest.mark.slow
def test_bundle_leaves_out_torch_and_transformers(bundle):
    internal = bundle / "_internal"
    for name in ("torch", "transformers", "safetensors"):
        assert not (internal / name).exists(), f"{name} was bundled"
    assert (internal / "s2s_desktop" / "resources" / "icons" / "s2s-desktop.svg").is_file()


@pytest.mark.slow
def test_bundle_cli_translates_with_the_bundled_model(bundle, tmp_path):
    env = _env(tmp_path)
    version = subprocess.run([_exe(bundle, "s2s"), "--version"], capture_output=True, text=True, env=env, timeout=120)
    assert version.returncode == 0 and version.stdout.strip() == f"s2s-desktop {__version__}"

    listed = subprocess.run([_exe(bundle, "s2s"), "models", "list", "--json"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    models = json.loads(listed.stdout)
    bundled = [m for m in models if m["bundled"]]
    assert bundled and all(Path(m["path"]).resolve().is_relative_to(bundle.resolve()) for m in bundled)

    proc = subprocess.run([_exe(bundle, "s2s"), "translate"], input=SENTENCE + "\n", capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and lines[0].strip() and lines[0].strip() != SENTENCE


@pytest.mark.slow
def test_bundle_refuses_conversion_with_a_clear_message(bundle, tmp_path):
    proc = subprocess.run([_exe(bundle, "s2s"), "-m", "s2s_desktop.models.manager", "--convert-job", "job.json"],
                          capture_output=True, text=True, env=_env(tmp_path), timeout=120)
    assert proc.returncode == 1
    assert "full install" in json.loads(proc.stdout.splitlines()[-1])["error"]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="offscreen start checked on Linux")
def test_bundle_gui_opens_offscreen(bundle, tmp_path):
    proc = subprocess.run([_exe(bundle, "s2s-desktop"), "--startup-probe"], capture_output=True, text=True,
                          env=_env(tmp_path), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    probe = next(line for line in proc.stdout.splitlines() if line.startswith("startup_probe"))
    assert "torch" not in probe


# ------------------------------------------- app-side hooks (skip until present)
def _manager_with_conversion_check():
    manager = pytest.importorskip("s2s_desktop.models.manager")
    if not hasattr(manager, "conversion_unavailable"):
        pytest.skip("models.manager has no conversion_unavailable() yet")
    return manager


def test_conversion_is_refused_in_the_frozen_app(monkeypatch):
    manager = _manager_with_conversion_check()
    from s2s_desktop.core.errors import ModelError

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    reason = manager.conversion_unavailable()
    assert reason and "full install" in reason
    with pytest.raises(ModelError, match="full install"):
        manager.run_conversion_job({})  # the child process's entry: refuses before reading the job


def test_conversion_names_missing_libraries(monkeypatch):
    manager = _manager_with_conversion_check()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    assert "torch" in manager.conversion_unavailable()


def test_about_lists_version_models_and_libraries():
    about = pytest.importorskip("s2s_desktop.about")
    text = about.about_html()
    assert __version__ in text
    bundled = about.bundled_model_licenses()
    assert {mid for mid, _name, _lic in bundled} >= {
        p.parent.name for p in (ROOT / "resources" / "models").glob("*/s2s-model.json")}
    assert all(lic and lic != "unknown" for _mid, _name, lic in bundled)
    libraries = {name: lic for name, _version, lic in about.library_licenses()}
    assert libraries["CTranslate2"] == "MIT" and "LGPL" in libraries["Qt for Python (PySide6) and Qt"]


def test_app_sets_icon_and_desktop_file_name(qapp):
    import s2s_desktop

    if not hasattr(s2s_desktop, "APP_ID"):
        pytest.skip("s2s_desktop.APP_ID not defined yet")
    from s2s_desktop.gui.app import create_app

    app = create_app([])
    assert app.desktopFileName() == s2s_desktop.APP_ID == APP_ID
    assert not app.windowIcon().isNull()
