"""The job store (SPEC §6): workdirs of content-addressed job directories.

A job directory is ``<workdir>/<method>-<first 12 hex of id>``.  It exists
only once it holds ``manifest.json`` (written last); it appears by one
``rename`` of a folder built under ``<workdir>/.tmp``.  Per-job locks live in
``<workdir>/.locks``, failed builds are kept for their logs in
``<workdir>/.failed`` until ``accelgit gc``.
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid

from .errors import IntegrityError, JobNotFound, UsageError
from .filehash import feed
from .identity import job_dirname
from .jsontext import member_lines
from .index import Index, KnownIds, scan_jobs

MANIFEST = "manifest.json"
TMP, LOCKS, FAILED = ".tmp", ".locks", ".failed"


def file_sha256(path: str) -> str:
    return file_digest(path)[0]


def file_digest(path: str) -> tuple[str, int]:
    """sha256 (hex) and size of the file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        size = feed(f, h, os.fstat(f.fileno()).st_size)
    return h.hexdigest(), size


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def walk_files(root: str) -> list[str]:
    """Every file below ``root`` as a relative path with ``/``, sorted.  Like
    ``os.walk``: a symbolic link to a folder is neither listed nor followed."""
    out: list = []
    _scan(root, "", out, False)
    out.sort()
    return out


def _scan(folder: str, prefix: str, out: list, entries: bool) -> None:
    """Append ``rel`` (``entries``: ``(rel, DirEntry)``) of each file below ``folder``."""
    try:
        it = os.scandir(folder)
    except OSError:
        return
    with it:
        for e in it:
            try:
                is_dir = e.is_dir()
            except OSError:
                is_dir = False
            if not is_dir:
                out.append((prefix + e.name, e) if entries else prefix + e.name)
            elif not e.is_symlink():
                _scan(e.path, prefix + e.name + "/", out, entries)


def write_manifest(jobdir: str, in_place: bool = False, written: dict | None = None) -> dict:
    """sha256 and size of every file but the manifest; written atomically
    (``in_place``: straight into its file, for a job folder still in ``.tmp``,
    which becomes a job only by the rename that follows).  ``written``: ``rel ->
    (sha256, size)`` of files the caller wrote itself (job.json, the source
    copies): recorded as written, not read back; if the job changed one, verify
    reports it.  An empty file is not opened."""
    found: list = []
    _scan(jobdir, "", found, True)
    files = {}
    for rel, entry in found:
        if rel == MANIFEST:
            continue
        known = written.get(rel) if written else None
        if known is not None:
            sha, size = known
        else:
            try:
                empty = entry.stat(follow_symlinks=True).st_size == 0
            except OSError:
                empty = False
            sha, size = (EMPTY_SHA256, 0) if empty else file_digest(entry.path)
        files[rel] = {"sha256": sha, "size": size}
    manifest = {"format": 1, "files": files}
    final = os.path.join(jobdir, MANIFEST)
    tmp = final if in_place else final + ".tmp"
    if os.environ.get("ACCELGIT_TEST_FAIL_MANIFEST"):      # fault injection (tests): a full disk
        import errno
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), tmp)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(member_lines(manifest, ("files",)))
    if not in_place:
        os.replace(tmp, final)
    return manifest


def read_manifest(jobdir: str) -> dict:
    try:
        with open(os.path.join(jobdir, MANIFEST), encoding="utf-8") as f:
            m = json.load(f)
    except FileNotFoundError:
        raise IntegrityError(f"{jobdir}: no manifest.json, so this is not a complete job") from None
    except ValueError:
        raise IntegrityError(f"{jobdir}: manifest.json is not valid JSON") from None
    if not isinstance(m, dict) or not isinstance(m.get("files"), dict):
        raise IntegrityError(f"{jobdir}: manifest.json has no 'files' table")
    return m


def verified_bytes(jobdir: str, rel: str) -> bytes:
    """The bytes of ``rel`` in a job, after checking them against its manifest.
    Nothing from a workdir (a pickle above all) is used without this check."""
    entry = read_manifest(jobdir)["files"].get(rel)
    if entry is None:
        raise IntegrityError(f"{jobdir}: {rel} is not in the job's manifest")
    with open(os.path.join(jobdir, rel), "rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise IntegrityError(f"{jobdir}: {rel} does not match its manifest (modified after the build)")
    return data


def _locked_fd(path: str, flags: int) -> int:
    """An fd of ``path`` holding flock ``flags``.  If the file was unlinked (by
    ``accelgit gc``) between open and lock, lock the new file instead, so two
    holders never lock two different inodes of one path."""
    import fcntl
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, flags)
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            return fd
        os.close(fd)


def job_lock_fd(workdir: str, dirname: str) -> int:
    """Take the job's exclusive lock; ``job_unlock(fd)`` releases it."""
    import fcntl
    locks = os.path.join(workdir, LOCKS)
    os.makedirs(locks, exist_ok=True)
    return _locked_fd(os.path.join(locks, dirname + ".lock"), fcntl.LOCK_EX)


def job_unlock(fd: int) -> None:
    import fcntl
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


SESSION_LOCK = ".session.lock"


def session_lock(workdir: str) -> int | None:
    """A shared lock on ``workdir`` held by every build while it runs (until
    its run records are written): ``accelgit gc`` removes no job while one is
    held.  Returns the fd (close it to release), or None where the workdir
    cannot be written (a read-only shared workdir)."""
    import fcntl
    try:
        os.makedirs(workdir, exist_ok=True)
        fd = os.open(os.path.join(workdir, SESSION_LOCK), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


class Workdir:
    def __init__(self, name: str, path: str, readonly: bool = False):
        self.name = name
        self.path = os.path.abspath(path)
        self.index = Index(self.path, readonly=readonly)
        self._ids: KnownIds | None = None
        import threading            # here: the fork server imports this module, never threading
        self._ids_lock = threading.Lock()

    def job_path(self, method: str, jid: str) -> str:
        return os.path.join(self.path, job_dirname(method, jid))

    def _known_ids(self) -> KnownIds:
        if self._ids is None:
            with self._ids_lock:            # loaded once, even when two threads ask first
                if self._ids is None:
                    self._ids = (self.index.known_ids() if os.path.isdir(self.path) else None) or KnownIds()
        return self._ids

    def lookup(self, method: str, jid: str) -> str | None:
        """The path of the complete job ``jid``, or None."""
        dirname = job_dirname(method, jid)
        path = os.path.join(self.path, dirname)
        if not os.path.isfile(path + os.sep + MANIFEST):     # (one join less: this runs once per job)
            return None
        known = self._known_ids().get(dirname, jid)
        if known is None:
            try:
                with open(os.path.join(path, "job.json"), encoding="utf-8") as f:
                    params = json.load(f)
                known = params.get("id")
            except (OSError, ValueError):
                return None
            if known:
                self._known_ids()[dirname] = known
                self.index.add(params, dirname)
        return path if known == jid else None

    def added(self, params: dict, dirname: str) -> None:
        self._known_ids()[dirname] = params["id"]
        self.index.add(params, dirname)

    def new_tmp(self, dirname: str) -> str:
        tmp = os.path.join(self.path, TMP, f"{dirname}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
        os.makedirs(tmp)
        return tmp

    def jobs(self):
        return scan_jobs(self.path)


class Store:
    """All configured workdirs: jobs are reused from any, built into the target."""

    def __init__(self, config, readonly: bool = False):
        self.config = config
        self.workdirs = {name: Workdir(name, config.workdir_path(name), readonly) for name in config.workdirs}
        self.target = self.workdirs[config.target_workdir]

    def workdir(self, name: str | None) -> Workdir:
        if name is None:
            return self.target
        try:
            return self.workdirs[name]
        except KeyError:
            raise UsageError(f"unknown workdir '{name}' (configured: {', '.join(self.workdirs)})") from None

    def ordered(self, first: Workdir | None = None) -> list[Workdir]:
        first = first or self.target
        return [first] + [w for w in self.workdirs.values() if w is not first]

    def flush_index(self) -> None:
        """Write the index rows of the jobs this process built."""
        for wd in self.workdirs.values():
            wd.index.flush()

    def find(self, method: str, ids: list[str], first: Workdir | None = None) -> tuple[str, str] | None:
        """``(path, id)`` of the first complete job among ``ids`` in any workdir."""
        for wd in self.ordered(first):
            for jid in ids:
                p = wd.lookup(method, jid)
                if p:
                    return p, jid
        return None

    def incomplete(self, method: str, jid: str) -> str | None:
        """A folder for ``jid`` without a manifest (refused for reuse), if any."""
        for wd in self.ordered():
            p = wd.job_path(method, jid)
            if os.path.isdir(p) and not os.path.isfile(os.path.join(p, MANIFEST)):
                return p
        return None

    def all_jobs(self):
        """``(workdir, dirname, params)`` of every complete job."""
        for wd in self.workdirs.values():
            for dirname, params in wd.jobs():
                yield wd, dirname, params

    def resolve(self, spec: str) -> str:
        """A JOB argument: a path, a directory name, a job id or a unique prefix."""
        if os.sep in spec or spec.startswith(".") or os.path.isdir(spec):
            p = os.path.abspath(spec)
            if os.path.isfile(os.path.join(p, "job.json")):
                return p
            if os.path.isdir(p) and os.path.isfile(os.path.join(os.path.dirname(p), "job.json")):
                return os.path.dirname(p)
        hits = set()
        for wd in self.workdirs.values():
            d = os.path.join(wd.path, spec)
            if spec and not spec.startswith(".") and os.path.isfile(os.path.join(d, "job.json")):
                hits.add(d)
        if not hits:
            low = spec.lower()
            for wd in self.workdirs.values():
                try:
                    names = os.listdir(wd.path)
                except FileNotFoundError:
                    continue
                for name in names:
                    if name.startswith("."):
                        continue
                    d = os.path.join(wd.path, name)
                    ident = name.rsplit("-", 1)[-1]
                    if name.startswith(spec) and "-" in spec:     # a directory-name prefix
                        hits.add(d)
                        continue
                    if ident.startswith(low) or (len(low) > 12 and low.startswith(ident)):
                        if len(low) > 12:
                            try:
                                with open(os.path.join(d, "job.json"), encoding="utf-8") as f:
                                    if not json.load(f).get("id", "").startswith(low):
                                        continue
                            except (OSError, ValueError):
                                continue
                        hits.add(d)
        if not hits:
            raise JobNotFound(f"no job matches '{spec}' in the workdirs ({', '.join(self.workdirs)})")
        if len(hits) > 1:
            raise JobNotFound(f"'{spec}' is ambiguous: it matches {len(hits)} jobs ({', '.join(sorted(os.path.basename(h) for h in hits)[:4])}...)")
        return hits.pop()
