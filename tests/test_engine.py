import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from s2s_desktop.core.device import choose_device
from s2s_desktop.core.engine import Engine, SummaryOptions, TranslationOptions
from s2s_desktop.core.errors import Cancelled, DeviceError, ModelError, S2SError
from s2s_desktop.core.jobs import CancelToken
from tests.factory import PAIRS, SUMMARY_TEXT

GREEDY = TranslationOptions(beam_size=1, use_cache=False)


def test_marian_translates_its_training_sentences(en_de):
    sources = [en for en, _ in PAIRS]
    for options in (GREEDY, TranslationOptions(beam_size=4, use_cache=False)):
        results = sorted(en_de.translate_sentences(sources, options), key=lambda r: r.index)
        assert [r.target for r in results] == [de for _, de in PAIRS]


def test_result_tokens_and_attention_shapes(en_de):
    (result,) = en_de.translate_sentences(["The children play in the garden."], GREEDY)
    assert result.source_tokens[-1] == "</s>"
    assert "".join(result.source_tokens[:-1]).replace("\u2581", " ").strip() == result.source
    assert en_de.tokenizer.decode(result.target_tokens) == result.target == "Die Kinder spielen im Garten."
    assert result.attention.shape == (len(result.target_tokens), len(result.source_tokens))
    np.testing.assert_allclose(result.attention.sum(axis=1), 1.0, atol=1e-4)
    assert result.score is None  # greedy: no log-probabilities unless asked for
    (scored,) = en_de.translate_sentences(["The children play in the garden."], replace(GREEDY, return_scores=True))
    assert scored.target == result.target and scored.score is not None and scored.score <= 0
    (beam,) = en_de.translate_sentences(["The children play in the garden."], TranslationOptions(beam_size=4))
    assert beam.score is not None and beam.score <= 0


@pytest.mark.parametrize("model_id", ["tiny-t5-sum", "tiny-bart-sum"])
def test_other_tokenizer_kinds_give_consistent_results(tiny_models, model_id):
    engine = Engine(tiny_models[model_id], intra_threads=1)
    sentences = ["Free software gives users freedom.", "The weather was good."]
    results = sorted(engine.translate_sentences(sentences, GREEDY), key=lambda r: r.index)
    assert [r.source for r in results] == sentences
    for r in results:
        assert r.attention.shape == (len(r.target_tokens), len(r.source_tokens))
        assert r.source_tokens[-1] == "</s>"
        assert engine.tokenizer.decode(r.target_tokens) == r.target
    if model_id == "tiny-bart-sum":
        assert results[0].source_tokens[0] == "<s>"
        assert engine.tokenizer.decode(results[0].source_tokens[1:-1]) == sentences[0]
    else:
        # T5 sees the "summarize: " task prefix
        assert engine.tokenizer.decode(results[0].source_tokens).startswith("summarize")


def test_token_streaming_order_and_final_text(en_de):
    events = []
    results = list(en_de.translate_sentences(["The dog is old.", "We need a new computer."], GREEDY, on_token=events.append))
    for r in results:
        mine = [e for e in events if e.index == r.index]
        assert [e.token for e in mine] == r.target_tokens
        assert mine[-1].text == r.target
        # partial texts grow token by token
        assert all(len(a.text) <= len(b.text) for a, b in zip(mine, mine[1:]))


def test_results_stream_per_batch(en_de):
    sources = [en for en, _ in PAIRS]
    events = []
    stream = en_de.translate_sentences(sources, TranslationOptions(beam_size=1, use_cache=False, max_batch_tokens=40), on_token=events.append)
    first = next(stream)
    seen_at_first = {e.index for e in events}
    rest = list(stream)
    assert first.target
    assert len(rest) == len(sources) - 1
    # the first result arrived before most sentences had been decoded
    assert len(seen_at_first) < len(sources) / 2


def test_cancel_from_token_callback_then_engine_still_works(en_de):
    cancel = CancelToken()
    tokens = []

    def on_token(event):
        tokens.append(event)
        cancel.cancel()

    with pytest.raises(Cancelled):
        list(en_de.translate_sentences([en for en, _ in PAIRS], GREEDY, cancel=cancel, on_token=on_token))
    # every sentence of the running batch stops at its next step, not at its end
    from collections import Counter

    assert max(Counter(e.index for e in tokens).values()) == 1
    (again,) = en_de.translate_sentences(["Good morning."], GREEDY)
    assert again.target == "Guten Morgen."


def test_cancel_between_batches_in_beam_search(en_de):
    cancel = CancelToken()
    stream = en_de.translate_sentences([en for en, _ in PAIRS], TranslationOptions(beam_size=4, use_cache=False, max_batch_tokens=40), cancel=cancel)
    next(stream)
    cancel.cancel()
    with pytest.raises(Cancelled):
        list(stream)


def test_cache_only_retranslates_changed_sentences(tiny_models):
    engine = Engine(tiny_models["tiny-en-de"], intra_threads=1)
    text = "The house is small. The dog is old.\nThe cat sleeps."
    first = engine.translate_text(text)
    assert first.text == "Das Haus ist klein. Der Hund ist alt.\nDie Katze schläft."
    assert not any(r.cached for r in first.results.values())
    edited = engine.translate_text(text.replace("The dog is old.", "The dog is small."))
    cached = {r.source: r.cached for r in edited.results.values()}
    assert cached == {"The house is small.": True, "The dog is small.": False, "The cat sleeps.": True}
    assert edited.text == "Das Haus ist klein. Der Hund ist klein.\nDie Katze schläft."
    # different decoding options never reuse results of other options
    other = engine.translate_text(text, TranslationOptions(beam_size=1))
    assert not any(r.cached for r in other.results.values())


def test_translate_text_keeps_layout(en_de):
    text = "- The house is small.\n\n    The dog is old. Good night.\n1. Thank you very much.\n\n2024\n"
    assert en_de.translate_text(text).text == (
        "- Das Haus ist klein.\n\n    Der Hund ist alt. Gute Nacht.\n1. Vielen Dank.\n\n2024\n"
    )


def _with_manifest(src, dst, **changes):
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("hf"))
    data = json.loads((dst / "s2s-model.json").read_text())
    data.update(changes)
    (dst / "s2s-model.json").write_text(json.dumps(data))
    return dst


def test_too_long_sentence_is_split_not_truncated(tiny_models, tmp_path):
    model = _with_manifest(tiny_models["tiny-en-de"], tmp_path / "short", max_input_tokens=24)
    engine = Engine(model, intra_threads=1)
    sentence = ("The house is small and the dog is old and the cat is black and the weather is good today "
                "and the computer is fast and the water is cold.")
    (result,) = engine.translate_sentences([sentence], GREEDY)
    assert result.pieces > 1
    assert result.attention.shape == (len(result.target_tokens), len(result.source_tokens))
    assert result.source_tokens.count("</s>") == result.pieces
    assert len(result.source_tokens) > 24
    # nothing was truncated: every source word reached the model
    source_text = engine.tokenizer.decode([t for t in result.source_tokens if t != "</s>"])
    assert source_text.split() == sentence.split()
    assert result.target and result.target.count(".") >= 1


def test_summarize_short_text_in_one_round(tiny_models):
    engine = Engine(tiny_models["tiny-bart-sum"], intra_threads=1)
    result = engine.summarize("Free software gives users freedom. The weather was good.", SummaryOptions(beam_size=2))
    assert result.rounds == 1 and result.chunks == 1
    assert isinstance(result.text, str)


@pytest.mark.parametrize("model_id", ["tiny-t5-sum", "tiny-bart-sum"])
def test_summarize_long_document_map_reduce(tiny_models, model_id):
    engine = Engine(tiny_models[model_id], intra_threads=1)
    document = (SUMMARY_TEXT * 12).strip()
    progress = []
    result = engine.summarize(document, SummaryOptions(beam_size=1, max_output_tokens=4, max_rounds=6), on_progress=progress.append)
    assert result.chunks > 3
    assert result.rounds >= 2
    assert result.input_tokens > engine.input_limit * 3
    first_round = [p for p in progress if p.round == 1]
    assert first_round[0].done == 0 and first_round[-1].done == first_round[-1].total == result.chunks
    assert result.warnings == []
    last_round = [p for p in progress if p.round == result.rounds]
    assert last_round[-1].total == 1  # the final round summarizes one chunk


def test_summarize_cancel_and_empty_input(tiny_models):
    engine = Engine(tiny_models["tiny-t5-sum"], intra_threads=1)
    cancel = CancelToken()

    def on_progress(p):
        if p.done >= 1:
            cancel.cancel()

    with pytest.raises(Cancelled):
        engine.summarize(SUMMARY_TEXT * 12, SummaryOptions(beam_size=1), cancel=cancel, on_progress=on_progress)
    with pytest.raises(S2SError, match="no text"):
        engine.summarize("   \n\n  ")


def test_device_selection_and_overrides(en_de):
    auto = choose_device()
    assert (auto.device, auto.compute_type) == ("cpu", "int8")
    assert auto.intra_threads >= 1
    assert choose_device("cpu", "float32", intra_threads=1).compute_type == "float32"
    with pytest.raises(DeviceError, match="No CUDA"):
        choose_device("cuda")
    with pytest.raises(DeviceError, match="not supported"):
        choose_device("cpu", "int8_float16")
    with pytest.raises(DeviceError, match="Unknown device"):
        choose_device("tpu")
    assert (en_de.info.device, en_de.info.compute_type, en_de.info.intra_threads) == ("cpu", "int8", 1)
    assert "int8" in en_de.info.describe()


def test_float32_override_gives_same_translation(tiny_models):
    engine = Engine(tiny_models["tiny-en-de"], compute_type="float32", intra_threads=1)
    assert engine.info.compute_type == "float32"
    (r,) = engine.translate_sentences(["I need help."], GREEDY)
    assert r.target == "Ich brauche Hilfe."


def test_broken_models_raise_model_error(tiny_models, tmp_path):
    with pytest.raises(ModelError, match="s2s-model.json is missing"):
        Engine(tmp_path)
    broken = _with_manifest(tiny_models["tiny-en-de"], tmp_path / "broken")
    (broken / "model.bin").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="Cannot load model"):
        Engine(broken)
    no_tok = _with_manifest(tiny_models["tiny-en-de"], tmp_path / "notok")
    (no_tok / "source.spm").unlink()
    with pytest.raises(ModelError, match="missing tokenizer"):
        Engine(no_tok)
    bad = _with_manifest(tiny_models["tiny-en-de"], tmp_path / "bad", task="dance")
    with pytest.raises(ModelError, match="unknown task"):
        Engine(bad)


def test_manifest_special_tokens_reach_the_model_and_are_stripped(tiny_models, tmp_path):
    """OPUS-MT multi-target ">>deu<<" source tokens and NLLB/M2M100-style forced target prefixes."""
    model = _with_manifest(tiny_models["tiny-en-de"], tmp_path / "prefixed", source_prefix=[">>deu<<"], target_prefix=["\u2581Das"])
    engine = Engine(model, intra_threads=1)
    (r,) = engine.translate_sentences(["The house is small."], GREEDY)
    assert r.source_tokens[0] == ">>deu<<" and r.source_tokens[-1] == "</s>"
    assert r.attention.shape == (len(r.target_tokens), len(r.source_tokens))
    # the forced first token is not part of the output
    assert r.target_tokens[0] != "\u2581Das"
    assert not r.target.startswith("Das ")
    events = []
    list(engine.translate_sentences(["The house is small."], TranslationOptions(beam_size=1, use_cache=False), on_token=events.append))
    assert events and events[-1].text == r.target
