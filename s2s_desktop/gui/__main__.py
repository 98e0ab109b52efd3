from s2s_desktop.gui.app import main

raise SystemExit(main())
