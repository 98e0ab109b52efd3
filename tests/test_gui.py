"""The main window on real widgets (offscreen), with the tiny test models."""

import shutil
import subprocess
import sys
import time

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QDockWidget  # noqa: E402

from s2s_desktop.core.manifest import ModelManifest  # noqa: E402
from s2s_desktop.gui.main_window import MainWindow  # noqa: E402
from s2s_desktop.gui.settings import AppSettings, open_qsettings  # noqa: E402
from s2s_desktop.gui.theme import apply_theme  # noqa: E402
from s2s_desktop.models.store import ModelStore  # noqa: E402
from tests.factory import SUMMARY_TEXT  # noqa: E402

LONG = 30_000  # ms: generous, the test machine is shared


@pytest.fixture
def make_window(qtbot, model_store, tmp_path):
    windows = []

    def make(**kwargs):
        window = MainWindow(store=ModelStore(), qsettings=open_qsettings(tmp_path / "settings.ini"),
                            autosave_path=tmp_path / "autosave" / "source.txt", **kwargs)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
    apply_theme("system")


@pytest.fixture
def window(make_window):
    w = make_window()
    w.select_model("tiny-en-de")
    return w


def translate(qtbot, window, text: str) -> str:
    with qtbot.waitSignal(window.jobFinished, timeout=LONG, check_params_cb=lambda kind: kind == "translate"):
        window.source.setPlainText(text)
        window.run_task()
    return window.output_text()


def long_text(n: int = 1500) -> str:
    base = ["The house is small.", "The dog is old.", "Good morning.", "We need a new computer."]
    return " ".join(base[i % len(base)] for i in range(n))


# ------------------------------------------------------------------- startup
def test_gui_starts_without_torch_or_transformers(model_store, tmp_path):
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from s2s_desktop.gui.main_window import MainWindow\n"
        f"w = MainWindow(autosave_path={str(tmp_path / 'a.txt')!r}, preload=False)\n"
        "w.show(); app.processEvents()\n"
        "print('HEAVY:' + ' '.join(m for m in ('torch', 'transformers', 'ctranslate2') if m in sys.modules))\n"
        "w.close()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rsplit("HEAVY:", 1)[1].strip() == ""  # ctranslate2 too: it loads on the worker


def test_greedy_jobs_never_hang_when_ctranslate2_loads_on_the_worker(model_store, tmp_path):
    """Regression: on a plain QThread, pybind11 kept a dead Python thread state from the
    first job and the next greedy translation (CT2 callback) waited forever for the GIL."""
    code = (
        "import sys, faulthandler\n"
        "faulthandler.dump_traceback_later(100, exit=True)\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from s2s_desktop.gui.main_window import MainWindow\n"
        "from s2s_desktop.gui.settings import AppSettings, open_qsettings\n"
        f"w = MainWindow(qsettings=open_qsettings({str(tmp_path / 's.ini')!r}), autosave_path={str(tmp_path / 'a.txt')!r})\n"
        "assert 'ctranslate2' not in sys.modules\n"
        "w.apply_settings(AppSettings(beam_size=1, translate_as_you_type=False))\n"
        "w.select_model('tiny-en-de')\n"
        "texts = iter(['The house is small.', 'Good morning.', 'The dog is old.', 'The cat sleeps.'])\n"
        "out = []\n"
        "def next_job(kind=None):\n"
        "    if kind: out.append(w.output_text())\n"
        "    t = next(texts, None)\n"
        "    if t is None: app.quit(); return\n"
        "    w.source.setPlainText(t); w.run_task()\n"
        "w.jobFinished.connect(next_job)\n"
        "w.show(); next_job()\n"
        "app.exec()\n"
        "print('OUT:' + '|'.join(out))\n"
        "w.close()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=150)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.rsplit("OUT:", 1)[1].strip() == "Das Haus ist klein.|Guten Morgen.|Der Hund ist alt.|Die Katze schläft."


def test_layout_and_plugin_points(window):
    assert isinstance(window.alignment_dock, QDockWidget)
    assert window.dockWidgetArea(window.alignment_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    tools = [a.text().replace("&", "") for a in menus["Tools"].actions()]
    assert "Manage Models…" in tools
    assert window.target.isReadOnly() and not window.source.isReadOnly()
    # every action has a keyboard shortcut
    for action in window.actions():
        if action.text() and not action.isSeparator():
            assert not action.shortcut().isEmpty(), action.text()
    assert "en→de" in window.model_combo.currentText()
    assert window.target_pane.title.text() == "Translation — German"


# --------------------------------------------------------------- translating
def test_typing_translates_after_a_pause(qtbot, window):
    submitted = []
    original = window.runner.submit
    window.runner.submit = lambda job: (submitted.append(job), original(job))[1]
    assert window.live_action.isChecked()
    with qtbot.waitSignal(window.jobFinished, timeout=LONG):
        qtbot.keyClicks(window.source, "The house is small.")
    assert [j.kind for j in submitted if j.kind == "translate"] == ["translate"]  # debounced: one job
    assert window.output_text() == "Das Haus ist klein."
    assert "Das Haus ist klein." in window.target.toPlainText()
    qtbot.waitUntil(lambda: window.target_pane.counts.text().startswith("4 words"))
    assert window.source_pane.counts.text() == "4 words · 19 characters"
    assert window.device_label.text().startswith(("CPU", "CUDA"))
    assert "tok/s" in window.speed_label.text()


def test_layout_is_kept_and_latest_request_wins(qtbot, window):
    window.source.setPlainText("The house is small.")
    first = window.run_task()
    window.source.setPlainText("# Good morning.\n\n- The dog is old.\n- The cat sleeps.")
    with qtbot.waitSignal(window.jobFinished, timeout=LONG):
        second = window.run_task()
    assert first.cancel.cancelled and not second.cancel.cancelled
    assert window.output_text() == "# Guten Morgen.\n\n- Der Hund ist alt.\n- Die Katze schläft."
    assert window.current_translation.done


def test_translation_updated_signal_carries_results(qtbot, window):
    seen = []
    window.translationUpdated.connect(seen.append)
    translate(qtbot, window, "Good morning. The house is small.")
    final = seen[-1]
    assert final is window.current_translation and final.done
    assert {r.target for r in final.results.values()} == {"Guten Morgen.", "Das Haus ist klein."}
    result = final.results[0]
    assert result.attention.shape == (len(result.target_tokens), len(result.source_tokens))
    assert window.latest_results and all(r.index in final.results for r in window.latest_results)


def test_tokens_stream_in_greedy_mode(qtbot, window, monkeypatch):
    from s2s_desktop.core.engine import Engine

    streamer = Engine._token_streamer

    def slow_streamer(self, batch, on_token):  # 15 ms per token: the GUI polls every 40 ms
        inner = streamer(self, batch, on_token)
        return lambda step: (time.sleep(0.015), inner(step))[1]

    monkeypatch.setattr(Engine, "_token_streamer", slow_streamer)
    window.apply_settings(AppSettings(beam_size=1, translate_as_you_type=False))
    shown = []
    window.translationUpdated.connect(lambda t: shown.append(window.target.toPlainText()))
    assert translate(qtbot, window, "We need a new computer.") == "Wir brauchen einen neuen Computer."
    partial = [t for t in shown[:-1] if t != "We need a new computer."]
    assert partial and all("Wir brauchen einen neuen Computer.".startswith(t) for t in partial)
    assert shown[-1] == "Wir brauchen einen neuen Computer."


def test_stop_cancels_and_window_stays_usable(qtbot, window):
    window.apply_settings(AppSettings(beam_size=4, translate_as_you_type=False))
    window.source.setPlainText(long_text())
    with qtbot.waitSignal(window.runner.worker.translationStarted, timeout=LONG):
        job = window.run_task()
    assert window.stop_action.isEnabled()
    # (not worker.cancelled: pytest-qt's slot would run on the worker thread, before the window's)
    with qtbot.waitSignal(window.jobCancelled, timeout=LONG):
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert job.cancel.cancelled
    assert not window.stop_action.isEnabled()
    assert not window.progress.isVisible()
    assert window.current_translation is None or not window.current_translation.done
    assert translate(qtbot, window, "The cat sleeps.") == "Die Katze schläft."


def test_quitting_while_a_job_runs_is_clean(qtbot, window):
    window.apply_settings(AppSettings(beam_size=4, translate_as_you_type=False))
    window.source.setPlainText(long_text(3000))
    with qtbot.waitSignal(window.runner.worker.translationStarted, timeout=LONG):
        window.run_task()
    started = time.perf_counter()
    window.close()
    assert window.runner.thread.isFinished()
    assert time.perf_counter() - started < 10


def test_swap_direction_uses_reverse_model_and_swaps_texts(qtbot, model_store, make_window):
    reverse = model_store.user_dir / "tiny-de-en"
    shutil.copytree(model_store.get("tiny-en-de").path, reverse)
    manifest = ModelManifest.load(reverse)
    manifest.id, manifest.source, manifest.target, manifest.name = "tiny-de-en", "de", "en", "Tiny reversed"
    manifest.save(reverse)
    window = make_window()
    window.select_model("tiny-en-de")
    window.live_action.setChecked(False)
    translate(qtbot, window, "The house is small.")
    assert window.swap_action.isEnabled()
    window.swap_direction()
    assert window.current_model().id == "tiny-de-en"
    assert window.source.toPlainText() == "Das Haus ist klein."
    assert window.target.toPlainText() == "The house is small."
    assert window.target_pane.title.text() == "Translation — English"
    window.select_model("tiny-t5-sum")
    assert not window.swap_action.isEnabled()


# ----------------------------------------------------------------- documents
def make_documents(tmp_path) -> dict:
    from docx import Document as Docx
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    docs = {}
    docs["txt"] = tmp_path / "note.txt"
    docs["txt"].write_text("The house is small.\n", encoding="utf-8")
    docs["md"] = tmp_path / "note.md"
    docs["md"].write_text("# Title\n\nThe dog is old.\n", encoding="utf-8")
    docs["html"] = tmp_path / "page.html"
    docs["html"].write_text("<html><body><h1>Hello</h1><p>The cat sleeps.</p></body></html>", encoding="utf-8")
    docs["docx"] = tmp_path / "letter.docx"
    d = Docx()
    d.add_paragraph("Good morning.")
    d.save(docs["docx"])
    docs["pdf"] = tmp_path / "paper.pdf"
    c = canvas.Canvas(str(docs["pdf"]), pagesize=A4)
    c.drawString(72, 750, "The computer is fast.")
    c.showPage()
    c.save()
    return docs


@pytest.mark.parametrize("kind,expected", [("txt", "The house is small."), ("md", "The dog is old."),
                                           ("html", "The cat sleeps."), ("docx", "Good morning."),
                                           ("pdf", "The computer is fast.")])
def test_open_each_document_type(qtbot, window, tmp_path, kind, expected):
    window.live_action.setChecked(False)
    path = make_documents(tmp_path)[kind]
    with qtbot.waitSignal(window.documentLoaded, timeout=LONG):
        window.open_file(str(path))
    assert expected in window.source.toPlainText()
    assert path.name in window.windowTitle()
    assert window.qsettings.value("state/recent")[0] == str(path)
    assert window.recent_menu.isEnabled()


def test_dropping_a_file_opens_it(qtbot, window, tmp_path):
    window.live_action.setChecked(False)
    path = make_documents(tmp_path)["txt"]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.documentLoaded, timeout=LONG):
        window.source.dropEvent(event)
    assert window.source.toPlainText().strip() == "The house is small."


def test_unreadable_document_shows_a_non_modal_message(qtbot, window, tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 this is not really a pdf")
    window.source.setPlainText("Keep me.")
    with qtbot.waitSignal(window.jobFailed, timeout=LONG):
        window.open_file(str(bad))
    assert window.message_bar.isVisible()
    assert "broken.pdf" in window.message_bar.text.text()
    assert QApplication.activeModalWidget() is None
    assert window.source.toPlainText() == "Keep me."  # nothing lost
    window.message_bar.dismiss()
    assert not window.message_bar.isVisible()


def test_model_load_failure_is_reported_with_details(qtbot, model_store, make_window):
    broken = model_store.user_dir / "tiny-broken"
    shutil.copytree(model_store.get("tiny-en-de").path, broken)
    (broken / "model.bin").write_bytes(b"garbage")
    manifest = ModelManifest.load(broken)
    manifest.id = "tiny-broken"
    manifest.save(broken)
    window = make_window()
    window.live_action.setChecked(False)
    window.select_model("tiny-broken")
    window.source.setPlainText("The house is small.")
    with qtbot.waitSignal(window.jobFailed, timeout=LONG):
        window.run_task()
    bar = window.message_bar
    assert bar.isVisible() and "Cannot load model 'tiny-broken'" in bar.text.text()
    assert QApplication.activeModalWidget() is None
    if bar.details_button.isVisible():  # details when the core chained a cause
        bar.details_button.click()
        assert bar.details.isVisible()
    window.select_model("tiny-en-de")
    assert translate(qtbot, window, "The house is small.") == "Das Haus ist klein."


def test_summarize_a_long_document_with_progress(qtbot, window, tmp_path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = tmp_path / "long.pdf"
    c = canvas.Canvas(str(pdf), pagesize=A4)
    sentences = SUMMARY_TEXT.strip().split(". ")
    for page in range(2):
        for line in range(12):
            c.drawString(60, 780 - 24 * line, sentences[(page + line) % len(sentences)].rstrip(".") + ".")
        c.showPage()
    c.save()
    window.apply_settings(AppSettings(beam_size=1, translate_as_you_type=False))
    window.set_task("summarize")
    window.select_model("tiny-t5-sum")
    pages = []
    window.runner.worker.progress.connect(lambda _id, done, total, label: pages.append((label, done, total)))
    with qtbot.waitSignal(window.documentLoaded, timeout=LONG):
        window.open_file(str(pdf))
    assert ("Reading", 2, 2) in pages
    assert window.target_pane.title.text() == "Summary"
    progress_seen = []
    window.runner.worker.progress.connect(lambda *_: progress_seen.append(window.progress.isVisible()))
    with qtbot.waitSignal(window.jobFinished, timeout=LONG * 4, check_params_cb=lambda kind: kind == "summarize"):
        window.run_task()
    summaries = [p for p in pages if p[0].startswith("Summarizing")]
    assert max(total for _, _, total in summaries) > 1  # chunked
    assert any(progress_seen)
    assert window.output_text().strip()
    assert window.current_translation is None
    assert not window.progress.isVisible()


# ------------------------------------------------------- settings and state
def test_settings_persist_across_a_restart(qtbot, make_window, tmp_path):
    first = make_window()
    wanted = AppSettings(device="cpu", compute_type="int8", threads=1, beam_size=2, max_length=64,
                         translate_as_you_type=False, font_size=15, theme="dark")
    first.apply_settings(wanted)
    first.vertical_action.setChecked(True)
    first.resize(720, 520)
    first.set_task("summarize")
    first.close()

    second = make_window()
    assert second.settings == wanted
    assert not second.live_action.isChecked()
    assert second.source.font().pointSize() == 15
    assert second.splitter.orientation() == Qt.Orientation.Vertical
    assert (second.width(), second.height()) == (720, 520)
    assert second.task == "summarize"


def test_settings_dialog_round_trip(window):
    from s2s_desktop.gui.settings import SettingsDialog

    wanted = AppSettings(device="cuda", compute_type="float16", threads=3, beam_size=1, max_length=128,
                         translate_as_you_type=False, font_size=12, theme="light")
    dialog = SettingsDialog(wanted, window)
    assert dialog.values() == wanted


def test_autosave_restores_the_source_after_a_crash(qtbot, make_window, tmp_path):
    first = make_window()
    first.live_action.setChecked(False)
    qtbot.keyClicks(first.source, "Unsaved words")
    path = tmp_path / "autosave" / "source.txt"
    qtbot.waitUntil(lambda: path.is_file() and path.read_text() == "Unsaved words", timeout=5000)
    # a crash: the window never closes cleanly; a new one restores the text
    second = make_window()
    assert second.source.toPlainText() == "Unsaved words"


def test_model_manager_removes_a_loaded_model_and_the_picker_follows(qtbot, window):
    from PySide6.QtCore import Qt

    assert translate(qtbot, window, "Good morning.") == "Guten Morgen."  # tiny-en-de is loaded now
    window.models_action.trigger()
    dialog = window._manager_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.confirm = lambda title, text: True
    assert dialog.select("tiny-en-de")
    path = window.store.get("tiny-en-de").path
    with qtbot.waitSignal(dialog.modelsChanged, timeout=LONG):
        qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert not path.exists()  # the worker released the model first, then it was removed
    qtbot.waitUntil(lambda: window.model_combo.findData("tiny-en-de") < 0, timeout=LONG)
    assert not window.run_action.isEnabled()  # no translate model is left
    window.models_action.trigger()
    assert window._manager_dialog is dialog  # one dialog, raised again


def test_renderer_edits_only_changed_segments(qtbot):
    from PySide6.QtWidgets import QPlainTextEdit

    from s2s_desktop.core.engine import SentenceResult, TextTranslation
    from s2s_desktop.core.text import segment_text
    from s2s_desktop.gui.widgets import OutputRenderer

    edit = QPlainTextEdit()
    qtbot.addWidget(edit)
    text = "Hello 😀 world. Second one.\n\n- Third 🎉 here."
    job = TextTranslation(text, segment_text(text, "en"))
    renderer = OutputRenderer(edit)
    renderer.start(job)
    assert edit.toPlainText() == text
    renderer.partials[1] = "Zwei"
    renderer.render()
    job.add(SentenceResult(2, job.sentences[2], "Drei 🎉 hier.", [], [], None, None))
    renderer.render()
    job.add(SentenceResult(0, job.sentences[0], "Hallo 😀 Welt.", [], [], None, None))
    renderer.render()
    assert edit.toPlainText() == "Hallo 😀 Welt. Zwei\n\n- Drei 🎉 hier."
    job.add(SentenceResult(1, job.sentences[1], "Zweiter.", [], [], None, None))
    renderer.partials.pop(1)
    renderer.render()
    assert edit.toPlainText() == job.text == renderer.text


def test_binding_refcount_workaround_keeps_long_sessions_alive():
    """PySide6 6.12 on Python 3.11 drops a reference to None on every void call; a long
    session used to abort with "none_dealloc". Importing s2s_desktop.gui guards it."""
    code = (
        "import s2s_desktop.gui\n"
        "from PySide6.QtCore import QObject, Signal\n"
        "class O(QObject):\n"
        "    ping = Signal(int)\n"
        "o = O()\n"
        "for i in range(200_000):\n"
        "    o.setObjectName('x'); o.ping.emit(i)\n"
        "print('alive')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "alive" in proc.stdout, proc.stderr[-2000:]


def test_errors_become_user_messages_with_details():
    from s2s_desktop.core.errors import DocumentError
    from s2s_desktop.gui.worker import describe_exception

    try:
        raise MemoryError()
    except MemoryError as exc:
        err = describe_exception(exc)
    assert err.message.startswith("Out of memory") and "MemoryError" in err.details
    try:
        raise RuntimeError("CUDA failed with error out of memory")
    except RuntimeError as exc:
        assert describe_exception(exc).message.startswith("Out of memory on the device")
    err = describe_exception(DocumentError("/x/a.pdf", "the file is empty"))
    assert err.message == "Cannot read /x/a.pdf: the file is empty"
    try:
        {}["missing"]
    except KeyError as exc:
        err = describe_exception(exc)
    assert err.message.startswith("Unexpected error: KeyError") and "Traceback" in err.details


def test_message_bar_details_toggle(qtbot):
    from s2s_desktop.gui.widgets import MessageBar

    bar = MessageBar()
    qtbot.addWidget(bar)
    bar.show_message("Something failed", "error", "Traceback: details here")
    assert bar.isVisible() and bar.details_button.isVisible() and not bar.details.isVisible()
    bar.details_button.click()
    assert bar.details.isVisible() and "details here" in bar.details.toPlainText()
    bar.show_message("Just so you know", "info")
    assert not bar.details_button.isVisible() and not bar.details.isVisible()
