"""Printing helpers shared by the commands: JSON on stdout, tables."""
from __future__ import annotations

import contextlib
import json
import sys


def emit(obj) -> None:
    """One JSON document on stdout (the only thing on stdout with --json).
    Streamed: the same bytes as json.dumps, without a second copy of a big
    document (a 10,000-job plan) in memory."""
    json.dump(obj, sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")
    sys.stdout.flush()


def table(rows, headers) -> str:
    from tabulate import tabulate   # imported only when a table is printed
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


@contextlib.contextmanager
def stdout_to_stderr(enabled: bool):
    """With --json, what build scripts print goes to stderr: ``print`` and also
    writes to file descriptor 1 (subprocesses, C code)."""
    if not enabled:
        yield
        return
    import os
    sys.stdout.flush()
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:             # no real fd 1: Python-level only
        saved = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)
