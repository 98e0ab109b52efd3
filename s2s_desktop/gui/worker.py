"""The job runner: one QThread that owns the loaded models and runs every slow thing.

The GUI thread never runs inference, model loading or document parsing. It submits
:class:`Job` objects; the runner executes them one at a time on its thread and reports
back through Qt signals (queued into the GUI thread). Every job carries a
:class:`~s2s_desktop.core.jobs.CancelToken`; a job cancelled before it starts is skipped,
one cancelled while running stops at the engine's next check.

Translation output is not sent by signals: finished sentences are appended to
``Job.results`` and streamed tokens update ``Job.partials``, and the GUI polls both on a
timer. A fast model thus cannot flood the GUI event loop (one update per poll, however
many sentences finished), and no Qt call happens on CTranslate2's own callback thread
(emitting a signal from there deadlocked PySide 6.12).

Nothing heavy is imported at module level: the engine (numpy, ctranslate2, sentencex)
is imported on the worker thread the first time a model is needed.
"""

from __future__ import annotations

import itertools
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from s2s_desktop.gui.qtcompat import emit
from s2s_desktop.core.errors import Cancelled, S2SError
from s2s_desktop.core.jobs import CancelToken

MAX_ENGINES = 3

_ids = itertools.count(1)


@dataclass(frozen=True)
class EngineKey:
    """What identifies a loaded engine: the model folder and where/how it runs."""

    model_path: str
    device: str = "auto"
    compute_type: str = "auto"
    threads: int = 0


@dataclass
class Job:
    kind: str  # "load" | "translate" | "summarize" | "open"
    engine: EngineKey | None = None
    text: str = ""
    path: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    id: int = field(default_factory=lambda: next(_ids))
    cancel: CancelToken = field(default_factory=CancelToken)
    # {sentence index: its latest TokenEvent} while tokens stream (written by
    # CTranslate2's thread, read by the GUI: single dict operations, atomic under the
    # GIL); the GUI reads ``.text`` (decoded on demand) of the few it shows
    partials: dict[int, Any] = field(default_factory=dict)
    # finished SentenceResults in arrival order (appended by the worker, polled by the GUI)
    results: list = field(default_factory=list)


@dataclass
class JobError:
    message: str  # complete, user-facing
    details: str = ""  # technical details (traceback) for the details toggle


def describe_exception(exc: BaseException) -> JobError:
    """Turn any exception into a user-facing message plus details."""
    if isinstance(exc, S2SError):
        cause = exc.__cause__ or exc.__context__
        details = "".join(traceback.format_exception(type(cause), cause, cause.__traceback__)) if cause else ""
        return JobError(str(exc), details)
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if isinstance(exc, MemoryError):
        return JobError("Out of memory. Close other programs, pick a smaller model, or translate a shorter text.", details)
    text = str(exc)
    if "out of memory" in text.lower():
        return JobError("Out of memory on the device. Try the CPU, a smaller compute type or a shorter text.", details)
    return JobError(f"Unexpected error: {type(exc).__name__}: {text}", details)


class Worker(QObject):
    """Lives on the runner's thread; its slots run the jobs."""

    started = Signal(int, str)  # job id, kind
    modelReady = Signal(int, object)  # job id, {"id", "name", "pair", "device", "describe"}
    progress = Signal(int, int, int, str)  # job id, done, total, label
    translationStarted = Signal(int, object)  # job id, TextTranslation (GUI owns it from now on)
    documentLoaded = Signal(int, object)  # job id, Document
    summaryReady = Signal(int, object)  # job id, SummaryResult
    finished = Signal(int, object)  # job id, stats dict (tokens, seconds, tokens_per_second)
    cancelled = Signal(int)
    failed = Signal(int, object)  # job id, JobError

    def __init__(self) -> None:
        super().__init__()
        self._engines: dict[EngineKey, Any] = {}

    # ------------------------------------------------------------- engines
    def engine(self, job: Job):
        key = job.engine
        if key is None:
            raise S2SError("No model is selected. Install one with Tools → Manage models…")
        engine = self._engines.get(key)
        loaded = engine is None
        if engine is None:
            from s2s_desktop.core.engine import Engine

            # one model per path: a different device/threads setting replaces it
            for old in [k for k in self._engines if k.model_path == key.model_path]:
                self._drop(old)
            while len(self._engines) >= MAX_ENGINES:
                self._drop(next(iter(self._engines)))
            engine = Engine(key.model_path, key.device, key.compute_type, key.threads)
            self._engines[key] = engine
            from s2s_desktop.models.manager import IN_USE

            IN_USE.track(engine)  # the model manager refuses to delete a loaded model
        else:  # most recently used last
            self._engines[key] = self._engines.pop(key)
        m = engine.manifest
        emit(self.modelReady, job.id, {"id": m.id, "name": m.name or m.id, "pair": m.pair,
                                      "device": engine.info.device, "compute_type": engine.info.compute_type,
                                      "describe": engine.info.describe(), "loaded": loaded})
        return engine

    def _drop(self, key: EngineKey) -> None:
        engine = self._engines.pop(key, None)
        if engine is not None:
            engine.unload()
            from s2s_desktop.models.manager import IN_USE

            IN_USE.untrack(engine)

    @Slot(str)
    def unload_path(self, path: str) -> None:
        """Release every engine of the model at ``path`` (before it is removed)."""
        target = Path(path).resolve()
        for key in [k for k in self._engines if Path(k.model_path).resolve() == target]:
            self._drop(key)

    def unload_all(self) -> None:
        for key in list(self._engines):
            self._drop(key)

    # ----------------------------------------------------------------- jobs
    @Slot(object)
    def run(self, job: Job) -> None:
        if job.cancel.cancelled:  # superseded before it started
            emit(self.cancelled, job.id)
            return
        emit(self.started, job.id, job.kind)
        try:
            getattr(self, "_" + job.kind)(job)
        except Cancelled:
            emit(self.cancelled, job.id)
        except BaseException as exc:  # noqa: BLE001 - every failure is reported, none kills the thread
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            emit(self.failed, job.id, describe_exception(exc))

    @Slot()
    def shutdown(self) -> None:
        self.unload_all()

    def _load(self, job: Job) -> None:
        self.engine(job)
        emit(self.finished, job.id, {})

    def _translate(self, job: Job) -> None:
        from s2s_desktop.core.engine import TranslationOptions

        engine = self.engine(job)
        job.cancel.raise_if_cancelled()
        translation = engine.start_text(job.text)
        emit(self.translationStarted, job.id, translation)
        options = TranslationOptions(beam_size=job.options.get("beam_size") or None,
                                     max_output_tokens=job.options.get("max_output_tokens") or None)
        beam = options.beam_size or engine.manifest.decoding.beam_size

        def on_token(event) -> None:  # on CTranslate2's thread: no Qt, no decoding here
            job.partials[event.index] = event

        stream = engine.translate_sentences(translation.sentences, options, cancel=job.cancel,
                                            on_token=on_token if beam == 1 else None)
        for result in stream:
            job.results.append(result)
            job.partials.pop(result.index, None)
        emit(self.finished, job.id, dict(engine.last_stats))

    def _summarize(self, job: Job) -> None:
        from s2s_desktop.core.engine import SummaryOptions

        engine = self.engine(job)
        job.cancel.raise_if_cancelled()
        options = SummaryOptions(beam_size=job.options.get("beam_size") or None,
                                 max_output_tokens=job.options.get("max_output_tokens") or None)

        def on_progress(p) -> None:
            label = "Summarizing" if p.round == 1 else f"Summarizing (round {p.round})"
            emit(self.progress, job.id, p.done, p.total, label)

        result = engine.summarize(job.text, options, cancel=job.cancel, on_progress=on_progress)
        emit(self.summaryReady, job.id, result)
        seconds = result.seconds
        emit(self.finished, job.id, {"tokens": result.output_tokens, "seconds": seconds,
                                    "tokens_per_second": result.output_tokens / seconds if seconds > 0 else 0.0})

    def _open(self, job: Job) -> None:
        from s2s_desktop.core.documents import read_document

        def on_progress(done: int, total: int) -> None:
            emit(self.progress, job.id, done, total, "Reading")

        started = time.perf_counter()
        document = read_document(job.path, on_progress=on_progress, cancel=job.cancel)
        emit(self.documentLoaded, job.id, document)
        emit(self.finished, job.id, {"seconds": time.perf_counter() - started})


class WorkerThread(QThread):
    """A QThread whose Python thread state lives as long as the thread.

    With a plain QThread, PySide creates and destroys a Python thread state around every
    slot call. pybind11 (CTranslate2's bindings) remembers the thread state current when
    it is first imported, per thread; on a plain QThread that one is gone by the next job
    and CTranslate2's callback then waits forever for the GIL (a hang seen in testing).
    Running the event loop from a Python ``run`` keeps one thread state for good.
    """

    def run(self) -> None:
        _lower_priority()
        self.exec()


WORKER_NICE = 2  # inference threads yield the CPU to the GUI thread when they compete


def _lower_priority() -> None:
    """Give this thread (and the CTranslate2/OpenMP threads it will create, which inherit
    it) a slightly lower CPU priority than the GUI thread. Linux: nice is per thread."""
    import os
    import threading

    nice = int(os.environ.get("S2S_WORKER_NICE", WORKER_NICE))
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
    except (OSError, AttributeError):
        pass


class JobRunner(QObject):
    """Owns the worker thread. ``submit`` queues a job; signals come from ``worker``."""

    _request = Signal(object)
    _shutdown = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # the GUI thread gets the GIL back within 2 ms (Python's default is 5 ms) while
        # the worker runs Python code between CTranslate2 calls
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.002))
        self.thread = WorkerThread()
        self.thread.setObjectName("s2s-worker")
        self.worker = Worker()
        self.worker.moveToThread(self.thread)
        self._request.connect(self.worker.run)
        self._shutdown.connect(self.worker.shutdown)
        self.thread.finished.connect(self.worker.deleteLater)
        self.active: dict[int, Job] = {}  # submitted and not yet over
        for signal in (self.worker.finished, self.worker.failed):
            signal.connect(self._over)
        self.worker.cancelled.connect(self._over)
        self.thread.start()

    def _over(self, job_id: int, *_args) -> None:
        self.active.pop(job_id, None)

    def submit(self, job: Job) -> Job:
        self.active[job.id] = job
        emit(self._request, job)
        return job

    def cancel(self, kinds: tuple[str, ...] | None = None) -> None:
        for job in list(self.active.values()):
            if kinds is None or job.kind in kinds:
                job.cancel.cancel()

    def busy(self, kinds: tuple[str, ...] | None = None) -> bool:
        return any(kinds is None or j.kind in kinds for j in self.active.values())

    def stop(self, timeout_ms: int = 15000) -> bool:
        """Cancel everything, unload the models and end the thread; True when it ended."""
        if not self.thread.isRunning():
            return True
        self.cancel()
        emit(self._shutdown)
        self.thread.quit()
        return self.thread.wait(timeout_ms)
