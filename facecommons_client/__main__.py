from facecommons_client.cli import main

raise SystemExit(main())
