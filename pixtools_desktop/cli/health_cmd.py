"""`pixtools health`: the PixTools health shape for this installation; exit 1 when unhealthy."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("health", help="check database, disk, model and configured sinks")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pixtools_desktop.wiring import health_report

    report = health_report(args.settings)
    print(json.dumps(report, indent=2))
    return 0 if report["status"] == "healthy" else 1
