"""Kept for git hooks installed before the layered package: they run
``from accelgit.hook_run import main; sys.exit(main())`` with the hook's name
and git's arguments.  ``accelgit hooks install`` writes the current script."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from accelgit.cli.main import main as cli_main
    return cli_main(["hook", "run", *(sys.argv[1:] if argv is None else argv)])
