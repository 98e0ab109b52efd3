import numpy as np
import pytest

from s2s_desktop.core.alignment import merge_subwords, pharaoh, word_ids
from s2s_desktop.core.engine import Engine, TranslationOptions


@pytest.fixture(scope="module")
def spm_tok(tiny_models):
    return Engine(tiny_models["tiny-en-de"], intra_threads=1).tokenizer


@pytest.fixture(scope="module")
def bpe_tok(tiny_models):
    return Engine(tiny_models["tiny-bart-sum"], intra_threads=1).tokenizer


def test_word_ids_sentencepiece_skip_specials(spm_tok):
    tokens = [">>deu<<", "\u2581Hel", "lo", "\u2581wor", "ld", ",", "\u2581you", "</s>"]
    assert word_ids(tokens, spm_tok) == [-1, 0, 0, 1, 1, 1, 2, -1]


def test_word_ids_byte_bpe(bpe_tok):
    tokens = ["<s>", "Fr", "ee", "\u0120soft", "ware", ".", "</s>"]
    assert word_ids(tokens, bpe_tok) == [-1, 0, 0, 1, 1, 1, -1]


def test_merge_sums_source_pieces_and_averages_target_pieces(spm_tok):
    src = ["\u2581Hel", "lo", "\u2581world", "</s>"]
    tgt = ["\u2581Hal", "lo", "\u2581Welt"]
    att = np.array([
        [0.5, 0.3, 0.1, 0.1],
        [0.1, 0.7, 0.1, 0.1],
        [0.0, 0.1, 0.8, 0.1],
    ])
    words = merge_subwords(src, tgt, att, spm_tok)
    assert words.source_words == ["Hello", "world"]
    assert words.target_words == ["Hallo", "Welt"]
    # row "Hallo": mean of (0.8, 0.1) and (0.8, 0.1) → renormalized without </s>
    np.testing.assert_allclose(words.matrix[0], [0.8 / 0.9, 0.1 / 0.9], rtol=1e-5)
    np.testing.assert_allclose(words.matrix[1], [0.1 / 0.9, 0.8 / 0.9], rtol=1e-5)
    np.testing.assert_allclose(words.matrix.sum(axis=1), 1.0, rtol=1e-5)
    assert words.hard("argmax") == [(0, 0), (1, 1)]
    assert words.hard("threshold", 0.05) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert pharaoh(words.hard(), 3, 10) == "3-10 4-11"


def test_real_translation_word_matrix_matches_whitespace_words(tiny_models):
    engine = Engine(tiny_models["tiny-en-de"], intra_threads=1)
    (r,) = engine.translate_sentences(["This package contains the documentation."], TranslationOptions(beam_size=1))
    words = merge_subwords(r.source_tokens, r.target_tokens, r.attention, engine.tokenizer)
    assert words.source_words == r.source.split()
    assert words.target_words == r.target.split()
    assert words.matrix.shape == (len(r.target.split()), len(r.source.split()))
    for s, t in words.hard():
        assert 0 <= s < len(words.source_words) and 0 <= t < len(words.target_words)
