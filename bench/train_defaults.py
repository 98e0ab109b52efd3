"""Train and export the bundled default models, one after the other (resumable).

    nohup nice -n 10 .venv/bin/python bench/train_defaults.py --preset small > runs/defaults.log 2>&1 &

Each step is skipped when its output exists, and each training run resumes from its
checkpoint, so rerunning the script after an interruption continues where it stopped.
Steps: DDTP corpus → en→de → summarizer (no DAE) → de→en → DAE pre-training +
summarizer fine-tune (the comparison; the better summarizer is exported).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs"
MODELS = ROOT / "resources" / "models"
S2S = [sys.executable, "-m", "s2s_desktop"]


def sh(args: list[str]) -> None:
    print(f"\n[{time.strftime('%H:%M:%S')}] $ s2s {' '.join(args)}", flush=True)
    rc = subprocess.call(S2S + args, cwd=ROOT)
    if rc != 0:
        raise SystemExit(f"step failed with exit code {rc}")


def best(run: Path) -> float | None:
    f = run / "best" / "train_state.json"
    return json.loads(f.read_text())["dev"] if f.is_file() else None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--minutes", type=float, default=30, help="en→de training budget")
    ap.add_argument("--de-en-minutes", type=float, default=None, help="de→en budget (default: --minutes)")
    ap.add_argument("--sum-minutes", type=float, default=25)
    ap.add_argument("--dae-minutes", type=float, default=12)
    ap.add_argument("--only", nargs="*", default=None, help="en-de sum de-en dae")
    args = ap.parse_args()
    steps = args.only or ["en-de", "sum", "de-en", "dae"]
    corpus = RUNS / "corpus"
    if not (corpus / "ddtp-en-de.tsv").is_file():
        sh(["train", "ddtp-corpus", "--out", str(corpus.relative_to(ROOT))])
    common = ["--preset", args.preset, "--threads", "1", "--device", "cpu"]
    if "en-de" in steps:
        sh(["train", "run", "--run-dir", "runs/en-de", "--train", "runs/corpus/ddtp-en-de.tsv", "--source-lang", "en",
            "--target-lang", "de", "--max-minutes", str(args.minutes), "--warmup", "200", *common])
        if not (MODELS / "ddtp-en-de").exists():
            sh(["train", "export", "--run-dir", "runs/en-de", "--out", "resources/models/ddtp-en-de", "--id", "ddtp-en-de",
                "--name", f"Debian descriptions en→de ({args.preset})"])
    sum_args = ["--task", "summarize", "--source-lang", "en", "--max-src-len", "256", "--max-tgt-len", "48",
                "--max-words", "300", "--warmup", "200", "--dev-size", "500", "--test-size", "1000"]
    if "sum" in steps:
        sh(["train", "run", "--run-dir", "runs/sum-base", "--train", "runs/corpus/ddtp-summarize-en.tsv", *sum_args,
            "--max-minutes", str(args.sum_minutes), *common])
        if not (MODELS / "ddtp-summarize-en").exists():
            sh(["train", "export", "--run-dir", "runs/sum-base", "--out", "resources/models/ddtp-summarize-en",
                "--id", "ddtp-summarize-en", "--name", f"Debian descriptions summarizer, English ({args.preset})"])
    if "de-en" in steps:
        sh(["train", "run", "--run-dir", "runs/de-en", "--train", "runs/corpus/ddtp-en-de.tsv", "--swap",
            "--source-lang", "de", "--target-lang", "en", "--max-minutes", str(args.de_en_minutes or args.minutes), "--warmup", "200", *common])
        if not (MODELS / "ddtp-de-en").exists():
            sh(["train", "export", "--run-dir", "runs/de-en", "--out", "resources/models/ddtp-de-en", "--id", "ddtp-de-en",
                "--name", f"Debian descriptions de→en ({args.preset})"])
    if "dae" in steps:
        # Same vocabulary and split as the baseline; DAE text excludes the held-out groups.
        sh(["train", "run", "--run-dir", "runs/sum-dae-pre", "--train", "runs/corpus/ddtp-mono-en.tsv",
            "--objective", "dae", "--task", "summarize", "--source-lang", "en", "--vocab", "runs/sum-base/vocab",
            "--exclude-groups-from", "runs/sum-base/data/dev.tsv", "--exclude-groups-from", "runs/sum-base/data/test.tsv",
            "--dev-size", "300", "--test-size", "0", "--max-src-len", "128", "--max-tgt-len", "128", "--warmup", "200",
            "--max-minutes", str(args.dae_minutes), *common])
        ft = RUNS / "sum-dae-ft"
        if not (ft / "data").exists():
            shutil.copytree(RUNS / "sum-base" / "data", ft / "data")
        sh(["train", "run", "--run-dir", "runs/sum-dae-ft", "--init", "runs/sum-dae-pre/best", *sum_args,
            "--max-minutes", str(args.sum_minutes - args.dae_minutes), *common])
        print(f"dev ROUGE-L: baseline {best(RUNS / 'sum-base')}, with DAE {best(RUNS / 'sum-dae-ft')}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
