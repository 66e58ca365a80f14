"""Runs one job inside its (temporary) job directory.  This is the code of the
job process: it learns everything from ``job.json`` and ``.run.json`` in that
directory, checks the source copies against their recorded blob hashes, and
only then imports the method from them.

    python -m accelgit.build.runner JOBDIR        (or forked by accelgit.build.forkserver)
"""
from __future__ import annotations

import datetime
import json
import os
import pickle
import resource
import sys
import time
import traceback
import types

from accelgit.api import running
from accelgit.api.accelerator_name import NotSupported
from accelgit.api.accelerator_name import install as install_accelerator
from accelgit.api.dotdict import DotDict
from accelgit.api.job import Job, JobWithFile
from accelgit.api.merge import AnalysisResults
from accelgit.api.running import JobContext, ReadOnly
from accelgit.build.repoimport import RepoImporter
from accelgit.core.identity import decode_value, git_blob_sha1
from accelgit.core.jsontext import member_lines
from accelgit.core.packages import module_of
from accelgit.store.layout import (
    ERROR_FILE,
    JOB_JSON,
    LOG,
    OUTPUT,
    PROFILE,
    RESULT_JSON,
    RESULT_PICKLE,
    RUN_FILE,
    SOURCE,
)

INJECTABLE = ("job", "options", "jobs", "files", "slices", "sliceno", "prepare_res", "analysis_res")


def _json_exact(value) -> bool:
    """True when JSON stores ``value`` exactly (loads(dumps(v)) == v, same types)."""
    if value is None or isinstance(value, (bool, str)):
        return True
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if type(value) is list:
        return all(_json_exact(v) for v in value)
    if type(value) is dict:
        return all(isinstance(k, str) and _json_exact(v) for k, v in value.items())
    return False


class Phase:
    """Redirects fds 1 and 2 into ``log/<name>.txt`` and times the phase."""

    def __init__(self, jobdir: str, name: str):
        self.log = os.path.join(jobdir, LOG, f"{name}.txt")

    def __enter__(self):
        sys.stdout.flush()
        sys.stderr.flush()
        self.fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.saved = os.dup(1), os.dup(2)
        os.dup2(self.fd, 1)
        os.dup2(self.fd, 2)
        self.t0, self.c0 = time.time(), _cpu()
        return self

    def __exit__(self, *exc):
        sys.stdout.flush()
        sys.stderr.flush()
        self.wall, self.cpu = time.time() - self.t0, _cpu() - self.c0
        os.dup2(self.saved[0], 1)
        os.dup2(self.saved[1], 2)
        for fd in (*self.saved, self.fd):
            os.close(fd)
        return False

    def stats(self) -> dict:
        return {"wall": round(self.wall, 6), "cpu": round(self.cpu, 6)}


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _peak_kb() -> int:
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


class MethodFailed(Exception):
    pass


def _parameters(fn) -> list[tuple[str, bool]]:
    """``(name, has a default)`` of each named parameter of ``fn``.  A plain
    function is read from its code object (``inspect`` is slow to import and
    to run in a freshly forked job process); anything else through inspect."""
    if type(fn) is types.FunctionType:
        code = fn.__code__
        pos = code.co_varnames[:code.co_argcount]
        kwonly = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
        first_default = len(pos) - len(fn.__defaults__ or ())
        kwdefaults = fn.__kwdefaults__ or {}
        return [(n, i >= first_default) for i, n in enumerate(pos)] + [(n, n in kwdefaults) for n in kwonly]
    import inspect
    return [(n, p.default is not p.empty) for n, p in inspect.signature(fn).parameters.items()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _call(fn, available: dict, where: str):
    kwargs = {}
    for name, has_default in _parameters(fn):
        if name in available:
            kwargs[name] = available[name]
        elif not has_default:
            raise MethodFailed(f"{where}() asks for '{name}', which is not one of: {', '.join(INJECTABLE)}")
    return fn(**kwargs)


def load_method(jobdir: str, params: dict, repo_root: str | None = None):
    """Import the method from the job's own source copies, after checking each
    copy against the blob hash recorded in job.json."""
    src = os.path.join(jobdir, SOURCE)
    method_data = None
    for rel, blob in params["sources"].items():
        p = os.path.join(src, *rel.split("/"))
        with open(p, "rb") as f:
            data = f.read()
        if git_blob_sha1(data) != blob:
            raise MethodFailed(f"source copy {rel} does not match its recorded blob {blob[:12]}; refusing to run it")
        if rel == params["method_path"]:
            method_data = data            # run exactly the bytes just checked
    folder = params["method_folder"]
    roots = [os.path.join(src, *folder.split("/"))] if folder not in (".", "") else []
    # Only the job's own, verified sources are importable from the repo: drop the
    # current folder and the repo root (there when accelgit is installed editable).
    drop = {os.path.abspath(p) for p in ("", repo_root or "")}
    sys.path[:] = roots + [src] + [p for p in sys.path if p and os.path.abspath(p) not in drop]
    # Python would write __pycache__/*.pyc beside the source copies, inside the
    # job folder (and so into its manifest): never from a job process.
    sys.dont_write_bytecode = True
    path = os.path.join(src, *params["method_path"].split("/"))
    if method_data is None:
        raise MethodFailed(f"{params['method_path']} is not among the job's recorded sources")
    # compiled and run like ``python path`` runs a file (no import machinery: no
    # second read, no bytecode cache lookups); the module is in sys.modules under
    # its name, so pickle and dataclasses find it
    code = compile(method_data, path, "exec", dont_inherit=True)
    install_accelerator()           # "import accelerator" is accelgit's compatibility layer
    pkg, modname = module_of(params["method_path"])
    module = types.ModuleType(modname if pkg else f"a_{params['method']}")
    module.__file__ = path
    if pkg:         # a module of its method package, as the Accelerator runs it (issue 16)
        import importlib.machinery
        sys.meta_path.insert(0, RepoImporter({pkg}, lambda rel: os.path.isfile(os.path.join(src, *rel.split("/"))),
                                             lambda rel: _read(os.path.join(src, *rel.split("/"))),
                                             lambda rel: os.path.join(src, *rel.split("/"))))
        # the package itself is imported by the first relative import that needs it, not for every job
        module.__package__ = pkg
        module.__spec__ = importlib.machinery.ModuleSpec(modname, None, origin=path)
    sys.modules[module.__name__] = module
    exec(code, module.__dict__)
    return module


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _typed_options(params: dict, run: dict) -> dict:
    """The options as the method sees them: JSON-decoded, and each
    ``JobWithFile`` option (job.json ``option_types``) a JobWithFile again."""
    options = decode_value(params["options"])
    paths = run.get("option_jobs") or {}
    for k, kind in (params.get("option_types") or {}).items():
        v = options.get(k)
        if v is not None:
            make = lambda x: JobWithFile(Job(paths[x[0]]), *x[1:])     # noqa: E731
            options[k] = [make(x) for x in v] if kind.startswith("[") else make(v)
    return options


def run_job(jobdir: str, run: dict | None = None) -> int:
    """Run the job in ``jobdir``; 0 on success.  ``run``: the input jobs' paths,
    the repo root and the slice count (from the fork server's pipe), else read
    from ``.run.json``.  On failure the traceback is in the phase's log and
    ``.error.json`` says which phase."""
    jobdir = os.path.abspath(jobdir)
    with open(os.path.join(jobdir, JOB_JSON), encoding="utf-8") as f:
        params = json.load(f)
    if run is None:
        with open(os.path.join(jobdir, RUN_FILE), encoding="utf-8") as f:
            run = json.load(f)
    if run.get("trusted_keys"):        # run by a Dask worker: the keys its build trusts
        from accelgit.store import keys
        keys.also_trust(run["trusted_keys"])
    out = os.path.join(jobdir, OUTPUT)
    os.chdir(out)
    profile = {"start": datetime.datetime.now(datetime.timezone.utc).isoformat(), "phases": {}}
    t0, c0 = time.time(), _cpu()
    phase_name = "setup"
    try:
        with Phase(jobdir, "setup") as ph:
            module = load_method(jobdir, params, run.get("root"))
        profile["phases"]["setup"] = ph.stats()
        slices = int(run["slices"])
        jobs = {}
        for k, v in run["inputs"].items():
            jobs[k] = None if v is None else [Job(p) for p in v] if isinstance(v, list) else Job(v)
        running.current = JobContext(jobdir, params)
        running.subjob_address, running.subjob_problem = run.get("subjobs"), run.get("subjobs_problem")
        running.recorded_subjobs = run.get("recorded_subjobs")
        available = {
            "job": running.current,
            "options": DotDict.frozen(_typed_options(params, run)),
            "jobs": DotDict.frozen(jobs),
            "files": ReadOnly({p: os.path.join(run["root"], *p.split("/")) for p in params["files"]}),
            "slices": slices,
        }
        for name in ("options", "jobs", "job"):     # module globals too, as the Accelerator sets them
            setattr(module, name, available[name])
        result = None
        try:
            if hasattr(module, "prepare"):
                phase_name = running.phase = "prepare"
                with Phase(jobdir, "prepare") as ph:
                    available["prepare_res"] = _call(module.prepare, available, "prepare")
                profile["phases"]["prepare"] = ph.stats()
            if hasattr(module, "analysis"):
                phase_name = running.phase = "analysis"
                t, c = time.time(), _cpu()
                available["analysis_res"], per_slice = _analysis(jobdir, module.analysis, available, slices)
                profile["phases"]["analysis"] = {"wall": round(time.time() - t, 6), "cpu": round(_cpu() - c, 6),
                                                 "slices": per_slice}
            if hasattr(module, "synthesis"):
                phase_name = running.phase = "synthesis"
                with Phase(jobdir, "synthesis") as ph:
                    result = _call(module.synthesis, available, "synthesis")
                profile["phases"]["synthesis"] = ph.stats()
        except running.FinishEarly as e:     # job.finish_early(result): the phases after it do not run
            result = e.result
            profile["phases"][phase_name] = ph.stats()
        phase_name = "result"
        if _json_exact(result):
            with open(os.path.join(jobdir, RESULT_JSON), "w", encoding="utf-8") as f:
                f.write(json.dumps(result, allow_nan=False))     # (dump would encode in Python)
        else:
            with open(os.path.join(jobdir, RESULT_PICKLE), "wb") as f:
                pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as e:  # noqa: BLE001 - everything a method does wrong ends the job
        log = os.path.join(jobdir, LOG, f"{phase_name}.txt")
        with open(log, "a", encoding="utf-8") as f:
            if isinstance(e, MethodFailed):
                f.write(f"accelgit: {e}\n")
            else:
                traceback.print_exception(type(e), e, _method_frames(e.__traceback__), file=f)
        with open(os.path.join(jobdir, ERROR_FILE), "w", encoding="utf-8") as f:
            json.dump({"phase": phase_name, "error": str(e) if isinstance(e, NotSupported) else f"{type(e).__name__}: {e}",
                       "log": f"log/{phase_name}.txt" if phase_name != "analysis" else "log/"}, f)
        return 1
    profile.update({"end": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                    "wall": round(time.time() - t0, 6), "cpu": round(_cpu() - c0, 6),
                    "peak_memory_kb": _peak_kb()})
    with open(os.path.join(jobdir, PROFILE), "w", encoding="utf-8") as f:
        f.write(member_lines(profile, ("phases",)))
    return 0


_OWN = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep     # accelgit's package folder


def _method_frames(tb):
    """A traceback from the method's first frame on: accelgit's own frames
    (the runner calling the method) say nothing to the method's author."""
    first = tb
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_OWN):
        tb = tb.tb_next
    return tb or first


def _analysis(jobdir: str, fn, available: dict, slices: int):
    """analysis(sliceno) once per slice, each in a forked process."""
    pids = {}
    for sliceno in range(slices):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                with Phase(jobdir, f"analysis-{sliceno}"):
                    try:
                        res = _call(fn, {**available, "sliceno": sliceno}, "analysis")
                        with open(os.path.join(jobdir, f".slice-{sliceno}.pickle"), "wb") as f:
                            pickle.dump((res, time.time()), f, protocol=pickle.HIGHEST_PROTOCOL)
                        code = 0
                    except BaseException as e:  # noqa: BLE001
                        if isinstance(e, MethodFailed):
                            print(f"accelgit: {e}", file=sys.stderr)
                        elif isinstance(e, running.FinishEarly):
                            print("accelgit: job.finish_early() is not supported in analysis (only in prepare "
                                  "or synthesis)", file=sys.stderr)
                        else:
                            traceback.print_exception(type(e), e, _method_frames(e.__traceback__))
            finally:
                os._exit(code)
        pids[pid] = (sliceno, time.time())
    failed = []
    per_slice: list = [None] * slices
    while pids:
        pid, status, ru = os.wait4(-1, 0)
        if pid not in pids:
            continue
        sliceno, started = pids.pop(pid)
        per_slice[sliceno] = {"wall": round(time.time() - started, 6),
                              "cpu": round(ru.ru_utime + ru.ru_stime, 6), "peak_memory_kb": ru.ru_maxrss}
        if os.waitstatus_to_exitcode(status) != 0:
            failed.append(sliceno)
    if failed:
        raise MethodFailed(f"analysis failed in slice {', '.join(map(str, sorted(failed)))}: "
                           f"see log/analysis-{min(failed)}.txt")
    results = AnalysisResults()
    for sliceno in range(slices):
        p = os.path.join(jobdir, f".slice-{sliceno}.pickle")
        with open(p, "rb") as f:      # written by our own child a moment ago
            results.append(pickle.load(f)[0])
        os.remove(p)
    return results, per_slice


def child_main(jobdir: str, run: dict | None = None) -> int:
    """Entry point in a fresh job process (fork or exec)."""
    try:
        fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(fd, 0)
        os.close(fd)
        return run_job(jobdir, run)
    except BaseException:  # noqa: BLE001 - a bug of ours: say it in the job's log
        try:
            with open(os.path.join(jobdir, LOG, "setup.txt"), "a", encoding="utf-8") as f:
                traceback.print_exc(file=f)
        except OSError:
            pass
        return 3


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1]))
