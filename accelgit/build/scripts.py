"""Build scripts: finding them (the names given, else the configured globs),
and running ``main(urd)`` for a session, which decides what ``urd.build``
does with each job (``build``: scheduler.py; ``plan``: plan/engine.py)."""
from __future__ import annotations

import contextlib
import fnmatch
import os
import sys
import threading
import traceback

from accelgit.api.accelerator_name import NotSupported
from accelgit.api.accelerator_name import install as install_accelerator
from accelgit.api.job import Job
from accelgit.api.spec import JobSpec
from accelgit.api.urd import Urd
from accelgit.build.repoimport import RepoImporter
from accelgit.core.errors import AccelgitError, PlanStopped, ScriptError, UsageError
from accelgit.core.packages import module_of
from accelgit.methods.registry import Methods
from accelgit.store.workdir import Store


def _utf8_name(rel: str) -> str:
    """A build script's repo path, refused unless it is UTF-8 text: its name
    is stored in job.json, the index and the run records."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        shown = rel.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
        raise UsageError(f"{shown}: a build script's file name must be UTF-8 text; rename it") from None
    return rel


def find_scripts(view, config, args: list[str] | None, cwd: str | None = None) -> list[str]:
    """Repo paths of the build scripts to run: those named, else the configured globs."""
    repo = view.repo
    if args:
        out = []
        for a in args:
            rel = repo.relpath(os.path.join(cwd or os.getcwd(), a))
            if not view.exists(rel):
                raise UsageError(f"build script '{a}' does not exist ({view.label})")
            out.append(_utf8_name(rel))
        return out
    if view.kind == "worktree":
        import glob
        candidates = None
    else:
        candidates = view.paths()
    out = []
    for pattern in config.scripts:
        if candidates is None:
            hits = sorted(os.path.relpath(p, repo.root).replace(os.sep, "/")
                          for p in glob.glob(os.path.join(repo.root, pattern)) if os.path.isfile(p))
        else:
            depth = pattern.count("/")
            hits = sorted(p for p in candidates if p.count("/") == depth and fnmatch.fnmatchcase(p, pattern))
        out.extend(_utf8_name(h) for h in hits if h not in out)
    if not out:
        raise UsageError(f"no build script found ({view.label}): looked for {', '.join(config.scripts)}")
    return out


class Session:
    """Shared by build and plan: the view, the methods, the store."""

    passthrough: tuple = ()         # exceptions that stop a script without being its error

    def __init__(self, repo, config, view):
        self.repo, self.config, self.view = repo, config, view
        self.store = Store(config)
        self.methods = Methods(view, config.methods)
        self.records: list[dict] = []      # one per distinct job, in first-use order
        self.warnings: list[str] = []      # urd.warn's lines: a build shows them at its end
        self._lock = threading.Lock()
        self.pid = os.getpid()

    def stop_forked_child(self, where: str) -> None:
        """In a process a build script forked (``os.fork()`` and the child went
        on): it must not run the rest of the build (the build's threads, its
        locks and its fork server are the parent's).  One line, and it ends."""
        if os.getpid() != self.pid:
            sys.stderr.write(f"accelgit: {where}: a process the build script forked (os.fork) went on into "
                             f"the build; it stops here (the build goes on in the parent)\n")
            sys.stderr.flush()
            os._exit(1)

    def script_filename(self, script: str) -> str:
        if self.view.kind == "worktree":
            return os.path.join(self.repo.root, *script.split("/"))
        return f"{self.view.label[:12]}:{script}"

    def run_script(self, script: str) -> Urd:
        try:
            code = self.view.read(script)
        except OSError as e:
            raise ScriptError(f"{script}: cannot be read: {e.strerror or e}") from None
        filename = self.script_filename(script)
        try:
            compiled = compile(code, filename, "exec", dont_inherit=True)
        except SyntaxError as e:
            raise ScriptError(f"{script}:{e.lineno}: syntax error: {e.msg}") from None
        pkg, modname = module_of(script)
        ns = {"__name__": "accelgit_build_script", "__file__": filename}
        importer = contextlib.nullcontext()
        if pkg:     # run as the Accelerator runs it: module F.build_x of package F (issue 16)
            import importlib.machinery
            ns.update(__name__=modname, __package__=pkg,
                      __spec__=importlib.machinery.ModuleSpec(modname, None, origin=filename))
            importer = RepoImporter({pkg}, self.view.exists, self.view.read, self.script_filename)
        install_accelerator()       # "import accelerator" is accelgit's compatibility layer
        urd = Urd(self, script)
        script_dir = os.path.dirname(filename)
        added = self.view.kind == "worktree" and script_dir not in sys.path
        if added:
            sys.path.insert(0, script_dir)
        try:
            with importer:
                return self._run_main(script, filename, compiled, ns, urd)
        finally:
            if added:
                sys.path.remove(script_dir)

    def _run_main(self, script: str, filename: str, compiled, ns: dict, urd: Urd) -> Urd:
        """Load the script, then run its main(urd); its errors as one line each."""
        try:
            exec(compiled, ns)
        except AccelgitError:
            raise
        except SystemExit as e:
            if e.code not in (None, 0):
                raise _exit_error(script, filename, e) from None
            return urd                  # sys.exit(0) while loading: a script with nothing to build
        except Exception as e:  # noqa: BLE001
            raise _script_error(script, filename, e) from None
        main = ns.get("main")
        if not callable(main):
            raise ScriptError(f"{script}: a build script needs a 'def main(urd):' function, and this one has none")
        try:
            try:
                main(urd)
            finally:
                self.stop_forked_child(script)
        except SystemExit as e:         # sys.exit(0) ends the script as a return would
            if e.code not in (None, 0):
                raise _exit_error(script, filename, e) from None
        except (AccelgitError, KeyboardInterrupt):
            raise
        except Exception as e:  # noqa: BLE001
            if isinstance(e, self.passthrough):
                raise
            raise _script_error(script, filename, e) from None
        return urd

    def run_each(self, scripts: list[str], capture: bool = False):
        """Run ``scripts`` in turn, yielding ``(script, PlanStopped or None)``
        (a planning session stops a script that reads a job it would build).
        What they print goes to stderr; with ``capture`` (hooks, reports,
        baselines: the scripts ran for someone else's sake) it is kept, and
        written out only if a script fails."""
        import contextlib
        import io
        out = io.StringIO() if capture else sys.stderr
        ok = False
        try:
            with contextlib.redirect_stdout(out), \
                    (contextlib.redirect_stderr(out) if capture else contextlib.nullcontext()):
                for script in scripts:
                    self.current_script = script
                    try:
                        self.run_script(script)
                        stop = None
                    except PlanStopped as e:
                        stop = e
                    yield script, stop
            ok = True
        finally:
            if capture and not ok and out.getvalue():
                sys.stderr.write(out.getvalue())

    def submit(self, spec: JobSpec) -> Job:
        raise NotImplementedError

    def known_job(self, jid: str) -> Job | None:
        """The Job this session handed out for id ``jid`` (it may still be building), or None."""
        return None


class ScriptExited(AccelgitError):
    """A build script called sys.exit with a failure code: a failed script (exit 1)."""
    exit_code = 1


def _where(script: str, filename: str, e: BaseException) -> str:
    """``script:line`` of the script's last frame in ``e``'s traceback (the
    traceback too with ACCELGIT_DEBUG=1)."""
    line = None
    for fs in traceback.extract_tb(e.__traceback__):
        if fs.filename == filename:
            line = fs.lineno
    if os.environ.get("ACCELGIT_DEBUG") == "1":
        traceback.print_exception(type(e), e, e.__traceback__)
    return f"{script}:{line}" if line else script


def _exit_error(script: str, filename: str, e: SystemExit) -> ScriptExited:
    return ScriptExited(f"{_where(script, filename, e)}: the build script called sys.exit({e.code!r})")


def _script_error(script: str, filename: str, e: BaseException) -> ScriptError:
    if isinstance(e, NotSupported):         # what accelgit does not run of the Accelerator's API: say just that
        return ScriptError(f"{_where(script, filename, e)}: {e}")
    return ScriptError(f"{_where(script, filename, e)}: {type(e).__name__}: {e}")
