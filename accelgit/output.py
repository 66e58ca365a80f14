"""Printing helpers shared by the commands: JSON on stdout, tables."""
from __future__ import annotations

import contextlib
import json
import sys


def emit(obj) -> None:
    """One JSON document on stdout (the only thing on stdout with --json)."""
    sys.stdout.write(json.dumps(obj, indent=1, default=str) + "\n")
    sys.stdout.flush()


def table(rows, headers) -> str:
    from tabulate import tabulate   # imported only when a table is printed
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def stdout_to_stderr(enabled: bool):
    """With --json, what build scripts print goes to stderr."""
    return contextlib.redirect_stdout(sys.stderr) if enabled else contextlib.nullcontext()
