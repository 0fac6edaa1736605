"""Who owns a claim: an identity a restarted process can never reuse.

Why not host:pid: in a container every restart is PID 1, so a claim left by
the dead process looked like our own and stayed PROCESSING forever. A claim
token is `host:pid:start:nonce` — the pid's start time (clock ticks since
boot, from /proc) and a random nonce drawn once per process. A claim is ours
only if the whole token equals ours; a claim by another pid is alive only
while that pid runs *and* (where /proc tells) started at the recorded time.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading

HOST = socket.gethostname()
_lock = threading.Lock()
_token: tuple[int, str] | None = None  # (pid it was made in, token): a forked child makes its own


def _start_ticks(pid: int) -> str:
    """The process start time from /proc/<pid>/stat (field 22), or '' where unavailable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode("ascii", "replace")
    except OSError:
        return ""
    rest = data.rpartition(")")[2].split()  # the command name may contain spaces and ')'
    return rest[19] if len(rest) > 19 else ""


def process_token() -> str:
    """This process's claim identity (made once per process, fresh after a fork)."""
    global _token
    pid = os.getpid()
    with _lock:
        if _token is None or _token[0] != pid:
            _token = (pid, f"{HOST}:{pid}:{_start_ticks(pid)}:{secrets.token_hex(8)}")
        return _token[1]


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def owner_alive(token: str | None) -> bool:
    """False when the claiming process is certainly gone (so its rows may be taken over)."""
    if not token:
        return False
    if token == process_token():
        return True
    parts = token.split(":")
    if len(parts) >= 4:  # host:pid:start:nonce (a host name has no ':')
        host, pid_s, start = ":".join(parts[:-3]), parts[-3], parts[-2]
    else:  # legacy host:pid (before migration to tokens)
        host, _, pid_s = token.rpartition(":")
        start = ""
    if host != HOST:
        return True  # another machine's process: not ours to judge
    try:
        pid = int(pid_s)
    except ValueError:
        return False
    if pid == os.getpid():
        return False  # our pid but not our token: an earlier process (a container restart)
    if not _pid_running(pid):
        return False
    if start:
        now = _start_ticks(pid)
        if now and now != start:
            return False  # the pid was reused by another process
    return True
