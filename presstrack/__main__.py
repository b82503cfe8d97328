"""`python -m presstrack` is the `presstrack` command."""

from presstrack.cli import main

raise SystemExit(main())
