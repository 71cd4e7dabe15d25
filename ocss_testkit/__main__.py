from ocss_testkit.cli import main

raise SystemExit(main())
