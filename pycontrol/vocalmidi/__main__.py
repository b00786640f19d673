from vocalmidi.cli.main import main

raise SystemExit(main())
