import json

import pytest

from s2s_desktop.core.alignment_export import (
    alignment_line,
    export_text,
    line_records,
    text_layout,
    write_export,
)
from s2s_desktop.core.engine import TranslationOptions

TEXT = "The house is small. The dog is old.\n\n- The cat sleeps.\nI like the garden.\n"


@pytest.fixture(scope="module")
def translated(en_de):
    return en_de.translate_text(TEXT, TranslationOptions(beam_size=1))


def test_layout_mirrors_reassemble(translated):
    layout = text_layout(translated)
    assert layout.source == translated.source
    assert layout.target == translated.text
    for span in layout.spans:
        assert translated.source[span.source_start : span.source_end] == translated.sentences[span.index]
        assert translated.text[span.target_start : span.target_end] == translated.results[span.index].target.strip()


def test_layout_with_pending_sentences(en_de):
    job = en_de.start_text(TEXT)
    (first,) = en_de.translate_sentences(job.sentences[:1], TranslationOptions(beam_size=1))
    job.add(first)
    layout = text_layout(job)
    assert layout.target == job.text
    assert [s.translated for s in layout.spans] == [True, False, False, False]
    lines = line_records(job)
    assert [len(line.records) for line in lines] == [1, 0, 0, 0]


def _check_pharaoh(line: str, source: str, target: str) -> None:
    for pair in line.split():
        s, t = map(int, pair.split("-"))
        assert 0 <= s < len(source.split()) and 0 <= t < len(target.split())


def test_pharaoh_export_whole_text(translated, en_de, tmp_path):
    lines = line_records(translated)
    assert [line.source for line in lines] == TEXT.split("\n")[:-1]
    assert "\n".join(line.target for line in lines) + "\n" == translated.text
    out = export_text(translated, en_de.tokenizer).split("\n")
    assert len(out) == len(lines) + 1 and out[-1] == ""
    for text, line in zip(out, lines):
        _check_pharaoh(text, line.source, line.target)
    assert out[0] and out[3] and out[1] == ""
    # "- The cat sleeps.": the bullet is word 0 of the line, so no link points at it
    # unless a word aligned to it, and every target index is shifted past "-"
    assert all(int(p.split("-")[1]) >= 1 for p in out[2].split())
    path = tmp_path / "a.align"
    assert write_export(path, translated, en_de.tokenizer) == "pharaoh"
    assert path.read_text(encoding="utf-8") == "\n".join(out)


def test_json_export_whole_text(translated, en_de, tmp_path):
    path = tmp_path / "a.jsonl"
    assert write_export(path, translated, en_de.tokenizer) == "json"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 4
    first = rows[0]
    assert first["source"] == "The house is small. The dog is old."
    assert len(first["sentences"]) == 2
    second = first["sentences"][1]
    assert second["source_offset"] == 4 and second["target_offset"] == len(first["sentences"][0]["target"].split())
    for row in rows:
        for sent in row["sentences"]:
            assert sent["source_words"] == sent["source"].split()
            assert len(sent["attention"]) == len(sent["target_words"])
            assert all(len(r) == len(sent["source_words"]) for r in sent["attention"])
            assert sent["source_tokens"][-1] == "</s>"
            for s, t in sent["alignment"]:
                assert 0 <= s < len(row["source"].split()) and 0 <= t < len(row["target"].split())


def test_threshold_method_and_errors(translated, en_de):
    lines = line_records(translated)
    line = lines[0]
    loose = alignment_line(line.source, line.target, line.records, en_de.tokenizer, "pharaoh", "threshold", 0.01)
    strict = alignment_line(line.source, line.target, line.records, en_de.tokenizer, "pharaoh", "threshold", 0.99)
    assert len(loose.split()) > len(strict.split())
    with pytest.raises(ValueError):
        alignment_line(line.source, line.target, line.records, en_de.tokenizer, "xml")
    with pytest.raises(ValueError):
        alignment_line(line.source, line.target, line.records, en_de.tokenizer, "pharaoh", "magic")
