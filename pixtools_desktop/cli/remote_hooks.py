"""`pixtools process --backend URL [--api-key KEY]`: run a batch on a PixTools server.

Hooked in by cli/process_extras.py. Same progress bar, summary and exit code
as a local run: the jobs are ordinary rows of the same store, only a
RemoteBackend runs them instead of a LocalRunner.
"""

from __future__ import annotations

import argparse
import os
import sys

from pixtools_desktop.core.jobs import Job


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("remote backend")
    g.add_argument(
        "--backend",
        metavar="URL",
        default=None,
        help="run on this PixTools API server instead of this machine (env PIXTOOLS_BACKEND_URL)",
    )
    g.add_argument(
        "--api-key",
        metavar="KEY",
        default=None,
        help="API key for --backend (prefer env PIXTOOLS_API_KEY: command lines are visible to others)",
    )


def backend_url(args: argparse.Namespace) -> str | None:
    return getattr(args, "backend", None) or os.environ.get("PIXTOOLS_BACKEND_URL") or None


def make_backend(args: argparse.Namespace, store, settings):
    url = backend_url(args)
    if not url:
        return None
    from pixtools_desktop.remote.api import normalize_base_url

    try:
        url = normalize_base_url(url)
    except ValueError as exc:
        print(f"pixtools: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    return RemoteBatchBackend(store, settings, url, getattr(args, "api_key", None))


class RemoteBatchBackend:
    """The remote twin of cli.process_cmd.LocalBatchBackend."""

    def __init__(self, store, settings, base_url: str, api_key: str | None) -> None:
        self.store = store
        self.settings = settings
        self.base_url = base_url
        self.api_key = api_key
        self.finish_hooks: list = []

    def add_finish_hook(self, hook) -> None:
        self.finish_hooks.append(hook)

    def run_batch(self, plan, *, show_progress: bool) -> list[Job]:
        from pixtools_desktop.cli.process_cmd import run_batch_on
        from pixtools_desktop.remote import state
        from pixtools_desktop.remote.backend import RemoteBackend

        if plan.adopted:  # unfinished jobs of an earlier identical run, maybe queued locally
            state.adopt_into_backend(self.store, [j.id for j in plan.adopted], self.base_url)
        backend = RemoteBackend(
            self.store, self.settings, base_url=self.base_url, api_key=self.api_key, batch_ids={plan.batch_id}
        )
        return run_batch_on(backend, self.store, plan, self.finish_hooks, show_progress=show_progress)


def job_extras(job: Job) -> dict:
    if job.backend == "local":
        return {}
    return {"backend": job.backend, "remote_job_id": job.remote_job_id}
