"""A fast path for the commands that run on every edit and every commit.

Typer (with its vendored click and pydantic) takes ~100 ms to import, build
the command tree and coerce arguments, more than a no-op ``accelgit build``
itself.  ``parse(args)`` recognises the simple, common spellings of
``build``, ``plan`` and ``hook run`` and returns the arguments Typer would
give the command; entry.py then runs the command's body without importing
Typer.  Anything else -- ``--help``, ``--``, an unknown or malformed option,
a value that looks like an option -- returns None and goes through Typer as
before, so Typer keeps every usage message.

Only the standard library; nothing is imported.  ACCELGIT_FASTPATH=0 turns
the fast path off.
"""
from __future__ import annotations

import os


def _positive_int(text: str) -> int | None:
    """``-j`` values Typer accepts unchanged (``min=1``); others go to Typer."""
    if text.isascii() and text.isdigit() and text[0] != "0":
        return int(text)
    return None


def _parse(args: list[str], flags: dict[str, str], valued: dict[str, str], ints: dict[str, str],
           positional_ok: bool) -> tuple[dict, list[str]] | None:
    """Options anywhere among positionals, as click parses them.  ``flags``,
    ``valued`` and ``ints`` map an option spelling to its parameter name."""
    kw: dict = {}
    pos: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if not a.startswith("-") or a == "-":
            if not positional_ok or a == "-":
                return None
            pos.append(a)
            continue
        if a in flags:
            kw[flags[a]] = True
            continue
        name, value = a, None
        if a.startswith("--") and "=" in a:
            name, value = a.split("=", 1)
        elif not a.startswith("--") and len(a) > 2:
            name, value = a[:2], a[2:]          # -CDIR, -j4
        if name not in valued and name not in ints:
            return None                         # --help, --, unknown: Typer decides
        if value is None:
            if i >= len(args):
                return None
            value = args[i]
            i += 1
        if value.startswith("-") or (value == "" and name in ints):
            return None
        if name in ints:
            n = _positive_int(value)
            if n is None:
                return None
            kw[ints[name]] = n
        else:
            kw[valued[name]] = value
    return kw, pos


def hoist_global_options(argv: list[str]) -> list[str]:
    """``accelgit -C DIR --json CMD ...`` means ``accelgit CMD ... -C DIR --json``."""
    front: list[str] = []
    while argv and (argv[0] == "--json" or argv[0] == "-C" and len(argv) > 1 or argv[0].startswith("-C") and len(argv[0]) > 2):
        n = 2 if argv[0] == "-C" else 1
        front, argv = front + argv[:n], argv[n:]
    return argv + front if front else argv


_COMMON = {"-C": "directory"}


def parse(args: list[str]) -> tuple[str, dict] | None:
    """``(command, kwargs)`` for a simple ``build``/``plan``/``hook run``
    command line (global options already moved behind the command), else None."""
    if os.environ.get("ACCELGIT_FASTPATH") == "0" or "_ACCELGIT_COMPLETE" in os.environ or not args:
        return None
    cmd, rest = args[0], args[1:]
    if cmd == "build":
        got = _parse(rest, {"--json": "as_json"}, _COMMON, {"-j": "jobs", "--jobs": "jobs"}, True)
        if got is None:
            return None
        kw, pos = got
        return "build", {"scripts": pos or None, "jobs": kw.get("jobs"), "directory": kw.get("directory"),
                         "as_json": kw.get("as_json", False)}
    if cmd == "plan":
        got = _parse(rest, {"--json": "as_json", "--staged": "staged", "--exit-code": "exit_code"},
                     {**_COMMON, "--at": "at"}, {}, True)
        if got is None:
            return None
        kw, pos = got
        return "plan", {"scripts": pos or None, "staged": kw.get("staged", False), "at": kw.get("at"),
                        "exit_code": kw.get("exit_code", False), "directory": kw.get("directory"),
                        "as_json": kw.get("as_json", False)}
    if cmd == "hook" and rest[:1] == ["run"]:
        got = _parse(rest[1:], {"--json": "as_json"}, _COMMON, {}, True)
        if got is None or not got[1]:
            return None
        kw, pos = got
        return "hook run", {"name": pos[0], "extra": pos[1:], "directory": kw.get("directory"),
                            "as_json": kw.get("as_json", False)}
    return None
