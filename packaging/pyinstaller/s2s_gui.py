"""Entry script of the frozen ``s2s-desktop`` window (windowed executable)."""

from _frozen import intercept_child_call

intercept_child_call()

from s2s_desktop.gui.app import main  # noqa: E402

raise SystemExit(main())
