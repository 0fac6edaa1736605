"""`python -m pixtools_desktop` is the same as the `pixtools` command."""

from pixtools_desktop.cli import main

raise SystemExit(main())
