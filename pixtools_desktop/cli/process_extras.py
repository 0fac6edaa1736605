"""The cloud and remote parts of `pixtools process`, in one list.

The cloud sinks (`--upload`, `--webhook`, cli/cloud_hooks.py) and the remote
backend (`--backend URL`, cli/remote_hooks.py) each add to the command through
a hook module with any of:
- `add_arguments(parser)`                      add its flags
- `make_backend(args, store, settings)`        return a batch backend, or None
- `attach(args, backend, store, settings)`     e.g. add finish hooks to the backend
- `finalize(args, store, settings, jobs)`      wait for uploads/deliveries before the summary
- `job_extras(job) -> dict`                    extra fields for the summary and --json
"""

from __future__ import annotations

from types import ModuleType

from pixtools_desktop.cli import cloud_hooks, remote_hooks

HOOKS: tuple[ModuleType, ...] = (cloud_hooks, remote_hooks)


def _modules() -> tuple[ModuleType, ...]:
    return HOOKS


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
