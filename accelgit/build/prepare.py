"""Builds one job: lock, check again, build in a temp folder, manifest last,
one rename into place.  A failed or killed build never becomes a job."""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import posixpath
import sys
import threading
import time

from accelgit import __version__
from accelgit.api.spec import JobSpec
from accelgit.build.faults import pause
from accelgit.build.joblogs import log_text, tailer
from accelgit.build.launcher import WorkerLost
from accelgit.core.errors import AccelgitError
from accelgit.core.identity import git_blob_sha1
from accelgit.core.jsontext import member_lines
from accelgit.store.jobcheck import aside_path
from accelgit.store.layout import ERROR_FILE, FAILED, JOB_JSON, LOG, OUTPUT, PROFILE, SOURCE, TMP, UNTRUSTED
from accelgit.store.locks import job_lock_fd, job_unlock
from accelgit.store.manifest import irregular_files, scan, write_manifest
from accelgit.store.signing import sign, trust_problem
from accelgit.store.workdir import exchange, publish_mode


class JobFailed(AccelgitError):
    """A job's method raised or its process died."""
    exit_code = 1

    def __init__(self, spec: JobSpec, detail: str, log: str | None):
        self.spec, self.detail, self.log = spec, detail, log
        where = f"; log: {log}" if log else ""
        super().__init__(f"job {spec.dirname} ({spec.method.path}) failed: {detail}{where}")


class BuildContext:
    """What every job build of one command shares."""

    def __init__(self, repo, config, store, view, launcher, live=None):
        self.repo, self.config, self.store, self.view = repo, config, store, view
        self.launcher = launcher
        self.subjobs = None              # the SubjobServer (subjobs.py) once a job is built
        self.live = live                 # callable(dirname, text) to show job output, or None
        self._git: dict | None = None
        self._head_view = None
        self._git_lock = threading.Lock()
        self._sources: dict[str, tuple[bytes, str]] = {}    # blob -> (bytes, sha256)
        self._scripts: dict[str, dict] = {}                 # build script -> its sources' blobs
        self.replaced: list[str] = []       # jobs a forced build replaced: removed at the end (close)

    def close(self) -> None:
        """The build is over: remove the jobs forced builds replaced (kept until
        now for readers that opened them before the swap)."""
        for path in self.replaced:
            import shutil  # here: shutil's import (bz2, lzma) is not a no-op build's to pay
            shutil.rmtree(path, ignore_errors=True)
        self.replaced = []

    def source(self, rel: str, blob: str) -> tuple[bytes, str]:
        """The bytes of source ``rel`` at blob ``blob`` (checked; read once a build:
        a chain of 1000 jobs of one method copies one file 1000 times) and their sha256."""
        hit = self._sources.get(blob)
        if hit is None:
            data = self.view.read(rel)
            if git_blob_sha1(data) != blob:
                raise AccelgitError(f"{rel} changed while the build was running; run the build again")
            hit = self._sources[blob] = (data, hashlib.sha256(data).hexdigest())
        return hit

    def script_sources(self, script: str | None) -> dict:
        """``{path: blob}`` of the build script that made a call and of the repo
        files it imports (provenance, not identity: a job's options may come
        from an uncommitted edit of the script)."""
        if script is None:
            return {}
        with self._git_lock:
            hit = self._scripts.get(script)
            if hit is None:
                from accelgit.methods.imports import ImportResolver
                view = self.view
                resolver = ImportResolver(view.exists, view.read, view.blob)
                from accelgit.core.packages import module_of
                folder = posixpath.dirname(script)
                pkg, modname = module_of(script)
                try:
                    paths = resolver.closure(script, [folder, ""] if folder else [""], modname if pkg else None)
                except AccelgitError:            # it ran, so it parses; a helper might not
                    paths = [script]
                hit = self._scripts[script] = {p: view.blob(p) for p in paths if view.blob(p)}
        return hit

    def git_meta(self, paths: list[str]) -> dict:
        from accelgit.git.repo import commit_metadata
        from accelgit.git.views import CommitView
        with self._git_lock:            # jobs are prepared in two threads
            if self._git is None:
                git = commit_metadata(self.repo)
                if git["commit"]:
                    self._head_view = CommitView(self.repo, git["commit"])
                self._git = git
        meta = dict(self._git)
        if self._head_view is None:
            dirty = sorted(paths)
        else:
            dirty = sorted(p for p in paths if self.view.blob(p) != self._head_view.blob(p))
        meta["dirty"] = bool(dirty)
        meta["dirty_paths"] = dirty
        return meta


def _params(spec: JobSpec, ctx: BuildContext) -> dict:
    m = spec.method
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    script = ctx.script_sources(spec.script)
    return {
        "format": 1, "id": spec.id, "method": m.name, "name": spec.name, "caption": spec.caption,
        "options": spec.options, "jobs": spec.jobs, "files": spec.files, "source": m.digest,
        "sources": m.sources, "method_path": m.path, "method_folder": m.folder,
        "option_types": m.job_with_files,
        "build_script": spec.script, "script_sources": script,
        "git": ctx.git_meta(list(m.sources) + list(spec.files) + list(script)),
        "built_at": now, **_machine(), "accelgit": __version__, "slices": ctx.config.slices,
        "executor": ctx.launcher.kind,      # a Dask job's: its worker's address (and host), once it ran
    }


def load_build_modules() -> None:
    """Import what building a job needs (the job process's runner, the host
    lookups) in the calling thread, which must be the main one: worker threads
    must not import, as the build script's thread changes ``sys.path`` meanwhile
    and the import system can then miss a module.  Cheap once done; reusing
    jobs never needs it."""
    from accelgit.build import runner  # noqa: F401
    _machine()


_MACHINE: dict = {}


def _machine() -> dict:
    """host, user and python of job.json: the same for every job of a process,
    so looked up once (getuser reads the password database)."""
    if not _MACHINE:
        import platform
        import socket
        _MACHINE.update(host=socket.gethostname(), user=_user(), python=platform.python_version())
    return _MACHINE


def _user() -> str | None:
    import getpass
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not an error
        return None


def _input_paths(inputs: dict) -> dict:
    return {k: None if v is None else [j.path for j in v] if isinstance(v, list) else v.path
            for k, v in inputs.items()}


class Prepared:
    """A job's temp folder, made before its inputs are done (so that in a chain
    the next job is ready the moment its input is), with the job's lock held;
    or, when a racer built the job meanwhile, that job (``reused``)."""

    __slots__ = ("spec", "tmp", "params", "run", "lock", "seconds", "reused", "written")

    def __init__(self, spec, tmp=None, params=None, lock=None, seconds=0.0, reused=None):
        self.spec, self.tmp, self.params, self.lock = spec, tmp, params, lock
        self.seconds, self.reused = seconds, reused
        self.run: dict | None = None     # what the job process needs besides job.json
        self.written: dict = {}          # rel -> (sha256, size) of what preparing wrote

    def discard(self) -> None:
        """Never run (an input failed, Ctrl-C): no folder, no lock left."""
        if self.tmp is not None:
            import shutil
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        self._unlock()

    def _unlock(self) -> None:
        if self.lock is not None:
            job_unlock(self.lock)
            self.lock = None


def prepare_job(spec: JobSpec, ctx: BuildContext) -> Prepared:
    """Lock the job, check again that nobody built it, and write its temp
    folder: job.json, verified source copies."""
    wd = spec.workdir
    dirname = spec.dirname
    os.makedirs(wd.path, exist_ok=True)
    t0 = time.time()
    lock = job_lock_fd(wd.path, dirname)
    prep = Prepared(spec, lock=lock)
    try:
        wd.refused.pop(dirname, None)       # look again, under the lock: a racing build may have made it
        if not spec.force:
            hit = ctx.store.find(spec.method.name, [spec.id] + spec.equivalent_ids, first=wd)
            if hit:
                prep._unlock()
                prep.reused = hit[0]
                return prep
        prep.tmp = tmp = wd.new_tmp(dirname)
        prep.params = _params(spec, ctx)
        made = {tmp}
        written = prep.written
        for rel, blob in spec.method.sources.items():
            data, sha = ctx.source(rel, blob)
            parts = [SOURCE] + rel.split("/")
            folder = tmp
            for part in parts[:-1]:           # a fresh folder: mkdir, no checks
                folder = os.path.join(folder, part)
                if folder not in made:
                    os.mkdir(folder)
                    made.add(folder)
            with open(os.path.join(folder, parts[-1]), "wb") as f:
                f.write(data)
            written["source/" + rel] = (sha, len(data))
        for d in (OUTPUT, LOG):
            os.mkdir(os.path.join(tmp, d))
        _write_job_json(prep)
        prep.run = {"inputs": _input_paths(spec.inputs), "root": ctx.repo.root, "slices": ctx.config.slices,
                    "option_jobs": {j.id: j.path for j in spec.option_jobs},
                    **(ctx.subjobs.run_fields() if ctx.subjobs else {})}
    except BaseException:
        prep.discard()
        raise
    prep.seconds = time.time() - t0
    return prep


def _write_job_json(prep: Prepared) -> None:
    text = member_lines(prep.params).encode("utf-8")
    with open(os.path.join(prep.tmp, JOB_JSON), "wb") as f:
        f.write(text)
    prep.written[JOB_JSON] = (hashlib.sha256(text).hexdigest(), len(text))


LOST_TRIES = 3          # runs of a job whose executor's worker died while running it


def _launch(prep: Prepared, ctx: BuildContext) -> int:
    """Run the prepared job to its end with the build's launcher: its exit code.
    When the machine running it died (WorkerLost) the folder it may have half
    written goes to .failed and the job runs again in a fresh one, up to
    LOST_TRIES times."""
    spec = prep.spec
    for _ in range(LOST_TRIES):
        tick = tailer(prep.tmp, spec.dirname, ctx.live) if ctx.live else None
        try:
            code = ctx.launcher.run(prep.tmp, tick, prep.run, resources=spec.method.resources)
        except WorkerLost as e:
            lost = e
            print(f"accelgit: note: job {spec.dirname}: {e}; running it again", file=sys.stderr)
            _fresh_folder(prep)
            continue
        if tick:
            tick()
        placed = ctx.launcher.placement(prep.tmp)
        if placed:
            prep.params.update(placed)
            _write_job_json(prep)
        return code
    raise JobFailed(spec, f"{lost} ({LOST_TRIES} times)", None)


def _fresh_folder(prep: Prepared) -> None:
    """Move the job's temp folder to .failed (for its logs) and prepare the job
    again in a new one from what preparing wrote (job.json, the source copies)."""
    spec = prep.spec
    old = prep.tmp
    fresh = spec.workdir.new_tmp(spec.dirname)
    import shutil
    shutil.copytree(os.path.join(old, SOURCE), os.path.join(fresh, SOURCE))
    shutil.copy2(os.path.join(old, JOB_JSON), os.path.join(fresh, JOB_JSON))
    for d in (OUTPUT, LOG):
        os.mkdir(os.path.join(fresh, d))
    prep.tmp = fresh
    _to_failed(spec, old)


def _to_failed(spec: JobSpec, tmp: str) -> str:
    """Keep a failed build's folder under .failed for its logs (gc removes it); its new path."""
    dest = os.path.join(spec.workdir.path, FAILED, f"{spec.dirname}.{time.strftime('%Y%m%d-%H%M%S')}."
                                                   f"{os.urandom(2).hex()}")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    os.rename(tmp, dest)
    return dest


def run_prepared(prep: Prepared, ctx: BuildContext) -> tuple[str, str, float]:
    """Run a prepared job; manifest last, one rename into place.
    ``(path, "built"|"reused", seconds)``."""
    if prep.reused is not None:
        return prep.reused, "reused", 0.0
    spec = prep.spec
    wd = spec.workdir
    dirname = spec.dirname
    final = os.path.join(wd.path, dirname)
    t0 = time.time()
    try:
        code = _launch(prep, ctx)
        tmp = prep.tmp
        if code != 0:
            raise _failure(spec, tmp, code, root=ctx.repo.root)
        if not os.path.isfile(os.path.join(tmp, PROFILE)):     # written last by the runner
            raise _failure(spec, tmp, code, root=ctx.repo.root, detail="the job process ended before the end of its synthesis "
                                                "(os._exit?): no result and no profile.json, so no job")
        subjobs = ctx.subjobs.made_by(spec.id) if ctx.subjobs else None
        if subjobs:                 # what the job built: part of its record (job.json), not of its identity
            prep.params["subjobs"] = subjobs
            _write_job_json(prep)
        found = scan(tmp)
        odd = irregular_files(tmp, found)
        if odd:
            raise _failure(spec, tmp, code, root=ctx.repo.root, detail=f"{odd[0]} is not a regular file (a FIFO, device, socket or "
                                                f"symbolic link): a job holds only regular files and folders")
        try:
            stats: dict = {}
            manifest = write_manifest(tmp, in_place=True, written=prep.written, found=found, stats=stats)
            signer = sign(tmp, manifest)                        # no job until the rename below
            publish_mode(tmp)
            pause("ACCELGIT_TEST_PAUSE_BEFORE_RENAME")
            trash = None
            if not os.path.exists(final):
                os.rename(tmp, final)
            else:
                # A forced rebuild, a folder without a manifest, one not signed by a key
                # you trust (not yours to delete: kept in .untrusted/), or one modified
                # after its build (kept in .damaged/: jobcheck.py).  The new job takes
                # its place in one step where the system can, so a reader sees the old job
                # or the new one, whole; a replaced job of yours goes when this build ends.
                if trust_problem(final) not in (None, "no manifest.json"):
                    old = os.path.join(wd.path, UNTRUSTED, f"{dirname}.{os.urandom(4).hex()}")
                    os.makedirs(os.path.dirname(old), exist_ok=True)
                elif dirname in wd.damaged:
                    old = aside_path(wd.path, dirname)
                else:
                    old = trash = os.path.join(wd.path, TMP, f"{dirname}.old.{os.urandom(4).hex()}")
                if exchange(tmp, final):
                    os.rename(tmp, old)
                else:
                    os.rename(final, old)
                    os.rename(tmp, final)
        except OSError as e:      # disk full, permissions: no job, and say where
            raise JobFailed(spec, f"could not store the job: {e}", None) from None
        prep.tmp = None
        if trash:
            ctx.replaced.append(trash)
        wd.added(prep.params, dirname, signer, json.loads(manifest)["files"], stats=stats)
    finally:
        prep.discard()            # the temp folder if it was not renamed (moved to .failed: gone), the lock
    return final, "built", prep.seconds + time.time() - t0


def _failure(spec: JobSpec, tmp: str, code: int, detail: str | None = None, root: str | None = None) -> JobFailed:
    """Keep the failed build's folder under .failed for its logs (gc removes it)."""
    err = {}
    try:
        with open(os.path.join(tmp, ERROR_FILE), encoding="utf-8") as f:
            err = json.load(f)
    except (OSError, ValueError):
        pass
    dest = _to_failed(spec, tmp)
    log = os.path.join(dest, err.get("log", "log/"))
    if detail is not None:
        pass
    elif code < 0 or (code and not err):
        detail = f"the job process died (exit {code})" + _space_left(dest)
    else:
        detail = err.get("error", f"exit {code}")
    failure = JobFailed(spec, detail, log)
    # the method ran from tmp/source/<repo path>: its frames name the repo's own files (the
    # copies are the committed or working content the job hashed), everything else the kept folder
    text = log_text(dest, err.get("log"))
    if root:
        text = text.replace(os.path.join(tmp, SOURCE) + os.sep, root.rstrip(os.sep) + os.sep)
    failure.traceback = text.replace(tmp + os.sep, dest + os.sep)
    return failure


def _space_left(path: str) -> str:
    """Why a job process may have died without a word: its disk is full."""
    try:
        st = os.statvfs(path)
    except OSError:
        return ""
    free = st.f_bavail * st.f_frsize
    return f": no space left on the device of {path} ({free // 1024} kB free)" if free < (1 << 20) else ""
