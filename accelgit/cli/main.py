"""The ``accelgit`` entry point.

``main`` moves global options behind the command, lets the fast parser
(fast.py) take the simple command lines of ``build``, ``plan`` and ``hook
run``, and hands everything else to Typer (app.py).  Both end in
``dispatch.dispatch``.  Nothing heavy is imported at module level.
"""
from __future__ import annotations

import sys

from accelgit._interrupt import uninstall
from accelgit.cli.dispatch import dispatch, handle_error


def main(argv: list[str] | None = None) -> int:
    try:
        uninstall()     # Ctrl-C while starting was one line (accelgit/_interrupt.py); now KeyboardInterrupt
        args = list(sys.argv[1:] if argv is None else argv)
        if args == ["--version"]:
            from accelgit import __version__
            print(f"accelgit {__version__}")
            return 0
        from accelgit.cli.fast import hoist_global_options, parse
        args = hoist_global_options(args)
        hit = parse(args)
        if hit is not None:
            return dispatch(*hit)
        from accelgit.cli.app import run
        return run(args)
    except BaseException as e:  # noqa: BLE001 - Ctrl-C while starting; handle_error re-raises SystemExit
        return handle_error(e)


def entry() -> None:
    sys.exit(main())
