from s2s_desktop.cli import main

raise SystemExit(main())
