"""The `s2s` command end to end, in a real subprocess, on the tiny models."""

import json
import os
import subprocess
import sys

import pytest

from s2s_desktop import __version__


@pytest.fixture
def s2s(model_store):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}

    def run(*args, input: str | bytes = b"", check_rc: int | None = 0):
        data = input.encode() if isinstance(input, str) else input
        proc = subprocess.run([sys.executable, "-m", "s2s_desktop", *args], input=data, capture_output=True, env=env, timeout=120)
        out, err = proc.stdout.decode(), proc.stderr.decode()
        if check_rc is not None:
            assert proc.returncode == check_rc, err
        return proc.returncode, out, err

    return run


def test_translate_stdin_one_line_per_input_line(s2s):
    text = "The house is small. The dog is old.\n\n  - Good morning.\nThank you very much.\n"
    _, out, err = s2s("translate", input=text)  # no --model: the default en→de model
    assert out == "Das Haus ist klein. Der Hund ist alt.\n\n  - Guten Morgen.\nVielen Dank.\n"
    assert "Traceback" not in err


def test_translate_files_and_beam(s2s, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("I need help.\nWhere is the station?", encoding="utf-8")
    dst = tmp_path / "out.txt"
    s2s("translate", "--model", "tiny-en-de", "--beam", "4", "-i", str(src), "-o", str(dst))
    assert dst.read_text(encoding="utf-8") == "Ich brauche Hilfe.\nWo ist der Bahnhof?"


def test_alignments_pharaoh_one_line_per_input_line(s2s, tmp_path):
    text = "The house is small. The cat sleeps.\n\nGood night.\n"
    align = tmp_path / "align.txt"
    _, out, _ = s2s("translate", "--alignments-out", str(align), input=text)
    out_lines = out.split("\n")[:-1]
    in_lines = text.split("\n")[:-1]
    al_lines = align.read_text(encoding="utf-8").split("\n")[:-1]
    assert len(al_lines) == len(in_lines) == 3
    assert al_lines[1] == ""  # empty line → empty alignment
    for src, tgt, pairs in zip(in_lines, out_lines, al_lines):
        for pair in pairs.split():
            i, j = map(int, pair.split("-"))
            assert 0 <= i < len(src.split()) and 0 <= j < len(tgt.split())
    # every target word of the first line is aligned, the second sentence after offset 4/4
    targets = sorted({int(p.split("-")[1]) for p in al_lines[0].split()})
    assert targets == list(range(len(out_lines[0].split())))
    assert any(int(p.split("-")[0]) >= 4 and int(p.split("-")[1]) >= 4 for p in al_lines[0].split())


def test_alignments_json(s2s, tmp_path):
    align = tmp_path / "align.jsonl"
    s2s("translate", "--alignments-out", str(align), "--alignments-format", "json", input="The water is cold. Good morning.\n")
    (record,) = [json.loads(line) for line in align.read_text(encoding="utf-8").splitlines()]
    assert record["target"] == "Das Wasser ist kalt. Guten Morgen."
    first, second = record["sentences"]
    assert first["source_words"] == ["The", "water", "is", "cold."]
    assert first["target_words"] == ["Das", "Wasser", "ist", "kalt."]
    assert len(first["attention"]) == 4 and all(len(row) == 4 for row in first["attention"])
    assert all(abs(sum(row) - 1) < 1e-3 for row in first["attention"])
    assert first["source_tokens"][-1] == "</s>"
    assert (second["source_offset"], second["target_offset"]) == (4, 4)


def test_summarize_document(s2s, tmp_path):
    doc = tmp_path / "doc.html"
    doc.write_text("<html><body><p>Free software gives users freedom.</p><p>The weather was good.</p></body></html>", encoding="utf-8")
    rc, out, err = s2s("summarize", "--model", "tiny-t5-sum", "--beam", "1", str(doc))
    assert out.endswith("\n") and "Traceback" not in err


def test_models_list_json(s2s):
    _, out, _ = s2s("models", "list", "--json")
    models = {m["id"]: m for m in json.loads(out)}
    assert set(models) == {"tiny-en-de", "tiny-t5-sum", "tiny-bart-sum"}
    en_de = models["tiny-en-de"]
    assert (en_de["task"], en_de["source"], en_de["target"], en_de["bundled"]) == ("translate", "en", "de", False)
    assert en_de["size_bytes"] > 10_000 and os.path.isdir(en_de["path"])
    assert models["tiny-t5-sum"]["task"] == "summarize" and models["tiny-t5-sum"]["target"] is None
    _, table, _ = s2s("models", "list")
    assert "tiny-en-de" in table and "en→de" in table


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (("translate", "--model", "nope"), "Hello.", "No model 'nope'"),
        (("translate", "--model", "tiny-t5-sum"), "Hello.", "is a summarize model"),
        (("translate",), b"\xff\xfe\x00\x01binary", "looks binary"),
        (("translate",), b"caf\xe9 latin-1", "is not UTF-8"),
        (("translate", "-i", "/no/such/file"), "", "Cannot read /no/such/file"),
        (("translate", "--compute-type", "int8_float16"), "Hello.", "not supported on CPU"),
        (("summarize", "--model", "tiny-t5-sum", "/no/such/doc.pdf"), "", "Cannot read /no/such/doc.pdf"),
    ],
)
def test_errors_are_clear_and_nonzero(s2s, args, stdin, message):
    rc, out, err = s2s(*args, input=stdin, check_rc=None)
    assert rc == 1
    assert message in err and err.startswith("s2s: error:")
    assert "Traceback" not in err and out == ""


def test_version_and_help(s2s):
    _, out, _ = s2s("--version")
    assert __version__ in out
    for command in (["translate"], ["summarize"], ["models"], ["models", "list"]):
        _, out, _ = s2s(*command, "--help")
        assert "usage: s2s" in out
    rc, _, err = s2s(check_rc=None)
    assert rc == 2 and "usage" in err
