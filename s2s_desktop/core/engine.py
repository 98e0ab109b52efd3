"""The inference engine: one class wrapping a CTranslate2 ``Translator``.

Options and results are small dataclasses; translation results stream as a generator
(sentence by sentence as each batch finishes, token by token through ``on_token`` in
greedy mode); every job takes a ``CancelToken``. Summarization of long documents is
map-reduce over sentence-aligned chunks.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from s2s_desktop.core.device import DeviceChoice, choose_device
from s2s_desktop.core.errors import Cancelled, ModelError, S2SError
from s2s_desktop.core.jobs import CancelToken, check
from s2s_desktop.core.manifest import ModelManifest
from s2s_desktop.core.text import Segment, reassemble, segment_text, split_long, split_sentences, unwrap
from s2s_desktop.core.tokenizer import Tokenizer, load_tokenizer


@dataclass(frozen=True)
class TranslationOptions:
    """Decoding options; None means "the model's default" (from its manifest)."""

    beam_size: int | None = None
    max_output_tokens: int | None = None
    length_penalty: float | None = None
    no_repeat_ngram_size: int | None = None
    repetition_penalty: float | None = None
    min_output_tokens: int = 0  # benchmarks fix the output length with min = max
    return_attention: bool = True
    # Greedy decoding needs no log-probabilities; asking CTranslate2 for them costs a
    # softmax over the vocabulary at every step (~4 % of greedy throughput with a 58k
    # vocabulary, measured). Beam search computes them anyway: scores are always kept there.
    return_scores: bool = False
    max_batch_tokens: int = 2048
    use_cache: bool = True


@dataclass
class SentenceResult:
    index: int  # position in the list of sentences passed in
    source: str
    target: str
    source_tokens: list[str]  # exactly the tokens the model saw (prefix/suffix included)
    target_tokens: list[str]  # generated tokens (forced target prefix removed)
    attention: np.ndarray | None  # (len(target_tokens), len(source_tokens)), rows sum to 1
    score: float | None  # length-normalized log-probability (beam search, or return_scores)
    pieces: int = 1  # > 1 when a too-long sentence was split to fit the model
    cached: bool = False


class TokenEvent:
    """A streamed token: ``text`` is the detokenized output of that sentence so far.

    ``text`` is decoded when first read, not when the token arrives: a consumer that
    keeps only each sentence's latest event and looks at it a few times a second (the
    GUI) pays one decode per look instead of one per token, on CTranslate2's thread."""

    __slots__ = ("index", "token", "_tokens", "_count", "_decode", "_text")

    def __init__(self, index: int, token: str, tokens: list[str], count: int, decode: Callable[[list[str]], str]):
        self.index = index
        self.token = token
        self._tokens = tokens  # the sentence's growing token list: only appended to
        self._count = count
        self._decode = decode
        self._text: str | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self._decode(self._tokens[: self._count])
        return self._text

    def __repr__(self) -> str:
        return f"TokenEvent(index={self.index}, token={self.token!r}, count={self._count})"


@dataclass(frozen=True)
class SummaryOptions:
    beam_size: int | None = None
    max_output_tokens: int | None = None
    min_output_tokens: int | None = None
    length_penalty: float | None = None
    no_repeat_ngram_size: int | None = 3
    repetition_penalty: float | None = None
    max_rounds: int = 4


@dataclass(frozen=True)
class SummaryProgress:
    round: int
    done: int
    total: int


@dataclass
class SummaryResult:
    text: str
    rounds: int
    chunks: int  # chunks in the first round
    input_tokens: int
    output_tokens: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


class TextTranslation:
    """A text split into sentences, filled in as results arrive; ``text`` reassembles it
    with the original layout (untranslated sentences show their source meanwhile)."""

    def __init__(self, text: str, segments: list[Segment]):
        self.source = text
        self.segments = segments
        self.segment_of = [i for i, seg in enumerate(segments) if seg.translatable]
        self.sentences = [segments[i].text for i in self.segment_of]
        self.results: dict[int, SentenceResult] = {}

    def add(self, result: SentenceResult) -> None:
        self.results[result.index] = result

    @property
    def done(self) -> bool:
        return len(self.results) == len(self.sentences)

    @property
    def text(self) -> str:
        return reassemble(self.segments, {self.segment_of[i]: r.target for i, r in self.results.items()})


class _LRU:
    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


@dataclass
class _Unit:
    """One model input: a sentence, or a piece of a sentence too long for the model."""

    sentence: int
    piece: int
    text: str
    tokens: list[str]


class _StepRelay:
    """The per-token callback handed to CTranslate2.

    CTranslate2 may drop its copy of the callback later, from one of its own worker
    threads. If that copy held the last reference to an Engine, the translator would be
    destroyed inside its own thread pool ("Resource deadlock avoided" abort). ``close()``
    empties the relay once the call returns, so the copy references nothing."""

    __slots__ = ("on_step", "cancel")

    def __init__(self, on_step, cancel):
        self.on_step = on_step
        self.cancel = cancel

    def __call__(self, step) -> bool:
        if self.on_step is not None:
            self.on_step(step)
        return bool(self.cancel is not None and self.cancel.cancelled)

    def close(self) -> None:
        self.on_step = self.cancel = None


class Engine:
    def __init__(
        self,
        model_dir: str | Path,
        device: str = "auto",
        compute_type: str = "auto",
        intra_threads: int = 0,
        inter_threads: int = 1,
        cache_size: int = 4096,
    ):
        import ctranslate2

        self.model_dir = Path(model_dir)
        self.manifest = ModelManifest.load(self.model_dir)
        self.tokenizer: Tokenizer = load_tokenizer(self.model_dir, self.manifest)
        choice = choose_device(device, compute_type, intra_threads)
        self.info = replace(choice, inter_threads=inter_threads)
        try:
            self._translator = ctranslate2.Translator(
                str(self.model_dir),
                device=choice.device,
                compute_type=choice.compute_type,
                intra_threads=choice.intra_threads,
                inter_threads=inter_threads,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"Cannot load model {self.manifest.id!r} from {self.model_dir}: {exc}") from None
        self._cache = _LRU(cache_size)
        self._cache_prefix = (str(self.model_dir.resolve()), choice.device, choice.compute_type)
        self._text_prefix_tokens = len(self.tokenizer.encode(self.manifest.source_text_prefix)) if self.manifest.source_text_prefix else 0
        self.last_stats: dict[str, float] = {}

    # ----------------------------------------------------------------- helpers
    @property
    def input_limit(self) -> int:
        """Subword tokens of text that fit in one model input."""
        m = self.manifest
        return max(8, m.max_input_tokens - len(m.source_prefix) - len(m.source_suffix) - self._text_prefix_tokens)

    def encode(self, text: str) -> list[str]:
        m = self.manifest
        return m.source_prefix + self.tokenizer.encode(m.source_text_prefix + text) + m.source_suffix

    def _units(self, index: int, sentence: str) -> list[_Unit]:
        sentence = unwrap(sentence)  # a sentence from a hard-wrapped paragraph reads as one line
        pieces = [sentence]
        if self.tokenizer.count(sentence) > self.input_limit:
            pieces = split_long(sentence, self.tokenizer.count, self.input_limit)
        return [_Unit(index, i, p, self.encode(p)) for i, p in enumerate(pieces)]

    def _decode_kwargs(self, options: TranslationOptions, max_tokens: int, attention: bool) -> dict:
        d = self.manifest.decoding
        pick = lambda value, default: default if value is None else value  # noqa: E731
        beam = max(1, pick(options.beam_size, d.beam_size))
        return dict(
            beam_size=beam,
            length_penalty=pick(options.length_penalty, d.length_penalty),
            no_repeat_ngram_size=pick(options.no_repeat_ngram_size, d.no_repeat_ngram_size),
            repetition_penalty=pick(options.repetition_penalty, d.repetition_penalty),
            max_decoding_length=max_tokens,
            return_attention=attention,
            return_scores=options.return_scores or beam > 1,
            max_input_length=0,  # inputs are split to fit beforehand, never truncated
        )

    @staticmethod
    def _batches(units: list[_Unit], max_tokens: int) -> list[list[_Unit]]:
        """Length-sorted batches whose padded size stays under max_tokens.

        Packed from the longest sentences down, so the leftover small batch holds the
        shortest sentences (cheap) rather than the longest; run shortest first so the
        first results arrive quickly."""
        ordered = sorted(units, key=lambda u: len(u.tokens), reverse=True)
        batches: list[list[_Unit]] = []
        batch: list[_Unit] = []
        for unit in ordered:
            if batch and len(batch[0].tokens) * (len(batch) + 1) > max_tokens:
                batches.append(batch[::-1])
                batch = []
            batch.append(unit)
        if batch:
            batches.append(batch[::-1])
        return batches[::-1]

    def _run_batch(self, batch: list[_Unit], kwargs: dict, cancel, on_step=None):
        """translate_batch with the forced target prefix; returns CT2 results."""
        prefix = self.manifest.target_prefix
        relay = None
        if kwargs["beam_size"] == 1 and (on_step is not None or cancel is not None):
            relay = _StepRelay(on_step, cancel)
        try:
            return self._translator.translate_batch(
                [u.tokens for u in batch],
                target_prefix=[list(prefix) for _ in batch] if prefix else None,
                callback=relay,
                **kwargs,
            )
        except RuntimeError as exc:
            raise S2SError(f"The model failed: {exc}") from None
        finally:
            if relay is not None:
                relay.close()

    def _strip_prefix(self, hyp: list[str], attention) -> tuple[list[str], list]:
        n = len(self.manifest.target_prefix)
        if n and hyp[:n] == self.manifest.target_prefix:
            return hyp[n:], (attention[n:] if attention else attention)
        return hyp, attention

    # ------------------------------------------------------------- translation
    def start_text(self, text: str) -> TextTranslation:
        """Split text into sentences (layout kept) ready for translate_sentences."""
        return TextTranslation(text, segment_text(text, self.manifest.source))

    def translate_text(self, text: str, options: TranslationOptions | None = None, cancel: CancelToken | None = None) -> TextTranslation:
        job = self.start_text(text)
        for result in self.translate_sentences(job.sentences, options, cancel):
            job.add(result)
        return job

    def translate_sentences(
        self,
        sentences: Sequence[str],
        options: TranslationOptions | None = None,
        cancel: CancelToken | None = None,
        on_token: Callable[[TokenEvent], None] | None = None,
    ) -> Iterator[SentenceResult]:
        """Yield one SentenceResult per sentence: cached ones first, then as each
        length-sorted batch finishes. Token events stream in greedy mode."""
        options = options or TranslationOptions()
        key_opts = (options.beam_size, options.max_output_tokens, options.length_penalty, options.no_repeat_ngram_size,
                    options.repetition_penalty, options.min_output_tokens, options.return_attention, options.return_scores)
        started = time.perf_counter()
        produced = 0
        pending: dict[int, list[_Unit]] = {}
        for index, sentence in enumerate(sentences):
            cached = self._cache.get((*self._cache_prefix, key_opts, sentence)) if options.use_cache else None
            if cached is not None:
                yield replace(cached, index=index, cached=True)
            else:
                pending[index] = self._units(index, sentence)
        check(cancel)
        done: dict[int, dict[int, tuple]] = {}
        units = [u for us in pending.values() for u in us]
        limit_out = options.max_output_tokens or self.manifest.max_output_tokens
        for batch in self._batches(units, options.max_batch_tokens):
            check(cancel)
            longest = max(len(u.tokens) for u in batch)
            max_tokens = min(limit_out, self.manifest.max_output_tokens, 2 * longest + 10)
            kwargs = self._decode_kwargs(options, max_tokens + len(self.manifest.target_prefix), options.return_attention)
            if options.min_output_tokens:
                kwargs["min_decoding_length"] = min(options.min_output_tokens, max_tokens) + len(self.manifest.target_prefix)
            on_step = self._token_streamer(batch, on_token) if on_token else None
            results = self._run_batch(batch, kwargs, cancel, on_step)
            check(cancel)
            for unit, res in zip(batch, results):
                hyp, att = self._strip_prefix(list(res.hypotheses[0]), res.attention[0] if res.attention else None)
                score = res.scores[0] if res.scores else None
                done.setdefault(unit.sentence, {})[unit.piece] = (unit, hyp, att, score)
                if len(done[unit.sentence]) == len(pending[unit.sentence]):
                    result = self._merge(unit.sentence, sentences[unit.sentence], done.pop(unit.sentence))
                    produced += len(result.target_tokens)
                    if options.use_cache:
                        self._cache.put((*self._cache_prefix, key_opts, result.source), result)
                    yield result
        elapsed = time.perf_counter() - started
        self.last_stats = {"tokens": produced, "seconds": elapsed, "tokens_per_second": produced / elapsed if elapsed > 0 else 0.0}

    def _token_streamer(self, batch: list[_Unit], on_token):
        """The per-token step handler: runs once per token of every sentence in the
        batch, on CTranslate2's thread, so it does as little as it can."""
        specials = self.tokenizer.special_tokens | set(self.manifest.target_prefix)
        decode = self.tokenizer.decode  # not self: see _StepRelay
        sentence_of = [u.sentence for u in batch]
        acc: list[list[str]] = [[] for _ in batch]

        def on_step(step):
            token = step.token
            if token in specials:
                return
            i = step.batch_id
            tokens = acc[i]
            tokens.append(token)
            on_token(TokenEvent(sentence_of[i], token, tokens, len(tokens), decode))

        return on_step

    def _merge(self, index: int, sentence: str, parts: dict[int, tuple]) -> SentenceResult:
        """Join the pieces of a sentence; attention becomes block-diagonal."""
        ordered = [parts[i] for i in sorted(parts)]
        src_tokens: list[str] = []
        tgt_tokens: list[str] = []
        texts, scores, blocks = [], [], []
        for unit, hyp, att, score in ordered:
            src_tokens += unit.tokens
            tgt_tokens += hyp
            texts.append(self.tokenizer.decode(hyp))
            if score is not None:
                scores.append((score, max(1, len(hyp))))
            blocks.append((att, len(hyp), len(unit.tokens)))
        attention = None
        if all(a is not None for a, _, _ in blocks):
            attention = np.zeros((len(tgt_tokens), len(src_tokens)), dtype=np.float32)
            r = c = 0
            for att, rows, cols in blocks:
                if rows:
                    block = np.asarray(att, dtype=np.float32)[:rows, :cols]
                    attention[r : r + block.shape[0], c : c + block.shape[1]] = block
                r, c = r + rows, c + cols
            sums = attention.sum(axis=1, keepdims=True)
            attention = np.divide(attention, sums, out=np.zeros_like(attention), where=sums > 0)
        score = sum(s for s, _ in scores) / len(scores) if scores else None
        return SentenceResult(index, sentence, " ".join(t for t in texts if t), src_tokens, tgt_tokens, attention, score, pieces=len(ordered))

    # ----------------------------------------------------------- summarization
    def summarize(
        self,
        text: str,
        options: SummaryOptions | None = None,
        cancel: CancelToken | None = None,
        on_progress: Callable[[SummaryProgress], None] | None = None,
    ) -> SummaryResult:
        """Map-reduce: chunk at sentence boundaries under the input limit, summarize the
        chunks, and summarize the joined summaries again until one input holds them."""
        options = options or SummaryOptions()
        started = time.perf_counter()
        sentences = split_sentences(text, self.manifest.source)
        if not sentences:
            raise S2SError("There is no text to summarize")
        limit = self.input_limit
        final_max = options.max_output_tokens or self.manifest.max_output_tokens
        input_tokens = sum(self.tokenizer.count(s) for s in sentences)
        warnings: list[str] = []
        first_chunks = 0
        produced = 0
        for round_no in range(1, options.max_rounds + 1):
            chunks = self._chunk(sentences, limit)
            first_chunks = first_chunks or len(chunks)
            last = len(chunks) == 1
            # intermediate summaries must shrink the text so that the rounds converge
            max_tokens = final_max if last else max(8, min(final_max, limit // 2))
            summaries = self._summarize_chunks(chunks, options, max_tokens, cancel, on_progress, round_no)
            produced += sum(self.tokenizer.count(s) for s in summaries)
            if last:
                return SummaryResult(summaries[0], round_no, first_chunks, input_tokens, produced,
                                     time.perf_counter() - started, warnings)
            new_sentences = [s for summary in summaries for s in split_sentences(summary, self.manifest.source)]
            before = sum(self.tokenizer.count(c) for c in chunks)
            after = sum(self.tokenizer.count(s) for s in new_sentences)
            if not new_sentences or after >= before:
                warnings.append("The summaries stopped getting shorter; the last round used only the start of the text.")
                new_sentences = new_sentences or sentences
                chunks = self._chunk(new_sentences, limit)[:1]
                summaries = self._summarize_chunks(chunks, options, final_max, cancel, on_progress, round_no + 1)
                return SummaryResult(summaries[0], round_no + 1, first_chunks, input_tokens, produced,
                                     time.perf_counter() - started, warnings)
            sentences = new_sentences
        warnings.append(f"Stopped after {options.max_rounds} rounds; the summary covers the start of the text.")
        chunks = self._chunk(sentences, limit)[:1]
        summaries = self._summarize_chunks(chunks, options, final_max, cancel, on_progress, options.max_rounds + 1)
        return SummaryResult(summaries[0], options.max_rounds + 1, first_chunks, input_tokens, produced,
                             time.perf_counter() - started, warnings)

    def _chunk(self, sentences: Iterable[str], limit: int) -> list[str]:
        """Pack consecutive sentences into chunks of at most ``limit`` tokens."""
        chunks: list[str] = []
        current: list[str] = []
        size = 0
        for sentence in sentences:
            n = self.tokenizer.count(sentence)
            parts = [sentence] if n <= limit else split_long(sentence, self.tokenizer.count, limit)
            for part in parts:
                n = self.tokenizer.count(part) if len(parts) > 1 else n
                if current and size + n > limit:
                    chunks.append(" ".join(current))
                    current, size = [], 0
                current.append(part)
                size += n
        if current:
            chunks.append(" ".join(current))
        return chunks

    def _summarize_chunks(self, chunks, options: SummaryOptions, max_tokens, cancel, on_progress, round_no) -> list[str]:
        d = self.manifest.decoding
        kwargs = self._decode_kwargs(
            TranslationOptions(options.beam_size, None, options.length_penalty, options.no_repeat_ngram_size, options.repetition_penalty),
            max_tokens + len(self.manifest.target_prefix),
            attention=False,
        )
        kwargs["min_decoding_length"] = min(max_tokens, options.min_output_tokens if options.min_output_tokens is not None else d.min_output_tokens) + len(self.manifest.target_prefix)
        units = [_Unit(i, 0, c, self.encode(c)) for i, c in enumerate(chunks)]
        out: dict[int, str] = {}
        if on_progress:
            on_progress(SummaryProgress(round_no, 0, len(units)))
        # small batches keep progress and cancellation responsive on long documents
        for batch in self._batches(units, max(1, self.input_limit) * 2):
            check(cancel)
            for unit, res in zip(batch, self._run_batch(batch, kwargs, cancel)):
                hyp, _ = self._strip_prefix(list(res.hypotheses[0]), None)
                out[unit.sentence] = self.tokenizer.decode(hyp)
            check(cancel)
            if on_progress:
                on_progress(SummaryProgress(round_no, len(out), len(units)))
        return [out[i] for i in range(len(units))]

    # ------------------------------------------------------------------ misc
    @property
    def cache_stats(self) -> tuple[int, int]:
        return self._cache.hits, self._cache.misses

    def clear_cache(self) -> None:
        self._cache.clear()

    def unload(self) -> None:
        self._translator = None


__all__ = [
    "Cancelled",
    "DeviceChoice",
    "Engine",
    "SentenceResult",
    "SummaryOptions",
    "SummaryProgress",
    "SummaryResult",
    "TextTranslation",
    "TokenEvent",
    "TranslationOptions",
]
