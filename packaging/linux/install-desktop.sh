#!/bin/sh
# Register s2s-desktop with the desktop (launcher entry, icons, AppStream metadata) for
# the current user, or system-wide with PREFIX=/usr/local (as root).
#
#   packaging/linux/install-desktop.sh                  # after `pip install .` (s2s-desktop on PATH)
#   packaging/linux/install-desktop.sh dist/s2s-desktop # for the PyInstaller bundle: Exec points into it
#   packaging/linux/install-desktop.sh --uninstall
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ID=io.github.s2s_desktop.s2s_desktop
PREFIX=${PREFIX:-${XDG_DATA_HOME:-$HOME/.local/share}}
case $PREFIX in */share) SHARE=$PREFIX ;; *) SHARE=$PREFIX/share ;; esac

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$SHARE/applications/$ID.desktop" "$SHARE/metainfo/$ID.metainfo.xml" \
        "$SHARE/icons/hicolor/scalable/apps/s2s-desktop.svg"
    for n in 16 32 48 64 128 256 512; do rm -f "$SHARE/icons/hicolor/${n}x${n}/apps/s2s-desktop.png"; done
    exit 0
fi

mkdir -p "$SHARE/applications" "$SHARE/metainfo" "$SHARE/icons/hicolor/scalable/apps"
if [ -n "${1:-}" ]; then  # a bundle folder: launch its executable by absolute path
    exe=$(cd "$1" && pwd)/s2s-desktop
    [ -x "$exe" ] || { echo "no s2s-desktop executable in $1" >&2; exit 1; }
    sed -e "s|^Exec=s2s-desktop|Exec=$exe|" -e "s|^TryExec=s2s-desktop|TryExec=$exe|" \
        "$HERE/$ID.desktop" > "$SHARE/applications/$ID.desktop"
else
    cp "$HERE/$ID.desktop" "$SHARE/applications/$ID.desktop"
fi
cp "$HERE/$ID.metainfo.xml" "$SHARE/metainfo/"
cp "$ROOT/resources/icons/s2s-desktop.svg" "$SHARE/icons/hicolor/scalable/apps/"
for n in 16 32 48 64 128 256 512; do
    mkdir -p "$SHARE/icons/hicolor/${n}x${n}/apps"
    cp "$ROOT/resources/icons/s2s-desktop-$n.png" "$SHARE/icons/hicolor/${n}x${n}/apps/s2s-desktop.png"
done
command -v update-desktop-database >/dev/null && update-desktop-database -q "$SHARE/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" || true
echo "installed $ID into $SHARE"
