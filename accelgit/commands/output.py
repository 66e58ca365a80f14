"""Printing shared by the commands: JSON and long text on stdout, and what
build scripts print kept off stdout under --json."""
from __future__ import annotations

import contextlib
import json
import sys


def write_pieces(pieces, sep: str = "") -> None:
    """Write the strings ``pieces`` to stdout in ~64 KB writes, each followed by
    ``sep``; without ``sep``, one newline at the end.  Nothing is held whole (a
    10,000-job plan), and writes stay few even when stdout is unbuffered."""
    write = sys.stdout.write
    buf: list[str] = []
    size = 0
    for piece in pieces:
        buf.append(piece)
        if sep:
            buf.append(sep)
        size += len(piece)
        if size > 65536:
            write("".join(buf))
            buf.clear()
            size = 0
    if not sep:
        buf.append("\n")
    write("".join(buf))
    sys.stdout.flush()


def write_document(text: str, output: str | None, cwd: str | None, what: str) -> None:
    """``text`` on stdout, or into file ``output`` (relative to ``cwd``),
    whole or not at all, saying so on stderr (``accelgit: WHAT written to FILE``)."""
    if not output:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    import os

    from accelgit.core.errors import UsageError
    path = os.path.join(cwd or os.getcwd(), output)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise UsageError(f"-o {output}: cannot write: {e.strerror or e}") from None
    print(f"accelgit: {what} written to {output}", file=sys.stderr)


def emit(obj) -> None:
    """One JSON document on stdout (the only thing on stdout with --json): the
    bytes of json.dumps(obj, indent=1, default=str) and a newline."""
    write_pieces(json.JSONEncoder(indent=1, default=str).iterencode(obj))


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
