"""Printing helpers shared by the commands: JSON on stdout, tables."""
from __future__ import annotations

import contextlib
import json
import sys


def emit(obj) -> None:
    """One JSON document on stdout (the only thing on stdout with --json).
    The same bytes as json.dumps(obj, indent=1, default=str), written in 64 KB
    pieces: no second copy of a big document (a 10,000-job plan) in memory,
    and few writes even when stdout is unbuffered (PYTHONUNBUFFERED)."""
    write = sys.stdout.write
    buf: list[str] = []
    size = 0
    for chunk in json.JSONEncoder(indent=1, default=str).iterencode(obj):
        buf.append(chunk)
        size += len(chunk)
        if size > 65536:
            write("".join(buf))
            buf.clear()
            size = 0
    buf.append("\n")
    write("".join(buf))
    sys.stdout.flush()


def table(rows, headers) -> str:
    if isinstance(rows, (list, tuple)):
        from .fasttable import simple_table
        text = simple_table(rows, headers)      # tabulate's output, byte for byte, for plain text
        if text is not None:
            return text
    from tabulate import tabulate   # imported only when a table needs it
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
