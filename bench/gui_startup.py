"""Cold start of the desktop app: process launch → main window shown.

Starts ``python -m s2s_desktop.gui --startup-probe`` several times in fresh processes;
the app prints the wall-clock time once its first event after ``show()`` is processed
(the window is mapped and painted) and quits. Also reports which heavy modules were
loaded by then (torch/transformers must not be; ctranslate2 and numpy load later, on
the worker thread).

    python bench/gui_startup.py [--runs 7] [--platform offscreen|xcb]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(platform: str, data_dir: str) -> tuple[float, float, str]:
    env = dict(os.environ, QT_QPA_PLATFORM=platform, S2S_DATA_DIR=data_dir)
    started = time.time()
    proc = subprocess.run([sys.executable, "-m", "s2s_desktop.gui", "--startup-probe"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("startup_probe")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"the app failed (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr[-2000:]}")
    fields = dict(part.split("=", 1) for part in line.split()[1:])
    return float(fields["wall"]) - started, float(fields["shown_s"]), fields["heavy"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM") or ("xcb" if os.environ.get("DISPLAY") else "offscreen"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="s2s-startup-") as data_dir:
        one_run(args.platform, data_dir)  # warm the OS file cache: we measure a new process, not a cold disk
        runs = [one_run(args.platform, data_dir) for _ in range(args.runs)]
    walls = [w for w, _, _ in runs]
    inproc = [s for _, s, _ in runs]
    heavy = sorted({h for _, _, h in runs})
    print(f"platform: {args.platform}; {args.runs} runs; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"launch → window shown: median {statistics.median(walls) * 1000:.0f} ms, "
          f"min {min(walls) * 1000:.0f} ms, max {max(walls) * 1000:.0f} ms (target < 1000 ms)")
    print(f"  of which after the interpreter started (gui.app imported → shown): median {statistics.median(inproc) * 1000:.0f} ms")
    print(f"heavy modules loaded at that point: {', '.join(heavy)}  (torch/transformers must be absent)")
    ok = statistics.median(walls) < 1.0 and not any("torch" in h or "transformers" in h for h in heavy)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
