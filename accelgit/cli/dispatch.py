"""One dispatch and one error handler for every command, whichever parser
(fast.py or Typer's app.py) read the command line: ``dispatch`` opens the
repository, runs the command's function (spec.py names it) and maps what
ends it to an exit code (SPEC §7): an AccelgitError is its one line and its
code, Ctrl-C is 130, a closed stdout is quiet, a bug of ours is one line and
3 (the traceback with ACCELGIT_DEBUG=1)."""
from __future__ import annotations

import os
import sys

from accelgit.core.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, AccelgitError, disk_full


def dispatch(cmd, kw: dict) -> int:
    """Run command ``cmd`` (a spec.Cmd) with its parsed keyword arguments;
    returns the exit code, having printed any error."""
    try:
        return exit_code_of(_call(cmd, dict(kw)))
    except BaseException as e:  # noqa: BLE001 - handle_error re-raises what is not ours
        return handle_error(e)


def _call(cmd, kw: dict):
    import importlib
    module, name = cmd.target.split(":")
    function = getattr(importlib.import_module(module), name)
    directory = kw.pop("directory", None)
    try:
        if not cmd.repo:
            return function(directory=directory, **kw)
        from accelgit.commands.context import open_repo
        repo, config = open_repo(directory)
        return function(repo, config, cwd=os.getcwd(), **kw)
    except EOFError:
        print(file=sys.stderr)
        raise KeyboardInterrupt from None
    except OSError as e:
        import errno
        if e.errno != errno.EPIPE:
            raise
        # stdout was closed (| head): say nothing more, as git does
        sys.stdout, sys.stderr = _QuietFlush(sys.stdout), _QuietFlush(sys.stderr)
        return 1


def exit_code_of(rv) -> int:
    """The exit code a command function's return value stands for (None: 0)."""
    return rv if isinstance(rv, int) and not isinstance(rv, bool) else 0


def handle_error(e: BaseException) -> int:
    """One line on stderr and the exit code of SPEC §7 for an exception that
    ended a command; re-raises what is not ours to handle (SystemExit)."""
    debug = os.environ.get("ACCELGIT_DEBUG") == "1"
    if isinstance(e, KeyboardInterrupt):
        print("accelgit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if isinstance(e, AccelgitError):
        if debug:
            import traceback
            traceback.print_exception(type(e), e, e.__traceback__)
        tb = getattr(e, "traceback", "") or "".join(getattr(f, "traceback", "") for f in getattr(e, "failures", [])[:1])
        if tb:
            sys.stderr.write(tb if tb.endswith("\n") else tb + "\n")
        print(f"accelgit: {e}", file=sys.stderr)
        return e.exit_code
    if isinstance(e, BrokenPipeError):
        return 0
    full = disk_full(e)
    if full is not None:
        print(f"accelgit: {full}", file=sys.stderr)
        return full.exit_code
    if isinstance(e, Exception):     # a bug of ours
        if debug:
            import traceback
            traceback.print_exception(type(e), e, e.__traceback__)
        print(f"accelgit: internal error: {type(e).__name__}: {e} (run with ACCELGIT_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return EXIT_INTERNAL
    raise e


class _QuietFlush:
    """A stream whose flush ignores a closed pipe (click's PacifyFlushWrapper)."""

    def __init__(self, stream):
        self._stream = stream

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as e:
            import errno
            if e.errno != errno.EPIPE:
                raise

    def __getattr__(self, name):
        return getattr(self._stream, name)
