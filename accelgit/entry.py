"""The ``accelgit`` entry point, and the bodies of the commands that run on
every edit and every commit (``build``, ``plan``, ``hook run``).

Typer (with its vendored click and pydantic) costs ~40 ms to import and ~60 ms
more to parse a command line: more than a no-op ``accelgit build`` itself.
So ``main`` looks at the command line first (fastargs.py): a simple ``build``,
``plan`` or ``hook run`` runs its body below directly, without importing
Typer; everything else (``--help``, other commands, anything fastargs does not
know) goes to ``cli.main``, which parses with Typer and calls the very same
bodies (cli.py's ``build``/``plan``/``hook_run`` only delegate here).  Both
paths end in ``finish``/``handle_error``: same output, same exit codes
(tests/test_fastpath.py runs both).  ACCELGIT_FASTPATH=0 always uses Typer.

Nothing heavy is imported at module level.
"""
from __future__ import annotations

import os
import sys

from .errors import EXIT_INTERNAL, EXIT_INTERRUPTED, AccelgitError


# --------------------------------------------------------------- shared by cli.py

def open_repo(directory: str | None):
    """The repo and config of the current folder, or of ``-C DIR``."""
    from .config import load_config
    from .gitrepo import find_repo
    if directory:
        # like git -C: run as if started in DIR, so relative JOB/FILE paths are relative to it
        if not os.path.isdir(directory):
            from .errors import UsageError
            raise UsageError(f"-C {directory}: no such directory")
        os.chdir(directory)
    repo = find_repo(".")
    return repo, load_config(repo.root)


def cwd_of(directory: str | None) -> str:
    return os.getcwd()                # open_repo has already moved into DIR


def build_cmd(scripts: list[str] | None, jobs: int | None, directory: str | None, as_json: bool) -> int:
    """``accelgit build``."""
    from .output import emit, stdout_to_stderr
    from .session import run_build
    repo, config = open_repo(directory)
    tty = sys.stderr.isatty()
    progress = None
    if tty:
        from .progress import Progress
        progress = Progress()
    with stdout_to_stderr(as_json):
        session = run_build(repo, config, scripts, jobs_n=jobs, progress=progress,
                            live=progress.show_output if progress else None, cwd=cwd_of(directory))
    recs = session.records
    if as_json:
        emit({"jobs": [{k: r[k] for k in ("id", "method", "name", "action", "path", "seconds")} for r in recs]})
        return 0
    built = [r for r in recs if r["action"] == "built"]
    for r in built:
        print(f"built  {os.path.basename(r['path'])}  {r['seconds']:.2f}s")
    reused = sum(1 for r in recs if r["action"] == "reused")
    print(f"{len(built)} built, {reused} reused ({len(recs)} jobs)")
    return 0


def plan_cmd(scripts: list[str] | None, staged: bool, at: str | None, exit_code: bool,
             directory: str | None, as_json: bool) -> int:
    """``accelgit plan``."""
    from .plan import plan_command
    repo, config = open_repo(directory)
    return plan_command(repo, config, scripts, staged=staged, at=at, exit_code=exit_code,
                        as_json=as_json, cwd=cwd_of(directory))


def hook_run_cmd(name: str, args: list[str], directory: str | None, as_json: bool) -> int:
    """``accelgit hook run NAME [ARGS...]``."""
    from .hooks import run_hook_command
    return run_hook_command(name, list(args), directory=directory, as_json=as_json)


# --------------------------------------------------------------- ending a command

def finish(rv) -> int:
    """The exit code of a command's return value (Typer hands Ctrl-C back as 130)."""
    if rv == EXIT_INTERRUPTED:
        print("accelgit: interrupted", file=sys.stderr)
    return rv if isinstance(rv, int) and not isinstance(rv, bool) else 0


def handle_error(e: BaseException) -> int:
    """One line on stderr and the exit code of SPEC §7 for an exception that
    ended a command; re-raises what is not ours to handle (SystemExit)."""
    if isinstance(e, KeyboardInterrupt):
        print("accelgit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if isinstance(e, AccelgitError):
        if os.environ.get("ACCELGIT_DEBUG") == "1":
            import traceback
            traceback.print_exception(type(e), e, e.__traceback__)
        tb = getattr(e, "traceback", "") or "".join(getattr(f, "traceback", "") for f in getattr(e, "failures", [])[:1])
        if tb:
            sys.stderr.write(tb if tb.endswith("\n") else tb + "\n")
        print(f"accelgit: {e}", file=sys.stderr)
        return e.exit_code
    if isinstance(e, BrokenPipeError):
        return 0
    if isinstance(e, Exception):     # a bug of ours
        if os.environ.get("ACCELGIT_DEBUG") == "1":
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


def _run_fast(name: str, kw: dict):
    """Run a command body the way Typer's main runs a command (typer/core.py
    ``_main``, standalone_mode=False): EOF aborts, Ctrl-C returns 130, a closed
    stdout exits 1 quietly."""
    try:
        if name == "build":
            return build_cmd(**kw)
        if name == "plan":
            return plan_cmd(**kw)
        return hook_run_cmd(kw["name"], kw["extra"], kw["directory"], kw["as_json"])
    except EOFError:
        print(file=sys.stderr)
        raise KeyboardInterrupt from None     # Typer: Abort -> "accelgit: interrupted"
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except OSError as e:
        import errno
        if e.errno != errno.EPIPE:
            raise
        sys.stdout, sys.stderr = _QuietFlush(sys.stdout), _QuietFlush(sys.stderr)
        sys.exit(1)


def main(argv: list[str] | None = None) -> int:
    from .fastargs import hoist_global_options, parse
    args = hoist_global_options(list(argv if argv is not None else sys.argv[1:]))
    hit = parse(args)
    if hit is None:
        from .cli import main as typer_main
        return typer_main(args)
    try:
        return finish(_run_fast(*hit))
    except BaseException as e:  # noqa: BLE001 - handle_error re-raises what is not ours
        return handle_error(e)


def entry() -> None:
    sys.exit(main())
