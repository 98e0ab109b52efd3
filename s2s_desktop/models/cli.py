"""``s2s models available|download|remove|import|verify`` (``list`` lives in s2s_desktop.cli).

Wire-up: ``add_models_parsers(models_subparsers)`` adds the actions to the existing
``models`` sub-parser. Handlers return an exit code and raise S2SError subclasses for
user errors (main() prints ``s2s: error: ...``).

Downloads and conversions run on a worker thread so that Ctrl-C cancels them cleanly
(huggingface_hub does not react to SIGINT itself): the store is left as it was.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from s2s_desktop.core.errors import Cancelled
from s2s_desktop.core.jobs import CancelToken


def add_models_parsers(msub) -> None:
    p = msub.add_parser("available", help="models in the catalog that can be downloaded")
    p.add_argument("--task", choices=("translate", "summarize"), help="only this task")
    p.add_argument("--lang", metavar="CODE", help="only models that read or write this language (e.g. de)")
    p.add_argument("--search", metavar="TEXT", help="only models whose name, repo or notes contain TEXT")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=cmd_available)

    p = msub.add_parser("download", help="download, convert and install a model",
                        description="Download a catalog model (see `s2s models available`) or any Hugging Face repo id, "
                                    "convert it to CTranslate2 and install it. HF_TOKEN is used for gated models and "
                                    "HF_ENDPOINT for mirrors.")
    p.add_argument("model", metavar="ID", help="catalog id (e.g. opus-mt-en-de) or repo id (e.g. Helsinki-NLP/opus-mt-en-de)")
    p.add_argument("--revision", metavar="REV", help="branch, tag or commit to download (default: the catalog's or main)")
    p.add_argument("--quantization", "-q", metavar="TYPE", help="int8 (default), int8_float16, float16, float32 ...")
    p.add_argument("--id", dest="model_id", metavar="NAME", help="install under this id (default: the catalog id)")
    p.add_argument("--source", metavar="LANG", help="source language (multilingual models)")
    p.add_argument("--target", metavar="LANG", help="target language (multilingual models)")
    p.add_argument("--task", choices=("translate", "summarize"), help="task, for repos outside the catalog")
    p.add_argument("--allow-pickle", action="store_true",
                   help="accept repos that only have pickled PyTorch weights (pytorch_model.bin); only if you trust them")
    p.add_argument("--keep-checkpoint", action="store_true", help="keep the original checkpoint (viewer's all-heads mode)")
    p.add_argument("--force", action="store_true", help="replace an installed model with the same id")
    p.add_argument("--json", action="store_true", help="print the installed model as JSON")
    p.set_defaults(func=cmd_download)

    p = msub.add_parser("remove", help="delete an installed model")
    p.add_argument("model", metavar="ID")
    p.add_argument("--json", action="store_true", help="print what was removed as JSON")
    p.set_defaults(func=cmd_remove)

    p = msub.add_parser("import", help="install a local folder (CTranslate2 model or Hugging Face checkpoint)")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--id", dest="model_id", metavar="NAME", help="install under this id")
    p.add_argument("--catalog", dest="catalog_id", metavar="ID", help="take task, languages and tokens from this catalog entry")
    p.add_argument("--task", choices=("translate", "summarize"))
    p.add_argument("--source", metavar="LANG")
    p.add_argument("--target", metavar="LANG")
    p.add_argument("--quantization", "-q", default="int8", metavar="TYPE", help="for checkpoints (default: int8)")
    p.add_argument("--allow-pickle", action="store_true", help="accept pytorch_model.bin checkpoints")
    p.add_argument("--keep-checkpoint", action="store_true")
    p.add_argument("--force", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)

    p = msub.add_parser("verify", help="recompute an installed model's checksums")
    p.add_argument("model", metavar="ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)


def _manager():
    from s2s_desktop.models.manager import ModelManager

    return ModelManager()


def _size(mb: float | None) -> str:
    if not mb:
        return "?"
    return f"{mb / 1000:.1f} GB" if mb >= 1000 else f"{mb:.0f} MB"


def cmd_available(args) -> int:
    rows = _manager().available(args.task, args.lang, args.search)
    if args.json:
        out = []
        for entry, installed in rows:
            item = entry.to_json()
            item["installed"] = installed is not None
            item["installed_id"] = installed.id if installed else None
            out.append(item)
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("No catalog model matches.")
    for entry, installed in rows:
        flags = []
        if installed:
            flags.append("installed")
        if entry.non_commercial:
            flags.append("NON-COMMERCIAL")
        if entry.format == "ctranslate2":
            flags.append("pre-converted")
        params = f"{entry.params_m:.0f}M" if entry.params_m else "?"
        print(f"{entry.id:36} {entry.pair_label:24} {params:>6} {_size(entry.download_mb):>8}  {entry.license:14} {' '.join(flags)}")
    return 0


class _ProgressPrinter:
    """One updating line on a terminal; stage lines otherwise (logs, pipes)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last_stage = None
        self.last_print = 0.0
        self.lock = threading.Lock()

    def __call__(self, p) -> None:
        with self.lock:
            if p.stage == "download" and p.total:
                now = time.monotonic()
                if self.tty:
                    if now - self.last_print < 0.1 and p.done < p.total:
                        return
                    self.last_print = now
                    self.stream.write(f"\r{p.message}: {p.done / 1e6:8.1f} / {p.total / 1e6:.1f} MB ({100 * p.done / p.total:3.0f}%)")
                    self.stream.flush()
                elif self.last_stage != "download":
                    self.stream.write(f"{p.message} ({p.total / 1e6:.1f} MB)\n")
                self.last_stage = p.stage
                return
            if self.tty and self.last_stage == "download":
                self.stream.write("\n")
            self.last_stage = p.stage
            self.stream.write(p.message + "\n")
            self.stream.flush()


def _run_cancellable(fn, **kwargs):
    """Run fn(cancel=..., **kwargs) on a thread; Ctrl-C cancels it and waits for the cleanup."""
    cancel = CancelToken()
    result: dict = {}

    def target():
        try:
            result["value"] = fn(cancel=cancel, **kwargs)
        except BaseException as exc:  # re-raised on the main thread
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        print("\ns2s: cancelling…", file=sys.stderr)
        cancel.cancel()
        thread.join()
        raise Cancelled("Cancelled; nothing was installed") from None
    if "error" in result:
        raise result["error"]
    return result["value"]


def _print_installed(model, as_json: bool, verb: str) -> None:
    if as_json:
        print(json.dumps(model.to_json(), indent=2, ensure_ascii=False))
    else:
        print(f"{verb} {model.id} ({model.manifest.pair}, {model.manifest.quantization or '?'}, "
              f"{model.size_bytes / 1e6:.1f} MB) in {model.path}")
        if model.manifest.extra.get("non_commercial"):
            print(f"s2s: note: {model.id} is licensed {model.manifest.license}: non-commercial use only", file=sys.stderr)


def cmd_download(args) -> int:
    manager = _manager()
    model = _run_cancellable(
        manager.install, id_or_repo=args.model, revision=args.revision, quantization=args.quantization,
        model_id=args.model_id, source=args.source, target=args.target, task=args.task,
        allow_pickle=args.allow_pickle, keep_checkpoint=args.keep_checkpoint, force=args.force,
        on_progress=_ProgressPrinter(),
    )
    _print_installed(model, args.json, "Installed")
    return 0


def cmd_import(args) -> int:
    manager = _manager()
    model = _run_cancellable(
        manager.import_path, path=args.path, model_id=args.model_id, task=args.task, source=args.source,
        target=args.target, catalog_id=args.catalog_id, quantization=args.quantization,
        allow_pickle=args.allow_pickle, keep_checkpoint=args.keep_checkpoint, force=args.force,
        on_progress=_ProgressPrinter(),
    )
    _print_installed(model, args.json, "Imported")
    return 0


def cmd_remove(args) -> int:
    path = _manager().remove(args.model)
    if args.json:
        print(json.dumps({"id": args.model, "path": str(path), "removed": True}))
    else:
        print(f"Removed {args.model} ({path})")
    return 0


def cmd_verify(args) -> int:
    report = _manager().verify(args.model)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    elif report.ok:
        print(f"{report.id}: OK ({report.checked} files checked)")
    else:
        print(f"{report.id}: {len(report.problems)} problem(s) in {report.path}:")
        for problem in report.problems:
            print(f"  - {problem}")
        print(f"Reinstall it with `s2s models download {report.id} --force` (or remove it).")
    return 0 if report.ok else 1


def build_standalone_parser() -> argparse.ArgumentParser:
    """A parser with only the model actions (tests, and until the main CLI wires them)."""
    parser = argparse.ArgumentParser(prog="s2s models")
    add_models_parsers(parser.add_subparsers(dest="models_command", metavar="ACTION"))
    return parser
