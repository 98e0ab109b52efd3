"""Entry script of the frozen ``s2s`` command (console executable)."""

from _frozen import intercept_child_call

intercept_child_call()

from s2s_desktop.cli import main  # noqa: E402

raise SystemExit(main())
