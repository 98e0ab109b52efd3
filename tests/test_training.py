"""Training pipeline: corpus cleaning/splitting, DDTP pairing, train + resume + Ctrl-C,
export (CT2 int8 + manifest + card), evaluation CLI, clear errors for bad corpora."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s2s_desktop.training import CorpusError
from s2s_desktop.training.corpus import Pair, clean_pairs, read_parallel, read_tsv, split_pairs, write_tsv
from tests.factory import PAIRS

# ----------------------------------------------------------------- corpus


def test_clean_drops_bad_pairs_and_duplicates():
    pairs = [Pair(s, t) for s, t in PAIRS] + [
        Pair("The house is small.", "Das Haus ist klein."),  # duplicate
        Pair("", "Leer"),  # empty
        Pair("%%%% ### !!!", "$$$ ###"),  # garbage
        Pair("A short one.", "Ein sehr, sehr, sehr langer Satz, der viel zu lang für die Quelle ist, wirklich."),
        Pair("word " * 200, "Wort " * 200),  # too long
        Pair("This text was not translated at all.", "This text was not translated at all."),
        Pair("  The\tgarden\u0007 is  green. ", "Der Garten ist grün."),
    ]
    from s2s_desktop.training.corpus import CleanStats

    stats = CleanStats()
    kept = clean_pairs(pairs, stats=stats)
    assert len(kept) == len(PAIRS) + 1
    assert Pair("The garden is green.", "Der Garten ist grün.") in kept
    assert stats.dropped == {"duplicate": 1, "empty": 1, "garbage": 1, "ratio": 1, "length": 1, "identical": 1}
    assert "kept" in stats.summary()


def test_split_is_deterministic_and_keeps_groups_together():
    pairs = [Pair(f"sentence {i} here", f"Satz {i} hier", f"g{i // 3}") for i in range(300)]
    a = split_pairs(pairs, dev=30, test=30, seed=0)
    b = split_pairs(list(pairs), dev=30, test=30, seed=0)
    assert a == b
    train, dev, test = a
    assert len(train) + len(dev) + len(test) == 300
    assert 30 <= len(dev) <= 32 and 30 <= len(test) <= 32
    groups = [{p.group for p in split} for split in a]
    assert not (groups[0] & groups[1]) and not (groups[0] & groups[2]) and not (groups[1] & groups[2])
    assert split_pairs(pairs, dev=30, test=30, seed=1) != a


def test_read_tsv_and_parallel(tmp_path):
    tsv = tmp_path / "c.tsv"
    write_tsv([Pair("a b", "c d", "g"), Pair("e", "f")], tsv, with_group=True)
    assert read_tsv(tsv) == [Pair("a b", "c d", "g"), Pair("e", "f", "")]
    (tmp_path / "s.txt").write_text("one\ntwo\n", encoding="utf-8")
    (tmp_path / "t.txt").write_text("eins\nzwei\n", encoding="utf-8")
    assert read_parallel(tmp_path / "s.txt", tmp_path / "t.txt") == [Pair("one", "eins"), Pair("two", "zwei")]


def test_bad_corpora_give_clear_errors(tmp_path):
    (tmp_path / "s.txt").write_text("one\ntwo\nthree\n", encoding="utf-8")
    (tmp_path / "t.txt").write_text("eins\nzwei\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="Line counts differ.*3 lines.*2"):
        read_parallel(tmp_path / "s.txt", tmp_path / "t.txt")
    (tmp_path / "latin1.tsv").write_bytes("Grüße\tgreetings\n".encode("latin-1"))
    with pytest.raises(CorpusError, match="not UTF-8.*line 1.*iconv"):
        read_tsv(tmp_path / "latin1.tsv")
    (tmp_path / "notabs.tsv").write_text("no tab here\nnor here\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no source<TAB>target pairs.*line 1"):
        read_tsv(tmp_path / "notabs.tsv")
    with pytest.raises(CorpusError, match="does not exist"):
        read_tsv(tmp_path / "missing.tsv")


def test_cli_reports_corpus_without_valid_pairs(tmp_path, capsys):
    from s2s_desktop.training.cli import main

    bad = tmp_path / "bad.tsv"
    bad.write_text("###\t$$$\n\t\n...\t!!!\n", encoding="utf-8")
    rc = main(["train", "run", "--run-dir", str(tmp_path / "run"), "--train", str(bad)])
    assert rc == 1
    err = capsys.readouterr().err
    assert "no valid pairs" in err and "garbage" in err


def test_disk_full_message(tmp_path, monkeypatch):
    import errno

    from s2s_desktop.training import corpus

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("builtins.open", full)
    with pytest.raises(CorpusError, match="Disk full"):
        corpus.write_tsv([Pair("a", "b")], tmp_path / "x.tsv")


# ----------------------------------------------------------------- DDTP

EN = """Package: foo
Description-md5: 11111111111111111111111111111111
Description-en: tool to frobnicate files
 Foo frobnicates files quickly. It supports many formats.
 .
 This package contains the command line tool.

Package: bar
Description-md5: 22222222222222222222222222222222
Description-en: library for bars
 Bar is a library.
 .
 Features:
  * fast parsing
  * small memory use

Package: onlyen
Description-md5: 33333333333333333333333333333333
Description-en: untranslated package
 Nobody translated this description yet, so it only exists in English and it
 is long enough to become a summarization pair for the summarizer corpus, as it
 holds more than twenty-five words in its long description text.
"""

DE = """Package: foo
Description-md5: 11111111111111111111111111111111
Description-de: Werkzeug zum Frobnizieren von Dateien
 Foo frobniziert Dateien schnell. Es unterstützt viele Formate.
 .
 Dieses Paket enthält das Befehlszeilenwerkzeug.

Package: bar
Description-md5: 22222222222222222222222222222222
Description-de: Bibliothek für Bars
 Bar ist eine Bibliothek.
"""


def test_ddtp_pairs_by_md5(tmp_path):
    lz4 = pytest.importorskip("lz4.frame")
    from s2s_desktop.training.ddtp import build_ddtp_corpus, split_sentences

    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "x_main_i18n_Translation-en.lz4").write_bytes(lz4.compress(EN.encode()))
    (lists / "x_main_i18n_Translation-de.lz4").write_bytes(lz4.compress(DE.encode()))
    out = build_ddtp_corpus(tmp_path / "corpus", lists_dir=lists, log=lambda m: None)
    pairs = {(p.source, p.target) for p in read_tsv(out["en-de"])}
    assert ("tool to frobnicate files", "Werkzeug zum Frobnizieren von Dateien") in pairs  # synopsis
    assert ("Foo frobnicates files quickly.", "Foo frobniziert Dateien schnell.") in pairs  # sentence
    assert ("It supports many formats.", "Es unterstützt viele Formate.") in pairs
    assert ("This package contains the command line tool.", "Dieses Paket enthält das Befehlszeilenwerkzeug.") in pairs
    assert ("library for bars", "Bibliothek für Bars") in pairs
    assert not any("Features" in s for s, _ in pairs)  # paragraph counts differ: synopsis only
    assert all("Nobody" not in s for s, _ in pairs)
    groups = {p.group for p in read_tsv(out["en-de"]) if "rob" in p.source}
    assert len(groups) == 1  # one description = one group
    summ = read_tsv(out["summarize-en"])
    assert [p.target for p in summ] == ["untranslated package"]
    assert read_tsv(out["mono-en"])
    assert split_sentences("Use e.g. foo. Then bar! Done") == ["Use e.g. foo.", "Then bar!", "Done"]


def test_ddtp_missing_files(tmp_path):
    from s2s_desktop.training.ddtp import build_ddtp_corpus

    with pytest.raises(CorpusError, match="No Translation-en files.*apt-get"):
        build_ddtp_corpus(tmp_path / "c", lists_dir=tmp_path, log=lambda m: None)


def test_noise():
    import random

    from s2s_desktop.training.noise import mask_spans, shuffle_sentences

    rng = random.Random(0)
    ids = list(range(10, 60)) + [0]
    out = mask_spans(ids, 5, rng, ratio=0.3)
    assert out[-1] == 0 and 5 in out and len(out) < len(ids)
    kept = [t for t in out if t != 5]
    assert len(kept) == 50 - 15 + 1 and kept[:-1] == sorted(kept[:-1])
    text = "One is here. Two is there. Three is everywhere."
    assert sorted(shuffle_sentences(text, rng).split(". ")) != []
    assert set(shuffle_sentences(text, rng).replace(".", "").split()) == set(text.replace(".", "").split())


def test_rouge_l_matches_reference_implementation():
    from s2s_desktop.training.metrics import rouge_l, rouge_l_f

    hyp, ref = "the cat sat on the mat", "The cat is on the mat!"
    assert abs(rouge_l_f(hyp, ref) - (2 * (5 / 6) * (5 / 6) / (10 / 6))) < 1e-9
    assert rouge_l([hyp], [ref]) == round(100 * rouge_l_f(hyp, ref), 2)


# ----------------------------------------------------------------- training + export


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A micro model trained for a few steps, interrupted by Ctrl-C, then resumed."""
    from s2s_desktop.training import model
    from s2s_desktop.training.trainer import Interrupted, Progress, TrainConfig, Trainer

    model.PRESETS["micro"] = dict(d_model=32, encoder_layers=1, decoder_layers=1, heads=2, ffn=64)
    root = tmp_path_factory.mktemp("train")
    corpus = root / "corpus.tsv"
    write_tsv([Pair(s, t) for s, t in PAIRS * 2] + [Pair(s + " Yes.", t + " Ja.") for s, t in PAIRS], corpus)
    cfg = dict(run_dir=str(root / "run"), train=str(corpus), source_lang="en", target_lang="de", preset="micro",
               vocab_size=120, dev_size=6, test_size=6, max_tokens=400, warmup=2, lr=3e-3, eval_every=4,
               dev_eval_size=6, precision="fp32")

    class CtrlC(Progress):
        def update(self, text, force=False):
            if trainer.state["step"] == 3:
                raise KeyboardInterrupt

    logs: list[str] = []
    trainer = Trainer(TrainConfig(**cfg, max_steps=100), log=logs.append, progress=CtrlC(), command="first")
    with pytest.raises(Interrupted, match="checkpoint saved"):
        trainer.train()
    state = json.loads((root / "run" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 3
    resumed = Trainer(TrainConfig(**cfg, max_steps=8), log=logs.append, progress=Progress(interval=999),
                      command="second")
    summary = resumed.train()
    assert any("Resuming" in line for line in logs)
    return root / "run", summary


def test_train_resume_and_best_checkpoint(trained_run):
    run, summary = trained_run
    assert summary["steps"] == 8 and summary["stop_reason"] == "reached 8 steps"
    info = json.loads((run / "run.json").read_text())
    assert info["commands"] == ["first", "second"]
    assert (run / "best" / "config.json").is_file() and (run / "best" / "source.spm").is_file()
    for name in ("train", "dev", "test"):
        assert read_tsv(run / "data" / f"{name}.tsv")
    from safetensors.torch import load_file

    weights = load_file(str(run / "best" / "model.safetensors"))
    pad = json.loads((run / "vocab" / "vocab.json").read_text())["<pad>"]
    emb = next(v for k, v in weights.items() if k.endswith("shared.weight") or "embed_tokens" in k)
    assert float(emb[pad].abs().sum()) == 0.0  # CTranslate2 decodes from a zero <pad>
    history = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [h["step"] for h in history] == [4, 8]


def test_export_writes_model_manifest_and_card(trained_run, tmp_path):
    from s2s_desktop.core.manifest import ModelManifest
    from s2s_desktop.training.export import export_model

    run, _ = trained_run
    out = tmp_path / "models" / "micro-en-de"
    result = export_model(run, out, model_id="micro-en-de", name="Micro en→de", log=lambda m: None,
                          export_command="s2s train export ...")
    assert {"model.bin", "config.json", "s2s-model.json", "MODEL_CARD.md", "source.spm"} <= {p.name for p in out.iterdir()}
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no staging left behind
    m = ModelManifest.load(out)
    assert (m.id, m.task, m.source, m.target, m.quantization, m.license) == ("micro-en-de", "translate", "en", "de", "int8", "MIT")
    assert "MODEL_CARD.md" in m.files and m.max_input_tokens < 512
    card = (out / "MODEL_CARD.md").read_text()
    assert "s2s train run --run-dir" in card and "chrF" in card and "transformers fp32" in card
    assert result["results"]["int8"]["chrf"] >= 0 and result["results"]["fp32"] is not None
    import ctranslate2

    ctranslate2.Translator(str(out), device="cpu", intra_threads=1)  # loadable
    with pytest.raises(Exception, match="already exists"):
        export_model(run, out, model_id="micro-en-de", log=lambda m: None)


def test_evaluate_cli(trained_run, tmp_path, capsys):
    from s2s_desktop.training.cli import main
    from s2s_desktop.training.export import export_model

    run, _ = trained_run
    out = tmp_path / "m"
    export_model(run, out, model_id="micro", compare_fp32=False, log=lambda m: None)
    rc = main(["evaluate", "--model", str(out), "--test", str(run / "data" / "test.tsv"), "--threads", "1", "--json"])
    assert rc == 0
    scores = json.loads(capsys.readouterr().out)
    assert {"bleu", "chrf", "tokens_per_s"} <= set(scores) and scores["pairs"] > 0


def test_summarizer_dae_then_finetune_and_evaluate(tmp_path, capsys):
    """DAE pre-training on monolingual text, fine-tuning with --init, export, ROUGE-L."""
    from s2s_desktop.training import model
    from s2s_desktop.training.cli import main
    from s2s_desktop.training.export import export_model
    from s2s_desktop.training.trainer import Progress, TrainConfig, Trainer

    model.PRESETS["micro"] = dict(d_model=32, encoder_layers=1, decoder_layers=1, heads=2, ffn=64)
    docs = [f"{s} {t} {s}" for s, t in PAIRS]
    mono = tmp_path / "mono.tsv"
    write_tsv([Pair(d, d, f"g{i}") for i, d in enumerate(docs)], mono, with_group=True)
    summ = tmp_path / "summ.tsv"
    write_tsv([Pair(d, s, f"g{i}") for i, (d, (s, _)) in enumerate(zip(docs, PAIRS))], summ, with_group=True)
    common = dict(preset="micro", vocab_size=150, max_tokens=600, warmup=2, lr=3e-3, dev_eval_size=4,
                  precision="fp32", source_lang="en")
    quiet = dict(log=lambda m: None, progress=Progress(interval=999))
    pre = Trainer(TrainConfig(run_dir=str(tmp_path / "pre"), train=str(mono), objective="dae", task="summarize",
                              dev_size=4, test_size=0, max_steps=3, **common), **quiet)
    assert pre.train()["metric"] == "chrf"
    assert "<mask>" in json.loads((tmp_path / "pre" / "vocab" / "vocab.json").read_text())
    ft = Trainer(TrainConfig(run_dir=str(tmp_path / "ft"), train=str(summ), task="summarize", init=str(tmp_path / "pre" / "best"),
                             dev_size=4, test_size=4, max_steps=3, max_src_len=64, max_tgt_len=16, **common), **quiet)
    summary = ft.train()
    assert summary["metric"] == "rougeL" and summary["steps"] == 3
    out = tmp_path / "sum-model"
    result = export_model(tmp_path / "ft", out, model_id="micro-sum", compare_fp32=True, log=lambda m: None)
    assert result["results"]["int8"]["rougeL"] >= 0
    card = (out / "MODEL_CARD.md").read_text()
    assert "ROUGE-L" in card and "--init" in card
    from s2s_desktop.core.manifest import ModelManifest

    m = ModelManifest.load(out)
    assert m.task == "summarize" and m.decoding.no_repeat_ngram_size == 3 and m.max_input_tokens == 64
    assert main(["evaluate", "--model", str(out), "--test", str(tmp_path / "ft" / "data" / "test.tsv"), "--threads", "1"]) == 0
    assert "ROUGE-L" in capsys.readouterr().out
