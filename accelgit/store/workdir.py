"""Workdirs and the store of all configured workdirs (SPEC §1, §6): finding a
job folder (for reuse, by id, by what a user typed), and the index of each.

A job folder is ``<workdir>/<method>-<first 12 hex of id>``.  It exists only
once it holds ``manifest.json`` (written last); it appears by one ``rename``
of a folder built under ``<workdir>/.tmp`` (layout.py names them all).
"""
from __future__ import annotations

import json
import os

from accelgit.core.errors import JobNotFound, UsageError
from accelgit.core.identity import job_dirname
from accelgit.store import keys
from accelgit.store.index import Index, KnownIds
from accelgit.store.jobcheck import DAMAGED_JOB, OK, examine, record, stat_key
from accelgit.store.jobdir import is_complete, read_params, scan_jobs
from accelgit.store.layout import DAMAGED, JOB_JSON, MANIFEST, TMP
from accelgit.store.signing import Untrusted, signer


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


PUBLISH_MODE = 0o777 & ~_umask()      # a finished job folder: as mkdir would have made it


def publish_mode(jobdir: str) -> None:
    """The mode a job folder gets once built (it was 0700: ``new_tmp``)."""
    os.chmod(jobdir, PUBLISH_MODE)


def exchange(a: str, b: str) -> bool:
    """Swap folders ``a`` and ``b`` in one step (Linux ``renameat2`` with
    ``RENAME_EXCHANGE``): a reader of either path sees one folder or the other,
    whole.  False where the system cannot (then the caller renames twice)."""
    import ctypes
    import errno
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_cwd, exchange_flag = -100, 2
    if fn(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), exchange_flag) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), b)


class Workdir:
    def __init__(self, name: str, path: str, readonly: bool = False):
        self.name = name
        self.path = os.path.abspath(path)
        self.index = Index(self.path, readonly=readonly)
        self._ids: KnownIds | None = None
        self.refused: dict[str, str] = {}       # dirname -> why its job is not trusted (Untrusted.short)
        self.damaged: dict[str, str] = {}       # dirname -> why its job is damaged (jobcheck.py)
        self._fd: int | None = None             # the folder, open: _open_fd
        import threading  # here: the fork server imports this module, never threading
        self._ids_lock = threading.Lock()

    def job_path(self, method: str, jid: str) -> str:
        return os.path.join(self.path, job_dirname(method, jid))

    def _known_ids(self) -> KnownIds:
        """The indexed jobs whose signature a process checked, by a key trusted now."""
        if self._ids is None:
            with self._ids_lock:            # loaded once, even when two threads ask first
                if self._ids is None:
                    self._ids = (self.index.known_ids(keys.trusted()) if os.path.isdir(self.path) else None) \
                        or KnownIds()
        return self._ids

    def lookup(self, method: str, jid: str) -> str | None:
        """The path of job ``jid`` if it is complete, intact and trusted, else
        None.  Reuse is decided on the job's checked files (jobcheck.py): their
        stat data as the index last saw them intact, in a job whose signature
        a process checked; else the job is read, checked against its manifest
        (``damaged`` notes why one is not) and its signature checked (an
        untrusted one is never reused: ``refused``), then indexed."""
        dirname = job_dirname(method, jid)
        path = self.path + os.sep + dirname
        ids = self._ids
        if ids is None:                     # opened when a first job is met, not before
            if not os.path.isfile(path + os.sep + MANIFEST):
                return None
            ids = self._known_ids()
        e = ids.entry(dirname, jid)
        check = None
        if e is not None and e[0] == jid:
            check = e[1]
            if check is not None:
                fd = self._fd if self._fd is not None else self._open_fd()
                if (stat_key(dirname, check[0], fd) if fd >= 0 else stat_key(path, check[0])) == check[1]:
                    return path
        if not os.path.isfile(path + os.sep + MANIFEST):     # (runs once per job: no second join)
            return None
        if dirname in self.refused:
            return None
        state, got, new = examine(path, jid, check)    # this job's job.json, files as in its manifest
        if state == DAMAGED_JOB:
            self.damaged[dirname] = got
        if state != OK:
            return None
        try:     # the manifest examine held job.json (this job's) and the files to, as its builder signed it
            kid = signer(path)
        except Untrusted as e:
            self.refused[dirname] = e.short
            return None
        except OSError:
            return None
        self.added(got, dirname, kid, check=new)
        return path

    def __del__(self) -> None:
        # (not weakref.finalize: importing weakref, and atexit with it, was ~0.5 ms of a plan)
        fd = getattr(self, "_fd", None)
        if fd is not None and fd >= 0:
            self._fd = None
            os.close(fd)

    def _open_fd(self) -> int:
        """This workdir's folder, open (closed with the Workdir): its jobs' files
        are stat'ed relative to it, sparing the path's walk; -1 if it cannot be."""
        with self._ids_lock:
            if self._fd is None:
                try:
                    self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
                except OSError:
                    self._fd = -1
        return self._fd

    def added(self, params: dict, dirname: str, signer: str, files=None, check: tuple | None = None,
              stats: dict | None = None) -> None:
        """A job this process built (and signed: ``files``, its manifest's files,
        ``stats``, what writing the manifest stat'ed) or found intact and trusted
        (``check``, what it was checked with)."""
        if files is not None:
            check = record(os.path.join(self.path, dirname), files, stats)
        ids = self._known_ids()
        with self._ids_lock:
            ids.set(dirname, params["id"], check)
        self.damaged.pop(dirname, None)
        self.index.add(params, dirname, signer, check)

    def new_tmp(self, dirname: str) -> str:
        """A new folder to build job ``dirname`` in, that only you can enter
        (mode 0700) while it is built: another writer of a shared workdir
        cannot change its job.json or source copies before the job runs them
        and you sign them.  ``publish_mode`` opens it up before its rename."""
        tmp = os.path.join(self.path, TMP, f"{dirname}.{os.getpid()}.{os.urandom(4).hex()}")
        os.makedirs(os.path.dirname(tmp), exist_ok=True)
        os.mkdir(tmp, 0o700)
        return tmp

    def jobs(self):
        return scan_jobs(self.path)


class Store:
    """All configured workdirs: jobs are reused from any, built into the target."""

    def __init__(self, config, readonly: bool = False):
        self.config, self.readonly = config, readonly
        keys.hand_down(config)
        self.workdirs = {name: Workdir(name, config.workdir_path(name), readonly) for name in config.workdirs}
        self.target = self.workdirs[config.target_workdir]
        self._listing: dict[str, list[str]] = {}        # find_by_id: each workdir's folder names, read once
        self._orders: dict[str, list[Workdir]] = {}      # ordered()

    def workdir(self, name: str | None) -> Workdir:
        if name is None:
            return self.target
        try:
            return self.workdirs[name]
        except KeyError:
            raise UsageError(f"unknown workdir '{name}' (configured: {', '.join(self.workdirs)})") from None

    def ordered(self, first: Workdir | None = None) -> list[Workdir]:
        """Every workdir, ``first`` (default: the target) first; made once for each."""
        first = first or self.target
        order = self._orders.get(first.name)
        if order is None:
            order = self._orders[first.name] = [first] + [w for w in self.workdirs.values() if w is not first]
        return order

    def flush_index(self) -> None:
        """Write the index rows of the jobs this process built."""
        for wd in self.workdirs.values():
            wd.index.flush()

    def find(self, method: str, ids: list[str], first: Workdir | None = None) -> tuple[str, str] | None:
        """``(path, id)`` of the first complete, intact job among ``ids`` in any workdir."""
        for wd in self.ordered(first):
            for jid in ids:
                p = wd.lookup(method, jid)
                if p:
                    return p, jid
        return None

    def refusal(self, method: str, jid: str) -> tuple[str, str] | None:
        """``(workdir name, why)`` when a lookup found job ``jid`` but did not
        trust it."""
        dirname = job_dirname(method, jid)
        for wd in self.ordered():
            why = wd.refused.get(dirname)
            if why is not None:
                return wd.name, why
        return None

    def damage(self, method: str, ids: list[str]) -> list[tuple[str, str]]:
        """``(path, why)`` of the damaged jobs among ``ids`` that lookups met."""
        out = []
        for wd in self.workdirs.values():
            for jid in ids:
                dirname = job_dirname(method, jid)
                why = wd.damaged.get(dirname)
                if why is not None:
                    out.append((os.path.join(wd.path, dirname), why))
        return out

    def incomplete(self, method: str, jid: str) -> str | None:
        """A folder for ``jid`` without a manifest (refused for reuse), if any."""
        for wd in self.ordered():
            p = wd.job_path(method, jid)
            if os.path.isdir(p) and not os.path.isfile(os.path.join(p, MANIFEST)):
                return p
        return None

    def not_reused(self, method: str, ids: list[str], home) -> list[str]:
        """What the build says of jobs at ``ids`` (the first is the job's own id)
        that lookups met but did not reuse: damaged, incomplete or untrusted
        (``home``: the Workdir the job is built in)."""
        lines = []
        for path, why in self.damage(method, ids):
            where = (f"building it again (it is kept in {os.path.join(home.path, DAMAGED)}{os.sep})"
                     if os.path.dirname(path) == home.path else f"building it again in workdir {home.name}")
            lines.append(f"job {path} is damaged ({why}): {where}")
        broken = self.incomplete(method, ids[0])
        if broken:
            lines.append(f"{broken} has no manifest.json, so it is not a complete job; building it again")
        refused = self.refusal(method, ids[0])
        if refused:
            lines.append(f"{job_dirname(method, ids[0])} in workdir {refused[0]} is not trusted ({refused[1]}); "
                         f"building your own")
        return lines

    def find_by_id(self, jid: str, method: str | None = None) -> str | None:
        """The folder of job ``jid`` (of ``method``, when known) in any workdir,
        complete ones first, read-only: unlike ``find`` this never opens an
        index, and also finds a folder without a manifest (verify reports it)."""
        found = []
        suffix = "-" + jid[:12]
        for wd in self.workdirs.values():
            if method:
                names = [job_dirname(method, jid)]
            else:
                if wd.path not in self._listing:
                    try:
                        self._listing[wd.path] = sorted(n for n in os.listdir(wd.path) if not n.startswith("."))
                    except OSError:
                        self._listing[wd.path] = []
                names = [n for n in self._listing[wd.path] if n.endswith(suffix)]
            for n in names:
                d = os.path.join(wd.path, n)
                if os.path.isdir(d) and (read_params(d)[0] or {}).get("id") == jid:
                    found.append(d)
        found.sort(key=lambda d: not is_complete(d))
        return found[0] if found else None

    def all_jobs(self):
        """``(workdir, dirname, params)`` of every complete job."""
        for wd in self.workdirs.values():
            for dirname, params in wd.jobs():
                yield wd, dirname, params

    def resolve(self, spec: str) -> str:
        """A JOB argument: a path, a directory name, a job id or a unique prefix."""
        if os.sep in spec or spec.startswith(".") or os.path.isdir(spec):
            p = os.path.abspath(spec)
            if os.path.isfile(os.path.join(p, JOB_JSON)):
                return p
            if os.path.isdir(p) and os.path.isfile(os.path.join(os.path.dirname(p), JOB_JSON)):
                return os.path.dirname(p)
        hits = set()
        for wd in self.workdirs.values():
            d = os.path.join(wd.path, spec)
            if spec and not spec.startswith(".") and os.path.isfile(os.path.join(d, JOB_JSON)):
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
                                with open(os.path.join(d, JOB_JSON), encoding="utf-8") as f:
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
