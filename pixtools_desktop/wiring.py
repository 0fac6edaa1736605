"""Where the layers meet: the one place that hands core what the higher layers provide.

Core knows nothing above it. The model loader (ml) and the health checks of
the model, the cloud sinks and the remote backend are passed in as plain
callables; the window, the CLI and `serve` take them from here, as vorta's
``application.py`` wires its parts. Imports stay inside the functions so
that `pixtools --version` does not load boto3 or the model package.
"""

from __future__ import annotations

from typing import Any

from pixtools_desktop.core.health import HealthCheck
from pixtools_desktop.core.settings import Settings


def denoiser_factory(settings: Settings) -> Any:
    """The model lane's denoiser (ml.get_denoiser); pass it as ``denoiser_factory=``."""
    from pixtools_desktop.ml import get_denoiser

    return get_denoiser(settings)


def health_checks() -> tuple[HealthCheck, ...]:
    """The checks of the layers above core, in report order."""
    from pixtools_desktop.cloud.health import check_cloud
    from pixtools_desktop.ml.health import check_model
    from pixtools_desktop.remote.health import check_remote

    return (check_model, check_cloud, check_remote)


def health_report(settings: Settings) -> dict:
    """`pixtools health` and the window's health dialog: core's report with every layer's checks."""
    from pixtools_desktop.core.health import health_report as core_report

    return core_report(settings, health_checks())
