"""`pixtools serve`: run the PixTools HTTP API on this machine (uvicorn + FastAPI).

Binds 127.0.0.1 unless told otherwise; any other address needs an API key
(--api-key or PIXTOOLS_API_KEY), so a lab machine is never opened to the
network by accident. Exit codes: 0 after a clean shutdown (Ctrl+C/SIGTERM),
2 for a refused configuration, 1 when the port cannot be bound.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the PixTools HTTP API (use this machine as a remote backend)",
        description="Serve the PixTools API (POST /api/process, GET /api/jobs/{id}, /api/health) "
        "over this machine's engine, so other PixTools apps can use it as a remote backend.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; others need an API key)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--api-key", default=None,
                   help="require this X-API-Key on API calls (default: env PIXTOOLS_API_KEY; prefer the env var, "
                   "command lines are visible to other users)")
    p.add_argument("--max-upload-mb", type=int, default=10, help="largest accepted upload in MB (default 10)")
    p.add_argument("--db", default=None, help="server job database (default: <data dir>/server/server.sqlite3)")
    p.add_argument("--data-dir", default=None, help="where uploads and results live (default: <data dir>/server)")
    p.add_argument("--workers", type=int, default=None, help="parallel workers for standard ops (default: one per core)")
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace):
    from pixtools_desktop.core import paths
    from pixtools_desktop.server.config import ServerConfig

    data_dir = Path(args.data_dir).expanduser() if getattr(args, "data_dir", None) else paths.data_dir() / "server"
    db = Path(args.db).expanduser() if args.db else data_dir / "server.sqlite3"
    key = args.api_key or os.environ.get("PIXTOOLS_API_KEY") or None
    return ServerConfig(
        data_dir=data_dir, db_path=db, host=args.host, port=args.port, api_key=key,
        max_upload_mb=args.max_upload_mb, workers=getattr(args, "workers", None),
    )


def run(args: argparse.Namespace) -> int:
    from pixtools_desktop.server.config import is_loopback

    config = build_config(args)
    if not is_loopback(config.host) and not config.api_key:
        print(
            f"pixtools serve: refusing to listen on {config.host} without an API key: anyone on the network could "
            "use this machine. Set PIXTOOLS_API_KEY (or --api-key), or bind 127.0.0.1.",
            file=sys.stderr,
        )
        return 2
    if config.max_upload_mb < 1:
        print("pixtools serve: --max-upload-mb must be at least 1", file=sys.stderr)
        return 2
    import uvicorn

    from pixtools_desktop.server.app import create_app

    app = create_app(config, args.settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host=config.host, port=config.port, log_level="warning", access_log=False,
                       server_header=False, timeout_graceful_shutdown=30)
    )
    auth = "API key required" if config.api_key else "no API key"
    print(f"PixTools API on http://{config.host}:{config.port} ({auth}); data in {config.data_dir}", file=sys.stderr,
          flush=True)
    server.run()
    if not server.started:
        print(f"pixtools serve: could not start on {config.host}:{config.port} (is the port in use?)", file=sys.stderr)
        return 1
    return 0
