#!/bin/sh
# Build the one-folder app bundle: dist/s2s-desktop/ with s2s-desktop (window) and s2s (CLI).
#
#   packaging/build.sh                 # uses .venv/bin/python (make package)
#   PYTHON=python3 packaging/build.sh  # any Python with the app's dependencies installed
#
# Works on Linux (tested) and should work on macOS (adds dist/s2s-desktop.app); on Windows
# run the same pyinstaller command from PowerShell (see packaging/README.md).
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=$(command -v "$PY")

if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    "$PY" -m pip install -q "pyinstaller>=6"
fi
# icons are committed; re-render only when a PNG is missing
for n in 16 32 48 64 128 256 512; do
    [ -f "resources/icons/s2s-desktop-$n.png" ] || { "$PY" packaging/render_icons.py; break; }
done

"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/pyinstaller/s2s-desktop.spec

out=dist/s2s-desktop
for bad in torch transformers; do
    if [ -e "$out/_internal/$bad" ]; then
        echo "error: $bad ended up in the bundle ($out/_internal/$bad)" >&2
        exit 1
    fi
done
echo "bundle: $out ($(du -sh "$out" | cut -f1)); run $out/s2s --version or $out/s2s-desktop"
