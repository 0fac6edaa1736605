"""Extension points of `pixtools process` for the optional layers.

The cloud sinks (`--upload`, `--webhook`) and the remote backend
(`--backend URL`) live in their own packages; each may provide a
`cli_hooks` module with any of:
- `add_arguments(parser)`                      add its flags
- `make_backend(args, store, settings)`        return a batch backend, or None
- `attach(args, backend, store, settings)`     e.g. add finish hooks to the backend
- `finalize(args, store, settings, jobs)`      wait for uploads/deliveries before the summary
- `job_extras(job) -> dict`                    extra fields for the summary and --json
"""

from __future__ import annotations

import importlib
from types import ModuleType

HOOK_MODULES = ("pixtools_desktop.cloud.cli_hooks", "pixtools_desktop.remote.cli_hooks")


def _modules() -> list[ModuleType]:
    mods = []
    for name in HOOK_MODULES:
        try:
            mods.append(importlib.import_module(name))
        except ImportError as exc:
            if exc.name != name and not name.startswith(str(exc.name)):
                raise
    return mods


def add_arguments(parser) -> None:
    for m in _modules():
        if hasattr(m, "add_arguments"):
            m.add_arguments(parser)


def make_backend(args, store, settings):
    from pixtools_desktop.cli.process_cmd import LocalBatchBackend

    backend = None
    for m in _modules():
        if hasattr(m, "make_backend"):
            backend = m.make_backend(args, store, settings) or backend
    backend = backend or LocalBatchBackend(store, settings)
    for m in _modules():
        if hasattr(m, "attach"):
            m.attach(args, backend, store, settings)
    return backend


def finalize(args, store, settings, jobs) -> None:
    for m in _modules():
        if hasattr(m, "finalize"):
            m.finalize(args, store, settings, jobs)


def job_extras(job) -> dict:
    extra: dict = {}
    for m in _modules():
        if hasattr(m, "job_extras"):
            extra.update(m.job_extras(job) or {})
    return extra
