"""Run the benchmark scripts one after the other (what ``make bench`` runs).

    .venv/bin/python bench/run_all.py                 # full run, updates docs/benchmarks.md
    .venv/bin/python bench/run_all.py --only latency,memory
    .venv/bin/python bench/run_all.py --smoke --tiny-models DIR   # seconds, prints only

The first full run builds the OPUS-MT-sized benchmark models (about a minute) under
bench/.cache/. Expect 15–20 minutes on a 2-core machine, mostly throughput (transformers
at beam 4 is slow). The GUI benchmarks (bench/gui_*.py) are separate scripts.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import benchlib as bl  # noqa: E402

SCRIPTS = ["throughput", "overhead", "latency", "summarize", "memory", "scaling"]

HEADER = """# Benchmarks

Produced by `make bench` (`bench/run_all.py`); each section below is rewritten by its
script (`bench/<name>.py`) and carries the machine line and the load average at the time
it ran. Benchmark figures are never test assertions: `tests/test_bench.py` only checks
that every script runs on the tiny test models.

**Read the figures with the conditions in mind.** Every section records the machine and
its load average. Repeated runs vary by ±5-10 % and one CTranslate2 process can run up to
~15 % faster or slower than another on identical work, so systems run interleaved, every
round of the throughput benchmark starts fresh worker processes, (b) also runs inside
(a)'s process, and ratios are medians of per-slice paired ratios.

Models: **OPUS-MT-sized Marian** = 6+6 layers, d512, 8 heads, FFN 2048, swish, vocab
58,101 (sentencepiece trained on Debian DDTP English, 58,100 pieces + `<pad>`), random
weights, converted to CTranslate2 int8 with the app's converter; its output length is
fixed (min = max decoding length) so that every system does identical work. The bundled
models (resources/models) are trained by `bench/train_defaults.py`; sections say when
they were not there yet.
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help=f"comma-separated subset of {','.join(SCRIPTS)}")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--tiny-models")
    args, rest = ap.parse_known_args(argv)
    names = args.only.split(",") if args.only else SCRIPTS
    extra = list(rest)
    if args.smoke:
        extra += ["--smoke"] + (["--tiny-models", args.tiny_models] if args.tiny_models else [])
    elif not bl.DOCS.exists() or not bl.DOCS.read_text(encoding="utf-8").startswith("# Benchmarks\n\nProduced by"):
        body = bl.DOCS.read_text(encoding="utf-8") if bl.DOCS.exists() else ""
        keep = body[body.index("<!-- bench:"):] if "<!-- bench:" in body else ""
        bl.DOCS.write_text(HEADER + "\n" + keep, encoding="utf-8")
    started = time.time()
    for name in names:
        print(f"\n== bench/{name}.py", flush=True)
        t = time.time()
        rc = subprocess.call([sys.executable, str(HERE / f"{name}.py"), *extra])
        print(f"== bench/{name}.py: exit {rc} after {time.time() - t:.0f} s", flush=True)
        if rc:
            return rc
    print(f"\nall done in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
