"""Entry point frozen by PyInstaller: the same `pixtools` command as the pip install."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless where unused; required if a pool ever spawns in a frozen app
    from pixtools_desktop.cli import main

    sys.exit(main())
