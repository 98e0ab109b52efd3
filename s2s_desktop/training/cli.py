"""`s2s train ...` and `s2s evaluate ...` (argparse glue; heavy imports inside handlers).

    s2s train ddtp-corpus --out runs/corpus
    s2s train run --run-dir runs/en-de --train runs/corpus/ddtp-en-de.tsv --source-lang en --target-lang de
    s2s train export --run-dir runs/en-de --out resources/models/ddtp-en-de --id ddtp-en-de
    s2s evaluate --model ddtp-en-de --test runs/en-de/data/test.tsv
"""

from __future__ import annotations

import argparse
import shlex
import sys

from s2s_desktop.core.errors import S2SError


def _err(message: str) -> None:
    print(f"s2s: error: {message}", file=sys.stderr)


def _command_line() -> str:
    return " ".join(shlex.quote(a) for a in ["s2s", *sys.argv[1:]])


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("train", help="build corpora, train and export models")
    tsub = p.add_subparsers(dest="train_command", metavar="STEP")
    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])

    c = tsub.add_parser("ddtp-corpus", help="build parallel/summary corpora from apt's DDTP translation files")
    c.add_argument("--out", required=True, metavar="DIR", help="output directory for the TSV files")
    c.add_argument("--lists", default="/var/lib/apt/lists", metavar="DIR", help="where the Translation-XX files are")
    c.add_argument("--lang", action="append", metavar="XX", help="translation language(s) to pair with English (default de)")
    c.set_defaults(func=cmd_ddtp_corpus)

    r = tsub.add_parser("run", help="train (or resume) a Marian model; Ctrl-C saves a checkpoint")
    r.add_argument("--run-dir", required=True, metavar="DIR", help="run directory (resumes when it holds a checkpoint)")
    r.add_argument("--train", metavar="FILE", help="TSV source<TAB>target[<TAB>group], or the source side of two files")
    r.add_argument("--train-target", metavar="FILE", help="target side when --train is a plain line-aligned file")
    r.add_argument("--dev", metavar="FILE", help="dev TSV (default: split off the training corpus)")
    r.add_argument("--test", metavar="FILE", help="test TSV (default: split off the training corpus)")
    r.add_argument("--task", choices=["translate", "summarize"], default="translate")
    r.add_argument("--objective", choices=["seq2seq", "dae"], default="seq2seq",
                   help="dae: denoising autoencoder on the source side (span masking + sentence shuffling)")
    r.add_argument("--source-lang", metavar="XX")
    r.add_argument("--target-lang", metavar="XX")
    r.add_argument("--swap", action="store_true", help="swap the corpus columns (train target→source)")
    r.add_argument("--dev-size", type=int, default=500)
    r.add_argument("--test-size", type=int, default=1000)
    r.add_argument("--max-words", type=int, default=150, help="drop pairs longer than this (words)")
    r.add_argument("--exclude-groups-from", action="append", default=[], metavar="TSV",
                   help="drop training pairs whose group occurs in this TSV (keeps held-out text unseen)")
    r.add_argument("--preset", choices=["tiny", "small", "medium", "base"], default="small")
    r.add_argument("--vocab-size", type=int, default=8000)
    r.add_argument("--vocab", metavar="DIR", help="reuse the vocabulary of a run or checkpoint directory")
    r.add_argument("--init", metavar="DIR", help="fine-tune from a Hugging Face Marian checkpoint directory")
    r.add_argument("--max-src-len", type=int, default=128)
    r.add_argument("--max-tgt-len", type=int, default=128)
    r.add_argument("--max-tokens", type=int, default=2048, help="tokens per batch (padded source + target)")
    r.add_argument("--lr", type=float, default=1e-3)
    r.add_argument("--warmup", type=int, default=400)
    r.add_argument("--schedule", choices=["inverse_sqrt", "linear"], default="inverse_sqrt")
    r.add_argument("--label-smoothing", type=float, default=0.1)
    r.add_argument("--clip", type=float, default=1.0)
    r.add_argument("--dropout", type=float, default=0.1)
    r.add_argument("--mask-ratio", type=float, default=0.3)
    r.add_argument("--eval-minutes", type=float, default=4.0, help="dev evaluation interval")
    r.add_argument("--eval-every", type=int, default=0, metavar="STEPS", help="dev evaluation every N steps")
    r.add_argument("--dev-eval-size", type=int, default=400)
    r.add_argument("--patience", type=int, default=5, help="early stop after N evaluations without improvement")
    r.add_argument("--max-steps", type=int, default=0)
    r.add_argument("--max-minutes", type=float, default=0.0, help="training time budget (total over resumes)")
    r.add_argument("--max-epochs", type=int, default=0)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    r.add_argument("--device", choices=["cpu", "cuda", "auto"], default="auto")
    r.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto")
    r.set_defaults(func=cmd_train_run)

    e = tsub.add_parser("export", help="convert a run's best checkpoint to CTranslate2 int8 with a model card")
    e.add_argument("--run-dir", required=True, metavar="DIR", help="run directory, or a checkpoint directory")
    e.add_argument("--out", required=True, metavar="DIR", help="model directory to create")
    e.add_argument("--id", required=True, help="model id")
    e.add_argument("--name", help="human-friendly name")
    e.add_argument("--license", default="MIT")
    e.add_argument("--quantization", default="int8")
    e.add_argument("--test", metavar="FILE", help="test TSV (default: the run's held-out split)")
    e.add_argument("--test-limit", type=int, default=1000)
    e.add_argument("--no-fp32", action="store_true", help="skip the transformers fp32 comparison")
    e.add_argument("--beam", type=int, default=None, help="default beam size stored in the manifest")
    e.add_argument("--max-input-tokens", type=int)
    e.add_argument("--max-output-tokens", type=int)
    e.add_argument("--threads", type=int, default=1)
    e.add_argument("--note", action="append", default=[], help="extra paragraph for the model card")
    e.add_argument("--force", action="store_true", help="replace an existing output directory")
    e.set_defaults(func=cmd_train_export)

    v = subparsers.add_parser("evaluate", help="score a model on a test TSV (BLEU/chrF or ROUGE-L, tokens/s)")
    v.add_argument("--model", required=True, metavar="ID_OR_DIR")
    v.add_argument("--test", required=True, metavar="FILE", help="TSV source<TAB>reference")
    v.add_argument("--beam", type=int, default=None, help="beam size (default: the model's)")
    v.add_argument("--limit", type=int, default=0, help="score only the first N pairs")
    v.add_argument("--threads", type=int, default=0, help="CPU threads (0 = automatic)")
    v.add_argument("--device", default="auto")
    v.add_argument("--output", metavar="FILE", help="write the model outputs here, one per line")
    v.add_argument("--json", action="store_true", help="print the scores as JSON")
    v.set_defaults(func=cmd_evaluate)


def cmd_ddtp_corpus(args) -> int:
    from s2s_desktop.training.ddtp import build_ddtp_corpus

    try:
        build_ddtp_corpus(args.out, lists_dir=args.lists, languages=args.lang or ["de"],
                          log=lambda m: print(m, file=sys.stderr))
    except S2SError as exc:
        _err(str(exc))
        return 1
    return 0


def cmd_train_run(args) -> int:
    from s2s_desktop.training.trainer import Interrupted, TrainConfig, Trainer

    fields = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__}
    cfg = TrainConfig(**fields)
    try:
        summary = Trainer(cfg, command=_command_line()).train()
    except Interrupted as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\nInterrupted before training started; nothing to save.", file=sys.stderr)
        return 130
    except S2SError as exc:
        _err(str(exc))
        return 1
    except OSError as exc:
        import errno

        if exc.errno == errno.ENOSPC:
            _err("Disk full; free some space, then run the same command to resume")
        else:
            _err(str(exc))
        return 1
    print(f"Done: {summary['steps']} steps in {summary['seconds'] / 60:.1f} min; best dev {summary['metric']} "
          f"{summary['best']} at step {summary['best_step']}. Export with:\n"
          f"  s2s train export --run-dir {shlex.quote(summary['run_dir'])} --out DIR --id MODEL_ID", file=sys.stderr)
    return 0


def cmd_train_export(args) -> int:
    from s2s_desktop.training.export import export_model

    decoding = None
    if args.beam:
        from s2s_desktop.core.manifest import DecodingDefaults

        decoding = DecodingDefaults(beam_size=args.beam)
    try:
        result = export_model(
            args.run_dir, args.out, model_id=args.id, name=args.name, license=args.license,
            quantization=args.quantization, decoding=decoding, test_file=args.test, test_limit=args.test_limit,
            compare_fp32=not args.no_fp32, threads=args.threads, max_input_tokens=args.max_input_tokens,
            max_output_tokens=args.max_output_tokens, export_command=_command_line(), extra_notes=args.note,
            log=lambda m: print(m, file=sys.stderr), force=args.force,
        )
    except S2SError as exc:
        _err(str(exc))
        return 1
    except KeyboardInterrupt:
        print("\nExport cancelled; nothing was written.", file=sys.stderr)
        return 130
    print(result["path"])
    return 0


def cmd_evaluate(args) -> int:
    import json

    from s2s_desktop.training.corpus import read_tsv
    from s2s_desktop.training.decode import engine_generate
    from s2s_desktop.training.metrics import score

    try:
        from s2s_desktop.models.store import ModelStore

        model = ModelStore().get(args.model)
        path, task = model.path, model.manifest.task
        pairs = read_tsv(args.test)
        if args.limit:
            pairs = pairs[: args.limit]
        sources = [p.source for p in pairs]
        refs = [p.target for p in pairs]
        print(f"Evaluating {model.id} on {len(pairs)} pairs from {args.test}", file=sys.stderr)
        dec = engine_generate(path, sources, task=task, beam_size=args.beam, threads=args.threads,
                              device=args.device)
    except S2SError as exc:
        _err(str(exc))
        return 1
    except KeyboardInterrupt:
        print("\nCancelled.", file=sys.stderr)
        return 130
    scores = score(task, dec.outputs, refs)
    scores.update(tokens_per_s=round(dec.tokens_per_second, 1), seconds=round(dec.seconds, 2), pairs=len(pairs))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.writelines(o.replace("\n", " ") + "\n" for o in dec.outputs)
    if args.json:
        print(json.dumps({"model": model.id, "task": task, **scores}))
    else:
        names = ["bleu", "chrf"] if task == "translate" else ["rougeL", "chrf"]
        label = {"bleu": "BLEU", "chrf": "chrF", "rougeL": "ROUGE-L"}
        for n in names:
            print(f"{label[n]:8} {scores[n]:.2f}")
        print(f"{'tokens/s':8} {scores['tokens_per_s']:.1f}  ({len(pairs)} pairs in {scores['seconds']:.1f} s)")
    return 0


def main(argv=None) -> int:  # standalone use: python -m s2s_desktop.training.cli
    parser = argparse.ArgumentParser(prog="s2s")
    add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help(sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
