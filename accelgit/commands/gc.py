"""``accelgit gc``: remove what the target workdir no longer needs.

Removed, in this order:

* ``failed``: failed builds kept for their logs (``.failed/*``);
* ``temp``: folders under ``.tmp`` that no live build owns.  A temp folder is
  ``<dirname>.<pid>.<rand>``; it is live only if that pid is alive *and* the
  job's lock (``.locks/<dirname>.lock``) is held right now;
* ``incomplete``: job-like folders (``<method>-<12 hex>``) without a
  ``manifest.json``, or whose ``job.json`` cannot be read (never jobs);
* ``job``: complete jobs nothing keeps (gc_keep.py: the build scripts at
  HEAD, every local branch tip and tag, or every commit; the run records;
  inputs of kept jobs, transitively, in any workdir; jobs newer than the grace
  period).  With an unreadable run record, a kept commit whose scripts cannot
  be planned, or while a build holds the workdir's session lock, no job is
  removed;
* ``lock``: per-job lock files nobody holds;
* ``damaged-index``: ``index.sqlite.damaged`` left by an index repair.

Only the target workdir is written; other workdirs (a teammate's shared,
read-only one) are only read, to follow input references.
"""
from __future__ import annotations

import os
import shutil
import uuid

from accelgit.commands.gc_keep import decide
from accelgit.core.errors import EXIT_FAILED, EXIT_OK
from accelgit.store import runs
from accelgit.store.jobdir import is_complete, read_complete_job
from accelgit.store.layout import (
    DAMAGED,
    DAMAGED_INDEX,
    FAILED,
    LOCKS,
    SESSION_LOCK,
    TMP,
    UNTRUSTED,
    is_job_name,
    lock_path,
)
from accelgit.store.locks import lock_held, try_lock
from accelgit.store.workdir import Store

KINDS = ("job", "failed", "untrusted", "damaged", "temp", "incomplete", "lock", "damaged-index")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _size(path: str) -> int:
    if os.path.isfile(path) or os.path.islink(path):
        try:
            return os.lstat(path).st_size
        except OSError:
            return 0
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for fn in files:
            try:
                total += os.lstat(os.path.join(dirpath, fn)).st_size
            except OSError:
                pass
    return total


def _listdir(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except (FileNotFoundError, NotADirectoryError):
        return []


class _Unreadable(Exception):
    pass


def params_index(store: Store) -> dict[str, dict]:
    """``{job id: job.json}`` of every complete job in any workdir (references
    may go through a teammate's workdir)."""
    params_of: dict[str, dict] = {}
    for wd in store.workdirs.values():
        try:
            for _dirname, params in wd.jobs():
                params_of.setdefault(params["id"], params)
        except OSError as e:    # references may go through it: keep every job
            raise _Unreadable(f"workdir '{wd.name}' cannot be read ({e.strerror or e})") from None
    return params_of


class Collector:
    """What gc finds in one workdir; ``apply`` removes it."""

    def __init__(self, wd_path: str):
        self.path = wd_path
        self.removed: list[dict] = []
        self.live: list[str] = []
        self.notes: list[str] = []
        self.errors: list[str] = []
        self.kept_jobs: list[dict] = []

    def add(self, kind: str, path: str, reason: str, **extra) -> None:
        rel = os.path.relpath(path, self.path).replace(os.sep, "/")
        self.removed.append({"kind": kind, "path": rel, "bytes": _size(path), "reason": reason, **extra})


def collect(repo, store: Store, wd_path: str, build_running: bool, policy: dict) -> tuple[Collector, int]:
    """Everything to remove from ``wd_path``, and how many complete jobs stay.
    ``policy``: gc_keep.decide's keep, branch_tips and grace_days."""
    c = Collector(wd_path)
    for name in _listdir(os.path.join(wd_path, FAILED)):
        c.add("failed", os.path.join(wd_path, FAILED, name), "a failed build (kept for its logs)")
    for name in _listdir(os.path.join(wd_path, UNTRUSTED)):
        c.add("untrusted", os.path.join(wd_path, UNTRUSTED, name),
              "a job folder not signed by a key you trust, moved aside by a build")
    for name in _listdir(os.path.join(wd_path, DAMAGED)):
        c.add("damaged", os.path.join(wd_path, DAMAGED, name),
              "a job modified after its build, moved aside by a build")
    for name in _listdir(os.path.join(wd_path, TMP)):
        p = os.path.join(wd_path, TMP, name)
        parts = name.rsplit(".", 2)
        if len(parts) == 3 and parts[1].isdigit() and _pid_alive(int(parts[1])) \
                and lock_held(wd_path, parts[0]):
            c.live.append(f"{TMP}/{name}")
            continue
        c.add("temp", p, "a temp folder no running build owns")

    complete: dict[str, dict] = {}
    for name in _listdir(wd_path):
        p = os.path.join(wd_path, name)
        if name.startswith(".") or not os.path.isdir(p) or not is_job_name(name):
            continue
        if not is_complete(p):
            if not lock_held(wd_path, name):
                c.add("incomplete", p, "no manifest.json: not a job")
            continue
        params = read_complete_job(p)
        if params is None:
            if not lock_held(wd_path, name):
                c.add("incomplete", p, "job.json missing or unreadable: not a job")
            continue
        complete[name] = params

    kept = len(complete)
    records, problems = runs.read_all(wd_path)
    if build_running:
        c.notes.append("a build is running in this workdir: no job is removed")
    elif problems:
        c.notes.append(f"unreadable run record(s) {', '.join(problems)}: no job is removed")
    elif not records and repo.head() is None:
        c.notes.append("no run records yet and no commit: no job is removed")
    else:
        if not records:
            c.notes.append("no run records yet: the jobs of the kept commits and recent jobs are kept")
        try:
            params_of = params_index(store)
        except _Unreadable as e:
            c.notes.append(f"{e}: no job is removed")
            return c, kept
        k = decide(repo, records=records, complete=complete, params_of=params_of.get, **policy)
        c.notes += k.notes
        if k.blocked:
            c.notes.append(f"{k.blocked}: no job is removed")
            return c, kept
        for name, params in complete.items():
            why = k.reasons.get(params["id"]) or ("being built" if lock_held(wd_path, name) else None)
            if why:
                c.kept_jobs.append({"path": name, "id": params["id"], "reason": why})
                continue
            c.add("job", os.path.join(wd_path, name), "no kept commit, run record or recent build uses it",
                  id=params["id"], method=params.get("method"), name=params.get("name"))
            kept -= 1

    if not build_running:
        for name in _listdir(os.path.join(wd_path, LOCKS)):
            if name.endswith(".lock") and not lock_held(wd_path, name[:-5]):
                c.add("lock", os.path.join(wd_path, LOCKS, name), "a lock nobody holds")
    damaged = os.path.join(wd_path, DAMAGED_INDEX)
    if os.path.isfile(damaged):
        c.add("damaged-index", damaged, "a damaged index moved aside by a repair")
    return c, kept


def apply(c: Collector, store: Store) -> int:
    """Remove what ``c`` found.  A job is first renamed into ``.tmp`` (one atomic
    step: it stops being a job), then deleted; a lock file only while gc holds it."""
    wd = store.target
    for item in c.removed:
        p = os.path.join(c.path, *item["path"].split("/"))
        try:
            if item["kind"] == "lock":
                fd = try_lock(p)
                if fd is None:
                    item["skipped"] = "held"
                    continue
                try:
                    os.unlink(p)
                finally:
                    os.close(fd)
            elif item["kind"] == "damaged-index":
                os.unlink(p)
            elif item["kind"] in ("job", "incomplete"):
                name = os.path.basename(p)
                fd = try_lock(lock_path(c.path, name))
                if fd is None and os.path.exists(lock_path(c.path, name)):
                    item["skipped"] = "being built"
                    continue
                try:
                    os.makedirs(os.path.join(c.path, TMP), exist_ok=True)
                    trash = os.path.join(c.path, TMP, f"{name}.gc.{uuid.uuid4().hex[:8]}")
                    os.rename(p, trash)
                    if item["kind"] == "job":
                        wd.index.remove(name)
                finally:
                    if fd is not None:
                        os.close(fd)
                shutil.rmtree(trash)
            else:
                shutil.rmtree(p)
        except FileNotFoundError:
            pass
        except OSError as e:
            c.errors.append(f"cannot remove {item['path']}: {e.strerror or e}")
            item["skipped"] = "error"
    skipped_jobs = sum(1 for i in c.removed if "skipped" in i and i["kind"] == "job")
    c.removed = [i for i in c.removed if "skipped" not in i]
    return skipped_jobs


def gc_command(repo, config, *, cwd: str, as_json: bool, dry_run: bool, all_commits: bool,
               no_branch_tips: bool, workdir: str | None) -> int:
    from accelgit.commands.output import emit
    store = Store(config)
    wd_path = store.workdir(workdir).path
    store.target = store.workdir(workdir)
    policy = {"keep": "all-commits" if all_commits else config.gc_keep, "branch_tips": not no_branch_tips,
              "grace_days": config.gc_grace_days}
    session_fd = None
    build_running = False
    if os.path.isdir(wd_path):
        sp = os.path.join(wd_path, SESSION_LOCK)
        if os.path.exists(sp):
            session_fd = try_lock(sp)
            build_running = session_fd is None
    try:
        if os.path.isdir(wd_path):
            c, kept = collect(repo, store, wd_path, build_running, policy)
            if not dry_run:
                kept += apply(c, store)
        else:
            c, kept = Collector(wd_path), 0
            c.notes.append("the workdir does not exist yet: nothing to do")
    finally:
        if session_fd is not None:
            os.close(session_fd)
    counts = {k: sum(1 for i in c.removed if i["kind"] == k) for k in KINDS}
    freed = sum(i["bytes"] for i in c.removed)
    if as_json:
        emit({"workdir": wd_path, "dry_run": dry_run, "removed": c.removed, "kept": kept, "kept_jobs": c.kept_jobs,
              "counts": counts, "bytes": freed, "live": c.live, "notes": c.notes, "errors": c.errors})
    else:
        verb = "would remove" if dry_run else "removed"
        for i in c.removed:
            if i["kind"] == "lock":
                continue          # many and dull: counted in the summary
            print(f"{verb:12s} {i['kind']:13s} {i['path']}  ({_human(i['bytes'])}: {i['reason']})")
        for n in c.live:
            print(f"{'kept':12s} {'temp':13s} {n}  (a build is running)")
        if dry_run:
            for j in c.kept_jobs:
                print(f"{'would keep':12s} {'job':13s} {j['path']}  ({j['reason']})")
        for n in c.notes:
            print(f"note: {n}")
        parts = [_count(counts[k], k) for k in KINDS if counts[k]]
        print(f"gc {os.path.relpath(wd_path, repo.root) if wd_path.startswith(repo.root + os.sep) else wd_path}: "
              f"{verb} {', '.join(parts) if parts else 'nothing'} ({_human(freed)}); kept {_count(kept, 'job')}")
    for e in c.errors:
        import sys
        print(f"accelgit: gc: {e}", file=sys.stderr)
    return EXIT_FAILED if c.errors else EXIT_OK


_LABELS = {"job": "job", "failed": "failed build", "untrusted": "untrusted folder", "damaged": "damaged job",
           "temp": "temp folder", "incomplete": "incomplete folder",
           "lock": "lock file", "damaged-index": "damaged index"}


def _count(n: int, kind: str) -> str:
    label = _LABELS[kind]
    return f"{n} {label}{'' if n == 1 or label.endswith('index') else 's'}"


def _human(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"
