"""Entry point of the desktop app: ``s2s-desktop`` / ``python -m s2s_desktop.gui``."""

from __future__ import annotations

import sys
import time

_T0 = time.perf_counter()


def app_icon():
    """The app icon (resources/icons, every rendered size); an empty icon if missing."""
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QIcon

    from s2s_desktop.models.store import resources_dir

    icon = QIcon()
    icons = resources_dir() / "icons"
    for size in (16, 32, 48, 64, 128, 256, 512):
        path = icons / f"s2s-desktop-{size}.png"
        if path.is_file():
            icon.addFile(str(path), QSize(size, size))
    return icon


def create_app(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    from s2s_desktop import APP_ID, APP_NAME, __version__

    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName(APP_ID)  # packaging/linux/<APP_ID>.desktop; the Wayland app_id
    app.setWindowIcon(app_icon())
    return app


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="s2s-desktop", description="Offline translation and summarization")
    parser.add_argument("file", nargs="?", help="a document to open (.txt .md .html .pdf .docx)")
    parser.add_argument("--model", help="model id to select")
    parser.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)
    args, qt_args = parser.parse_known_args(sys.argv[1:] if argv is None else argv)

    app = create_app([sys.argv[0], *qt_args])
    from PySide6.QtCore import QTimer

    from s2s_desktop.gui.main_window import MainWindow

    window = MainWindow(preload=not args.startup_probe)
    if args.model and not window.select_model(args.model):
        window.show_error(f"No installed model {args.model!r}", level="warning")
    if args.file:
        window.open_file(args.file)
    window.show()
    if args.startup_probe:
        # print the time to the first processed event after show (window mapped and
        # painted on a real display), the modules loaded, then quit
        def report() -> None:
            heavy = sorted(m for m in ("torch", "transformers", "ctranslate2", "numpy") if m in sys.modules)
            print(f"startup_probe shown_s={time.perf_counter() - _T0:.4f} wall={time.time():.4f} heavy={','.join(heavy) or '-'}",
                  flush=True)
            window.close()
            app.quit()

        QTimer.singleShot(0, report)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
