"""`pixtools serve`: run the PixTools HTTP API on this machine (uvicorn + FastAPI).

Binds 127.0.0.1 unless told otherwise; any other address needs an API key
(--api-key or PIXTOOLS_API_KEY), so a lab machine is never opened to the
network by accident. Exit codes: 0 after a clean shutdown (Ctrl+C/SIGTERM),
2 for a refused configuration, 1 when the port cannot be bound.

The server's files (database, uploads, results, logs, keys) hold other
people's photos and webhook URLs, so the process runs with umask 077: files
0600, folders 0700. The socket is bound here, before uvicorn starts, so a
port in use gets this app's sentence and exit 1, and `[::1]` works.
"""

from __future__ import annotations

import argparse
import os
import socket
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
    p.add_argument(
        "--api-key",
        default=None,
        help="require this X-API-Key on API calls (default: env PIXTOOLS_API_KEY; prefer the env var, "
        "command lines are visible to other users)",
    )
    p.add_argument("--max-upload-mb", type=int, default=10, help="largest accepted upload in MB (default 10)")
    p.add_argument("--db", default=None, help="server job database (default: <data dir>/server/server.sqlite3)")
    p.add_argument("--data-dir", default=None, help="where uploads and results live (default: <data dir>/server)")
    p.add_argument(
        "--workers", type=int, default=None, help="parallel workers for standard ops (default: one per core)"
    )
    p.add_argument(
        "--public-url",
        default=None,
        help="base of the result URLs handed to clients, e.g. https://pix.example.org (default: env "
        "PIXTOOLS_SERVE_PUBLIC_URL, else the bound address); request headers are never used",
    )
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace):
    from pixtools_desktop.core import paths
    from pixtools_desktop.server.config import ServerConfig

    data_dir = Path(args.data_dir).expanduser() if getattr(args, "data_dir", None) else paths.data_dir() / "server"
    db = Path(args.db).expanduser() if args.db else data_dir / "server.sqlite3"
    key = args.api_key or os.environ.get("PIXTOOLS_API_KEY") or None
    settings = getattr(args, "settings", None)
    public = getattr(args, "public_url", None) or (settings.serve_public_url if settings else None) or None
    return ServerConfig(
        data_dir=data_dir,
        db_path=db,
        host=args.host.strip().strip("[]"),
        port=args.port,
        api_key=key,
        max_upload_mb=args.max_upload_mb,
        workers=getattr(args, "workers", None),
        public_url=public,
        allow_private_webhooks=bool(settings.serve_allow_private_webhooks) if settings else False,
    )


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket for uvicorn (IPv6 when the host is an IPv6 address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say so (else ~40 ms per answer)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _private_files(config) -> None:
    """umask 077 from here on, and tighten what an earlier run left (data dir, database, log)."""
    import logging

    os.umask(0o077)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(config.data_dir, 0o700)
    for folder in ("uploads", "outputs"):
        if (config.data_dir / folder).is_dir():
            os.chmod(config.data_dir / folder, 0o700)
    for path in [config.db_path, *config.db_path.parent.glob(config.db_path.name + "-*")]:
        if path.is_file():
            os.chmod(path, 0o600)
    for handler in logging.getLogger().handlers:
        name = getattr(handler, "baseFilename", None)
        if name and Path(name).is_file():
            os.chmod(name, 0o600)


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
    if not 0 < config.port < 65536:
        print(f"pixtools serve: --port must be 1..65535, not {config.port}", file=sys.stderr)
        return 2
    try:
        sock = _bind(config.host, config.port)
    except OSError as exc:
        reason = "the port is already in use" if exc.errno == 98 else (exc.strerror or str(exc))
        print(
            f"pixtools serve: cannot listen on {config.host}:{config.port}: {reason}. Stop the other server or "
            "choose another --port.",
            file=sys.stderr,
        )
        return 1
    _private_files(config)
    import uvicorn

    from pixtools_desktop.server.app import create_app

    try:
        app = create_app(config, args.settings)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=config.host,
                port=config.port,
                log_level="warning",
                access_log=False,
                server_header=False,
                timeout_graceful_shutdown=30,
            )
        )
        auth = "API key required" if config.api_key else "no API key"
        print(f"PixTools API on {config.public_base} ({auth}); data in {config.data_dir}", file=sys.stderr, flush=True)
        server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        print(f"pixtools serve: could not start on {config.host}:{config.port} (see the log)", file=sys.stderr)
        return 1
    return 0
