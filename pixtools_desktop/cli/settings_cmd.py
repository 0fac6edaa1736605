"""`pixtools settings`: show the file's path and values, or set one value."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("settings", help="show or change settings")
    ssub = p.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    ssub.add_parser("show", help="print the effective settings").set_defaults(func=run_show)
    s = ssub.add_parser("set", help="set KEY to VALUE (JSON or plain text)")
    s.add_argument("key")
    s.add_argument("value")
    s.set_defaults(func=run_set)


def run_show(args: argparse.Namespace) -> int:
    from pixtools_desktop.core.settings import settings_path

    print(f"# {settings_path()}")
    print(json.dumps(args.settings.to_json(), indent=2))
    return 0


def run_set(args: argparse.Namespace) -> int:
    from pixtools_desktop.core.settings import load_settings, save_settings

    settings = load_settings(env=False)
    names = {f.name for f in dataclasses.fields(settings)}
    if args.key not in names:
        print(f"pixtools: unknown setting {args.key!r}; known: {', '.join(sorted(names))}", file=sys.stderr)
        return 2
    try:
        value = json.loads(args.value)
    except ValueError:
        value = args.value
    setattr(settings, args.key, value)
    save_settings(settings)
    print(f"{args.key} = {json.dumps(value)}")
    return 0
