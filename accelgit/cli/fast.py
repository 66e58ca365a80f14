"""The fast path: the simple command lines of the commands that run on every
edit and every commit (``spec.Cmd.fast``: build, plan, hook run), parsed from
spec.py without importing Typer.

Typer (with its vendored click) costs more to import and to parse a command
line than a no-op ``accelgit build`` itself (docs/benchmarks.md).  ``parse``
recognises options and arguments as click would parse them; anything else
(``--help``, ``--``, an unknown or malformed option, a value that looks like
an option) returns None and goes to Typer, which keeps every usage message.
tests/cli/test_fast.py checks, for every option of every fast command, that
both ways give the same keyword arguments.  ACCELGIT_FASTPATH=0 turns it off.

Only the standard library.
"""
from __future__ import annotations

import os

from accelgit.cli import spec


def _positive_int(text: str) -> int | None:
    """Values Typer accepts unchanged for an ``int`` option (``min=1``); others go to Typer."""
    if text.isascii() and text.isdigit() and text[0] != "0":
        return int(text)
    return None


def hoist_global_options(argv: list[str]) -> list[str]:
    """``accelgit -C DIR --json CMD ...`` means ``accelgit CMD ... -C DIR --json``."""
    front: list[str] = []
    while argv and (argv[0] == "--json" or argv[0] == "-C" and len(argv) > 1 or argv[0].startswith("-C") and len(argv[0]) > 2):
        n = 2 if argv[0] == "-C" else 1
        front, argv = front + argv[:n], argv[n:]
    return argv + front if front else argv


def parse(args: list[str]) -> tuple[spec.Cmd, dict] | None:
    """``(command, keyword arguments)`` for a simple command line of a fast
    command (global options already moved behind it), else None."""
    if os.environ.get("ACCELGIT_FASTPATH") == "0" or "_ACCELGIT_COMPLETE" in os.environ or not args:
        return None
    cmd = spec.find(args)
    if cmd is None or not cmd.fast:
        return None
    by_flag = {f: o for o in spec.options(cmd) for f in o.flags}
    kw = spec.defaults(cmd)
    pos: list[str] = []
    rest = args[len(cmd.words):]
    i = 0
    while i < len(rest):
        a = rest[i]
        i += 1
        if not a.startswith("-") or a == "-":
            if a == "-":
                return None
            pos.append(a)
            continue
        name, value = a, None
        if a.startswith("--") and "=" in a:
            name, value = a.split("=", 1)
        elif not a.startswith("--") and len(a) > 2:
            name, value = a[:2], a[2:]          # -CDIR, -j4
        o = by_flag.get(name)
        if o is None or o.kind == "strs":
            return None                         # --help, --, unknown: Typer decides
        if o.kind == "flag":
            if value is not None:
                return None
            kw[o.dest] = True
            continue
        if value is None:
            if i >= len(rest):
                return None
            value = rest[i]
            i += 1
        if value.startswith("-") or (value == "" and o.kind == "int"):
            return None
        if o.kind == "int":
            n = _positive_int(value)
            if n is None or n < o.minimum:
                return None
            kw[o.dest] = n
        else:
            kw[o.dest] = value
    arguments = spec.arguments(cmd)
    for a in arguments:
        if a.many:
            kw[a.dest], pos = pos, []
        elif pos:
            kw[a.dest] = pos.pop(0)
        elif a.required:
            return None
    return (cmd, kw) if not pos else None
