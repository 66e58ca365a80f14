"""The ``accelgit`` command line.  Thin: parse, call the core, print.

Heavy modules are imported inside the commands, so ``accelgit hook run`` and
``--help`` start fast.  Errors become one line and an exit code (SPEC §7) in
``main``; tracebacks only with ACCELGIT_DEBUG=1.
"""
from __future__ import annotations

import sys
from typing import Annotated, List, Optional

import typer

from .errors import EXIT_INTERRUPTED

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Build jobs the Accelerator's way, tied to git: build, plan, verify, report.")
hooks_app = typer.Typer(no_args_is_help=True, help="Install, remove or inspect accelgit's git hooks.")
hook_app = typer.Typer(no_args_is_help=True, help="What an installed git hook calls.")
app.add_typer(hooks_app, name="hooks")
app.add_typer(hook_app, name="hook")

Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
Dir = Annotated[Optional[str], typer.Option("-C", metavar="DIR", help="Run as if started in DIR.")]
Scripts = Annotated[Optional[List[str]], typer.Argument(metavar="[SCRIPT]...", help="Build scripts (default: the configured globs).")]


# -C DIR handling and the bodies of build/plan/hook run live in entry.py, the
# entry point, which runs simple build/plan/hook run command lines without
# importing Typer at all; the commands below only delegate to them.
from .entry import cwd_of as _cwd, open_repo as _open  # noqa: E402
from .output import emit, table as _table  # noqa: E402


# --------------------------------------------------------------- init / build

@app.command()
def init(directory: Dir = None, as_json: Json = False):
    """Write accelgit.toml, methods/, an example build.py and a .gitignore entry."""
    from .initcmd import init_repo
    repo, _ = _open(directory)
    written = init_repo(repo.root)
    if as_json:
        emit({"root": repo.root, "written": written})
    else:
        for w in written:
            print(f"wrote {w}")
        if not written:
            print("nothing to do: accelgit is already set up here")


@app.command()
def build(scripts: Scripts = None,
          jobs: Annotated[Optional[int], typer.Option("-j", "--jobs", min=1, help="Jobs in parallel (default: number of cores).")] = None,
          directory: Dir = None, as_json: Json = False):
    """Run build scripts: build what is missing, reuse the rest."""
    from .entry import build_cmd      # the body (also run without Typer: see entry.py)
    raise typer.Exit(build_cmd(scripts, jobs, directory, as_json))


# --------------------------------------------------------------- inspect

@app.command()
def show(job: Annotated[str, typer.Argument(help="Job id, unique prefix, directory name or path.")],
         directory: Dir = None, as_json: Json = False):
    """Show one job: parameters, inputs, sources, git metadata, result, files."""
    from .inspect_cmd import show_job
    repo, config = _open(directory)
    show_job(repo, config, job, as_json=as_json, emit=emit)


@app.command("log")
def log_(method: Annotated[Optional[str], typer.Option("--method", help="Only jobs of this method.")] = None,
         limit: Annotated[int, typer.Option("-n", "--limit", help="At most this many (newest first).")] = 50,
         directory: Dir = None, as_json: Json = False):
    """List built jobs, newest first."""
    from .inspect_cmd import list_jobs
    repo, config = _open(directory)
    rows = list_jobs(repo, config, method=method, limit=limit)
    if as_json:
        emit({"jobs": rows})
        return
    if not rows:
        print("no jobs yet")
        return
    print(_table([[r["built_at"][:19].replace("T", " ") if r["built_at"] else "", r["dirname"], r["name"],
                   (r["git_commit"] or "-")[:10] + ("*" if r["dirty"] else ""), r["workdir"]] for r in rows],
                 ["built", "job", "name", "commit", "workdir"]))


# --------------------------------------------------------------- plan / verify / report

@app.command()
def plan(scripts: Scripts = None,
         staged: Annotated[bool, typer.Option("--staged", help="Plan the index: exactly what a commit would hold.")] = False,
         at: Annotated[Optional[str], typer.Option("--at", metavar="REV", help="Plan any commit, branch or tag, without checkout.")] = None,
         exit_code: Annotated[bool, typer.Option("--exit-code", help="Exit 1 when anything would be built.")] = False,
         directory: Dir = None, as_json: Json = False):
    """Dry run: every job the scripts would use, reuse or build, and why."""
    from .entry import plan_cmd       # the body (also run without Typer: see entry.py)
    raise typer.Exit(plan_cmd(scripts, staged, at, exit_code, directory, as_json))


@app.command()
def verify(jobs: Annotated[Optional[List[str]], typer.Argument(metavar="[JOB]...", help="Jobs: id, prefix, directory name or path.")] = None,
           all_jobs: Annotated[bool, typer.Option("--all", help="Every job in every workdir.")] = False,
           script: Annotated[Optional[List[str]], typer.Option("--script", help="The jobs a build script uses (repeatable).")] = None,
           at: Annotated[Optional[str], typer.Option("--at", metavar="REV", help="Check currency against this commit.")] = None,
           rerun: Annotated[bool, typer.Option("--rerun", help="Rebuild each job in a scratch folder and compare.")] = False,
           strict: Annotated[bool, typer.Option("--strict", help="Jobs built from uncommitted content fail.")] = False,
           directory: Dir = None, as_json: Json = False):
    """Check stored jobs: integrity, identity, currency, provenance, reproducibility."""
    from .verify import verify_command
    repo, config = _open(directory)
    raise typer.Exit(verify_command(repo, config, jobs or [], all_jobs=all_jobs, scripts=script or [], at=at,
                                    rerun=rerun, strict=strict, as_json=as_json, cwd=_cwd(directory)))


@app.command()
def report(base: Annotated[str, typer.Option("--base", metavar="REV", help="The revision the change starts from.")],
           head: Annotated[Optional[str], typer.Option("--head", metavar="REV", help="The changed revision (default: HEAD).")] = None,
           staged: Annotated[bool, typer.Option("--staged", help="Compare with the index instead of a commit.")] = False,
           fmt: Annotated[str, typer.Option("--format", help="markdown, json or html.")] = "markdown",
           output: Annotated[Optional[str], typer.Option("-o", "--output", metavar="FILE", help="Write here instead of stdout.")] = None,
           directory: Dir = None, as_json: Json = False):
    """Code-review report of which jobs a change invalidates, and why."""
    from .report import report_command
    repo, config = _open(directory)
    raise typer.Exit(report_command(repo, config, base=base, head=head, staged=staged,
                                    fmt="json" if as_json else fmt, output=output, cwd=_cwd(directory)))


# --------------------------------------------------------------- hooks

HookNames = Annotated[Optional[List[str]], typer.Option("--hook", help="pre-commit, post-merge or post-checkout (repeatable; default: all three).")]


@hooks_app.command("install")
def hooks_install(hook: HookNames = None, directory: Dir = None, as_json: Json = False):
    """Install accelgit's git hooks (a hook you already have is kept and still runs)."""
    from .hooks import install_command
    repo, config = _open(directory)
    raise typer.Exit(install_command(repo, config, hook or [], as_json=as_json))


@hooks_app.command("uninstall")
def hooks_uninstall(hook: HookNames = None, directory: Dir = None, as_json: Json = False):
    """Remove accelgit's git hooks and put back any hook they replaced."""
    from .hooks import uninstall_command
    repo, config = _open(directory)
    raise typer.Exit(uninstall_command(repo, config, hook or [], as_json=as_json))


@hooks_app.command("status")
def hooks_status(directory: Dir = None, as_json: Json = False):
    """Which accelgit hooks are installed, where, and their policies."""
    from .hooks import status_command
    repo, config = _open(directory)
    raise typer.Exit(status_command(repo, config, as_json=as_json))


@hook_app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def hook_run(ctx: typer.Context,
             name: Annotated[str, typer.Argument(help="pre-commit, post-merge or post-checkout.")],
             directory: Dir = None, as_json: Json = False):
    """Run one hook now (what the installed hook scripts call)."""
    from .entry import hook_run_cmd   # the body (also run without Typer: see entry.py)
    raise typer.Exit(hook_run_cmd(name, list(ctx.args), directory, as_json))


# --------------------------------------------------------------- which / gc

@app.command()
def which(file: Annotated[str, typer.Argument(help="A file inside a job directory.")],
          directory: Dir = None, as_json: Json = False):
    """Which job made FILE."""
    from .inspect_cmd import which_file
    repo, config = _open(directory)
    which_file(repo, config, file, as_json=as_json, emit=emit)


@app.command()
def gc(dry_run: Annotated[bool, typer.Option("--dry-run", "-n", help="Only say what would be removed.")] = False,
       directory: Dir = None, as_json: Json = False):
    """Remove failed builds, leftover temp folders, and jobs no build script uses."""
    from .gc import gc_command
    repo, config = _open(directory)
    raise typer.Exit(gc_command(repo, config, dry_run=dry_run, as_json=as_json))


# --------------------------------------------------------------- entry point

def _is_click_error(e: BaseException) -> bool:
    """Click's (or Typer's vendored click's) usage errors, without importing click."""
    return callable(getattr(e, "show", None)) and isinstance(getattr(e, "exit_code", None), int)


def main(argv: list[str] | None = None) -> int:
    """The Typer path (entry.main sends here what it does not run itself)."""
    from .entry import finish, handle_error
    from .fastargs import hoist_global_options
    try:
        args = hoist_global_options(list(argv if argv is not None else sys.argv[1:]))
        rv = typer.main.get_command(app).main(args=args, prog_name="accelgit", standalone_mode=False)
        # without standalone mode, click returns the code of a raised typer.Exit
        return finish(rv)
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        print("accelgit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - a usage error if click says so, else handle_error's
        if _is_click_error(e):
            e.show()
            return e.exit_code
        return handle_error(e)
    except BaseException as e:  # noqa: BLE001 - Ctrl-C; handle_error re-raises SystemExit
        return handle_error(e)


def entry() -> None:
    from .entry import main as fast_main   # the fast path first, Typer for the rest
    sys.exit(fast_main())


if __name__ == "__main__":
    entry()
