"""The app and the inference path must never import torch or transformers."""

import subprocess
import sys

HEAVY = ("torch", "transformers")

PROBE = """
import sys
{body}
print("HEAVY:" + " ".join(m for m in {heavy!r} if m in sys.modules))
"""


def _heavy_after(body: str, **kwargs) -> str:
    code = PROBE.format(body=body, heavy=HEAVY)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, **kwargs)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.rsplit("HEAVY:", 1)[1].strip()


def test_import_package_and_core_is_light():
    body = "import s2s_desktop, s2s_desktop.cli, s2s_desktop.core.engine, s2s_desktop.core.documents, s2s_desktop.models.store"
    assert _heavy_after(body) == ""


def test_translating_from_the_cli_is_light(model_store):
    body = "from s2s_desktop.cli import main\nassert main(['translate', '--model', 'tiny-en-de']) == 0"
    assert _heavy_after(body, input="The house is small.\n") == ""
