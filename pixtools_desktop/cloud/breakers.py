"""One pybreaker circuit breaker per webhook host, shared by the whole process.

Why per host: a studio's dead endpoint must not delay deliveries to a
healthy one, and `pixtools health` must show each target's state. The
registry remembers every state change (for the log, health and tests).
Failures that count: connection errors, timeouts, 5xx, 408 and 429. A
permanent 4xx (the host answered, it just refuses this delivery) is excluded,
as pybreaker's `exclude` defines: it counts as the host being reachable.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import pybreaker

log = logging.getLogger(__name__)


class DeliveryRejected(Exception):
    """A permanent 4xx: do not retry, and do not hold it against the host."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class DeliveryFailed(Exception):
    """A failure worth retrying (network, timeout, 5xx, 408, 429); counts against the breaker."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _Recorder(pybreaker.CircuitBreakerListener):
    def __init__(self, host: str) -> None:
        self.host = host
        self.transitions: list[tuple[str, str]] = []

    def state_change(self, cb, old_state, new_state) -> None:  # type: ignore[no-untyped-def]
        old = old_state.name if old_state is not None else "none"
        self.transitions.append((old, new_state.name))
        log.warning(
            "webhook circuit breaker changed state", extra={"host": self.host, "from": old, "to": new_state.name}
        )


_lock = threading.Lock()
_breakers: dict[str, tuple[pybreaker.CircuitBreaker, _Recorder]] = {}


def get_breaker(host: str, fail_max: int = 5, reset_timeout: float = 60) -> pybreaker.CircuitBreaker:
    """The host's breaker; its limits follow the latest settings."""
    with _lock:
        entry = _breakers.get(host)
        if entry is None:
            rec = _Recorder(host)
            cb = pybreaker.CircuitBreaker(
                fail_max=fail_max,
                reset_timeout=reset_timeout,
                exclude=[DeliveryRejected],
                listeners=[rec],
                name=f"webhook:{host}",
                throw_new_error_on_trip=False,
            )
            _breakers[host] = (cb, rec)
            return cb
        cb = entry[0]
        if cb.fail_max != fail_max:
            cb.fail_max = fail_max
        if cb.reset_timeout != reset_timeout:
            cb.reset_timeout = reset_timeout
        return cb


def states() -> dict[str, str]:
    """host -> 'closed' / 'open' / 'half-open' (pybreaker's words)."""
    with _lock:
        return {host: cb.current_state for host, (cb, _) in _breakers.items()}


def transitions(host: str) -> list[tuple[str, str]]:
    with _lock:
        entry = _breakers.get(host)
        return list(entry[1].transitions) if entry else []


def reopen_at(cb: pybreaker.CircuitBreaker) -> float:
    """Epoch seconds when an open breaker lets a trial call through."""
    opened = cb._state_storage.opened_at or datetime.now(UTC)  # pybreaker has no public getter
    return opened.timestamp() + float(cb.reset_timeout)


def reset_all() -> None:
    """Forget every breaker (tests; a settings change in the window)."""
    with _lock:
        _breakers.clear()
