"""Smoke tests: every benchmark script runs end to end on the tiny test models.

Benchmarks are never timed assertions; this only checks that the scripts work (so that
``make bench`` does not rot). Each script gets ``--smoke``: tiny models, tiny inputs, one
repeat, nothing written to docs/benchmarks.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ["throughput", "overhead", "latency", "summarize", "memory", "scaling"]


def _run(args: list[str], tiny_models: dict[str, Path]) -> str:
    tiny_dir = next(iter(tiny_models.values())).parent
    env = dict(os.environ, S2S_BENCH_SMOKE="1", PYTHONUNBUFFERED="1")
    docs = ROOT / "docs" / "benchmarks.md"
    before = docs.read_bytes() if docs.exists() else None
    proc = subprocess.run([sys.executable, *args, "--smoke", "--tiny-models", str(tiny_dir), "--threads", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (docs.read_bytes() if docs.exists() else None) == before, "smoke runs must not touch docs/benchmarks.md"
    return proc.stdout


@pytest.mark.parametrize("name", SCRIPTS)
def test_bench_script_runs(name, tiny_models):
    out = _run([str(ROOT / "bench" / f"{name}.py")], tiny_models)
    assert "|---" in out  # printed a table
    if name == "throughput":
        for label in ("(a) app pipeline", "(a') app pipeline", "(b) raw CTranslate2", "(c) transformers",
                      "(b) raw CTranslate2, inside (a)'s process", "a/b same process", "a/b separate processes"):
            assert label in out


def test_run_all_lists_scripts():
    from importlib import util

    spec = util.spec_from_file_location("run_all", ROOT / "bench" / "run_all.py")
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.SCRIPTS == SCRIPTS
    assert all((ROOT / "bench" / f"{n}.py").is_file() for n in SCRIPTS)
