"""``s2s``: the command-line interface on the same core as the GUI.

Contract for scripts: ``s2s translate`` reads stdin (or -i) and writes exactly one output
line per input line; alignments go to their own file, one line per input line; errors go
to stderr with a non-zero exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Iterable, TextIO

from s2s_desktop import __version__
from s2s_desktop.core.errors import Cancelled, S2SError

BLOCK_LINES = 256  # lines translated per block: bounded memory, steady output


def _add_engine_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", "-m", metavar="ID", help="model id or model directory (default: the bundled model)")
    parser.add_argument("--beam", type=int, metavar="N", help="beam size (1 = greedy, fastest)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where to run (default: auto)")
    parser.add_argument("--compute-type", default="auto", metavar="TYPE", help="int8, int8_float16, float16, float32 ... (default: auto)")
    parser.add_argument("--threads", type=int, default=0, metavar="N", help="CPU threads (default: all cores, at most 8)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="s2s", description="Offline translation and summarization with CTranslate2 seq2seq models.")
    parser.add_argument("--version", action="version", version=f"s2s-desktop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("translate", help="translate text line by line (stdin → stdout)",
                       description="Translate text. One output line per input line; a line holding several "
                                   "sentences is translated sentence by sentence and joined back.")
    _add_engine_args(p)
    p.add_argument("-i", "--input", metavar="FILE", help="read this UTF-8 text file instead of stdin")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--max-length", type=int, metavar="N", help="maximum output tokens per sentence")
    p.add_argument("--alignments-out", metavar="FILE", help="write word alignments here, one line per input line")
    p.add_argument("--alignments-format", choices=("pharaoh", "json"), default="pharaoh",
                   help="pharaoh: 'i-j' pairs of 0-based source-target word indices; json: tokens and soft matrix")
    p.set_defaults(func=cmd_translate)

    p = sub.add_parser("summarize", help="summarize a document (txt, md, html, pdf, docx)")
    _add_engine_args(p)
    p.add_argument("file", metavar="FILE", help="document to summarize ('-' for stdin)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the summary here instead of stdout")
    p.add_argument("--max-length", type=int, metavar="N", help="maximum summary length in tokens")
    p.add_argument("--min-length", type=int, metavar="N", help="minimum summary length in tokens")
    p.add_argument("--length-penalty", type=float, metavar="X", help=">1 favours longer summaries")
    p.add_argument("--no-repeat-ngram", type=int, default=3, metavar="N", help="forbid repeating n-grams (0 = off)")
    p.set_defaults(func=cmd_summarize)

    p = sub.add_parser("models", help="list and manage models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    pl = msub.add_parser("list", help="installed and bundled models")
    pl.add_argument("--json", action="store_true", help="print a JSON list")
    pl.set_defaults(func=cmd_models_list)
    from s2s_desktop.models.cli import add_models_parsers

    add_models_parsers(msub)
    p.set_defaults(func=lambda args: _usage(p))

    try:
        from s2s_desktop.training.cli import add_parsers as add_training_parsers
    except ImportError:
        pass
    else:
        add_training_parsers(sub)
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def load_engine(args, task: str):
    from s2s_desktop.core.engine import Engine
    from s2s_desktop.models.store import ModelStore

    store = ModelStore()
    model = store.get(args.model) if args.model else store.default(task)
    if model.manifest.task != task:
        raise S2SError(f"Model {model.id!r} is a {model.manifest.task} model; choose a {task} model (see `s2s models list`)")
    return Engine(model.path, device=args.device, compute_type=args.compute_type, intra_threads=args.threads)


def _read_input(path: str | None) -> str:
    if path is None:
        data = sys.stdin.buffer.read()
        name = "standard input"
    else:
        name = path
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise S2SError(f"Cannot read {path}: {exc.strerror or exc}") from None
    if b"\0" in data:
        raise S2SError(f"{name} looks binary, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise S2SError(f"{name} is not UTF-8 text (byte {exc.start}); convert it first, e.g. with iconv") from None


def _open_output(path: str | None) -> TextIO:
    if path is None:
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise S2SError(f"Cannot write {path}: {exc.strerror or exc}") from None


def translate_lines(engine, lines: list[str], options) -> Iterable[tuple[str, list]]:
    """Translate a block of lines; yields (output_line, alignment records) per line."""
    from s2s_desktop.core.text import segment_text

    lang = engine.manifest.source
    segmented = [segment_text(line, lang) for line in lines]
    sentences = [seg.text for segs in segmented for seg in segs if seg.translatable]
    results = [None] * len(sentences)
    for result in engine.translate_sentences(sentences, options):
        results[result.index] = result
    k = 0
    for line, segs in zip(lines, segmented):
        out, records = [], []
        for seg in segs:
            if not seg.translatable:
                out.append(seg.text)
                continue
            result = results[k]
            k += 1
            records.append((len("".join(_src_prefix(segs, seg)).split()), len("".join(out).split()), result))
            out.append(result.target.replace("\n", " ").replace("\r", " "))
        yield "".join(out), records


def _src_prefix(segs, target_seg):
    for seg in segs:
        if seg is target_seg:
            return
        yield seg.text


def cmd_translate(args) -> int:
    from s2s_desktop.core.alignment_export import alignment_line
    from s2s_desktop.core.engine import TranslationOptions

    text = _read_input(args.input)
    engine = load_engine(args, "translate")
    options = TranslationOptions(beam_size=args.beam, max_output_tokens=args.max_length,
                                 return_attention=bool(args.alignments_out))
    lines = text.split("\n")
    trailing_newline = len(lines) > 1 and lines[-1] == ""
    if trailing_newline:
        lines.pop()
    out = _open_output(args.output)
    align = open(args.alignments_out, "w", encoding="utf-8") if args.alignments_out else None
    try:
        for start in range(0, len(lines), BLOCK_LINES):
            block = lines[start : start + BLOCK_LINES]
            for n, (line, (translated, records)) in enumerate(zip(block, translate_lines(engine, block, options))):
                last = start + n == len(lines) - 1
                out.write(translated + ("\n" if not last or trailing_newline else ""))
                if align:
                    align.write(alignment_line(line, translated, records, engine.tokenizer, args.alignments_format) + "\n")
            out.flush()
    finally:
        if out is not sys.stdout:
            out.close()
        if align:
            align.close()
    return 0


def cmd_summarize(args) -> int:
    from s2s_desktop.core.documents import read_document
    from s2s_desktop.core.engine import SummaryOptions

    text = _read_input(None) if args.file == "-" else read_document(args.file).text
    engine = load_engine(args, "summarize")
    options = SummaryOptions(beam_size=args.beam, max_output_tokens=args.max_length, min_output_tokens=args.min_length,
                             length_penalty=args.length_penalty, no_repeat_ngram_size=args.no_repeat_ngram)
    progress = None
    if sys.stderr.isatty():
        def progress(p):
            print(f"\rround {p.round}: {p.done}/{p.total} chunks", end="", file=sys.stderr, flush=True)
    result = engine.summarize(text, options, on_progress=progress)
    if progress:
        print(file=sys.stderr)
    for warning in result.warnings:
        print(f"s2s: warning: {warning}", file=sys.stderr)
    out = _open_output(args.output)
    out.write(result.text + "\n")
    if out is not sys.stdout:
        out.close()
    return 0


def cmd_models_list(args) -> int:
    from s2s_desktop.models.store import ModelStore

    store = ModelStore()
    models = store.list()
    if args.json:
        print(json.dumps([m.to_json() for m in models], indent=2, ensure_ascii=False))
    else:
        if not models:
            print("No models installed.")
        for m in models:
            tag = "bundled" if m.bundled else "user"
            print(f"{m.id:32} {m.manifest.pair:20} {m.size_bytes / 1e6:7.1f} MB  {tag:8} {m.path}")
    for problem in store.problems:
        print(f"s2s: warning: {problem}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except (S2SError, Cancelled) as exc:
        print(f"s2s: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("s2s: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `s2s translate | head`
        return 0
    except MemoryError:
        print("s2s: error: out of memory; try a smaller model, a smaller --beam or shorter input", file=sys.stderr)
        return 1
