"""Shared start-up code of the frozen (PyInstaller) executables.

The model manager converts Hugging Face checkpoints in a child process started as
``sys.executable -m s2s_desktop.models.manager --convert-job JOB``. In a frozen bundle
``sys.executable`` is this executable, not a Python interpreter, and the bundle has no
torch/transformers, so such a call is answered here with the manager's own protocol
(one JSON line ``{"error": ...}`` on stdout, exit code 1). The app then shows the message
instead of starting a second window or printing a usage error.
"""

from __future__ import annotations

import json
import sys

CONVERSION_NEEDS_FULL_INSTALL = (
    "Converting Hugging Face checkpoints needs the full install of s2s-desktop (Python with torch and "
    "transformers: pip install 's2s-desktop[train]'); this packaged app has neither. Pre-converted CTranslate2 "
    "models (marked [pre-converted] in the catalog) download and import fine here; or convert the model with the "
    "full install and import the converted folder."
)


def intercept_child_call(argv: list[str] | None = None) -> None:
    """Exit at once when started as ``<exe> -m <module> ...`` (a child-process call)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) >= 2 and args[0] == "-m":
        if args[1] == "s2s_desktop.models.manager":
            out = sys.stdout or sys.__stdout__
            if out is not None:
                out.write(json.dumps({"error": CONVERSION_NEEDS_FULL_INSTALL}) + "\n")
                out.flush()
            raise SystemExit(1)
        raise SystemExit(f"{args[1]}: the packaged app cannot run Python modules (-m); use the full install")
