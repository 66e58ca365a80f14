"""Fault-injection points for the tests (a kill lands in a pause), off unless
their variable is set."""
from __future__ import annotations

import os


def pause(var: str) -> None:
    """Sleep ``$var`` seconds.  With ACCELGIT_TEST_PAUSE_LOG set, say in that
    file when the pause began and ended (``<var> <pid> begin|end``), so that a
    test can tell a process stopped mid-pause from one that was waited for."""
    secs = os.environ.get(var)
    if not secs:
        return
    import time
    log = os.environ.get("ACCELGIT_TEST_PAUSE_LOG")
    if log:
        _say(log, f"{var} {os.getpid()} begin\n")
    time.sleep(float(secs))
    if log:
        _say(log, f"{var} {os.getpid()} end\n")


def _say(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
