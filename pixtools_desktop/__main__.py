"""`python -m pixtools_desktop` is the same as the `pixtools` command."""

from pixtools_desktop.cli import main

if __name__ == "__main__":  # guarded: worker processes are spawned and re-import __main__
    raise SystemExit(main())
