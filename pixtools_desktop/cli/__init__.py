"""The `pixtools` command: no arguments opens the window; sub-commands script the engine.

Each sub-command lives in its own module exposing `register(subparsers)`;
every build ships all of them.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pixtools_desktop import __version__

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pixtools",
        description="PixTools Desktop: convert, resize, read metadata from and denoise photos. "
        "Run without a command to open the window.",
    )
    parser.add_argument("--version", action="version", version=f"PixTools Desktop {__version__}")
    parser.add_argument("--self-test", action="store_true", help="run a headless self-test and print one JSON line")
    parser.add_argument("-v", "--verbose", action="store_true", help="also print warnings to the terminal")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from pixtools_desktop.cli import health_cmd, jobs_cmd, models_cmd, process_cmd, serve_cmd, settings_cmd

    for module in (process_cmd, jobs_cmd, health_cmd, models_cmd, serve_cmd, settings_cmd):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    from pixtools_desktop.core.logs import setup_logging
    from pixtools_desktop.core.settings import load_settings

    multiprocessing.freeze_support()  # frozen (PyInstaller) builds: let spawned workers run
    argv = list(sys.argv[1:] if argv is None else argv)
    # Files given without a command ("Open with PixTools", drag onto the icon) open the window with them.
    parser = build_parser()
    if argv and not argv[0].startswith("-") and argv[0] not in parser._subparsers._group_actions[0].choices:  # type: ignore[union-attr,operator]  # argparse keeps subparsers private
        return _launch_gui(argv)
    args = parser.parse_args(argv)
    setup_logging(console=args.verbose)
    args.settings = load_settings()
    if args.self_test:
        from pixtools_desktop.selftest import run_self_test

        return run_self_test()
    if not getattr(args, "command", None):
        return _launch_gui([])
    return _run_command(args)


def _run_command(args: argparse.Namespace) -> int:
    """Run a sub-command; a closed pipe, Ctrl+C or a full database disk end it with one line (cli/exits.py)."""
    from pixtools_desktop.cli import exits, interrupt

    # A log file on a full disk must not print "--- Logging error ---" tracebacks over the summary.
    logging.raiseExceptions = False
    if args.command != "serve":  # a server keeps its own threads and uvicorn's graceful Ctrl+C
        exits.watch_worker_threads()
        interrupt.install()
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's final flush
        return code
    except BrokenPipeError:
        exits.silence_stdout()
        return exits.EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        interrupt.stop_and_exit(message="Interrupted.")
    except Exception as exc:
        import sqlite3

        if isinstance(exc, exits.DatabaseDiskFull):
            exits.say(str(exc))
            return exits.EXIT_USAGE
        if isinstance(exc, sqlite3.Error) and exits.is_disk_full(exc):
            from pixtools_desktop.cli.store_access import db_path

            exits.say(str(exits.DatabaseDiskFull(db_path(args.settings))))
            return exits.EXIT_USAGE
        raise


def _launch_gui(files: list[str]) -> int:
    from pixtools_desktop.ui.app import run_app

    return run_app(files)
