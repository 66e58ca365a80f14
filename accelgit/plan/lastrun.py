"""What a ``urd.build`` call made last time, for ``accelgit plan``'s reasons
(``reasons.py``), and which commit last changed a path.

The call is matched by (method, name, occurrence) in the script's run record
(store/runs.py, written by ``build``); with no
record, or when the recorded job is gone, the newest complete job of that
method and name stands in.  Of a previous job only its identity is kept, and
only for a while: a call's previous job is read once.
"""
from __future__ import annotations

import os

from accelgit.store import runs
from accelgit.store.jobdir import read_params
from accelgit.store.layout import MANIFEST, run_record_path

_IDENTITY_KEYS = ("id", "source", "sources", "options", "jobs", "files")

NOREC = object()            # the script has no run record

_KEEP = 64                  # previous jobs' identities kept (a call's previous job is read once)


def _identity_part(params: dict | None) -> dict | None:
    """What reasons compare of a previous job.json: its identity, not its
    provenance (git, host, ...)."""
    return None if params is None else {k: params.get(k) for k in _IDENTITY_KEYS}


class LastRun:
    """The previous job of each call, from the run records and the store."""

    def __init__(self, store):
        self.store = store
        self._records: dict[str, dict | None] = {}
        self._params: dict[str, dict | None] = {}
        self._newest: dict[tuple, list] = {}
        self._scan: dict[str, dict] = {}

    def finish(self) -> None:
        self.store = None
        self._records = self._params = self._newest = self._scan = None

    def record(self, script: str) -> dict | None:
        """``{(method, name): [id of each occurrence]}`` from the script's last build, or None."""
        if script not in self._records:
            self._records[script] = _read_record(run_record_path(self.store.target.path, script))
        return self._records[script]

    def record_id(self, script: str, method: str, name: str, occ: int):
        """The id this call had last time (read once: the entry is dropped), None
        when the record has no such call, NOREC without a record."""
        rec = self.record(script)
        if rec is None:
            return NOREC
        ids = rec.get((method, name))
        if ids is None or occ >= len(ids):
            return None
        rid, ids[occ] = ids[occ], None
        return rid

    def params(self, method: str, jid: str) -> dict | None:
        hit = self.store.find(method, [jid])
        return self._identity(hit[0]) if hit else None

    def newest(self, method: str, name: str, exclude: str) -> dict | None:
        """The newest complete job of ``method`` and ``name`` in any workdir."""
        key = (method, name)
        if key not in self._newest:
            self._newest[key] = [(wd, self._top(wd, method, name)) for wd in self.store.workdirs.values()]
        best = None
        for _, rows in self._newest[key]:
            for r in rows:
                if r["id"] == exclude:
                    continue
                if best is None or (r["built_at"] or "") > (best["built_at"] or ""):
                    best = r
                break
        if best is None:
            return None
        return self._identity(best["path"])

    def _identity(self, jobdir: str) -> dict | None:
        """The identity part of a job.json (the last few are kept: without a run
        record, every call of a method and name compares with the same job)."""
        if jobdir not in self._params:
            if len(self._params) >= _KEEP:
                self._params.clear()
            self._params[jobdir] = _identity_part(read_params(jobdir)[0])
        return self._params[jobdir]

    def _top(self, wd, method: str, name: str) -> list:
        """The two newest complete jobs of ``method`` and ``name`` in ``wd``
        (newest first): whichever job is excluded, one of them is the answer."""
        limit = 4
        while True:
            rows = wd.index.rows("WHERE method = ? AND name = ? ORDER BY built_at DESC LIMIT ?", (method, name, limit))
            if rows is None:
                rows = self._scanned(wd).get((method, name), [])
                complete = True
            else:
                complete = len(rows) < limit
            top = [dict(r, path=os.path.join(wd.path, r["dirname"])) for r in rows
                   if os.path.isfile(os.path.join(wd.path, r["dirname"], MANIFEST))][:2]
            if len(top) == 2 or complete:
                return top
            limit *= 4

    def _scanned(self, wd) -> dict:
        """Without an index (plan never creates one): the job folders, read once;
        of each method and name the two newest jobs are kept."""
        if wd.name not in self._scan:
            from accelgit.store.index import scan_jobs
            by: dict[tuple, list] = {}
            for dirname, p in scan_jobs(wd.path):
                rows = by.setdefault((p.get("method"), p.get("name")), [])
                r = {"id": p["id"], "dirname": dirname, "built_at": p.get("built_at")}
                at = r["built_at"] or ""
                i = 0
                while i < len(rows) and (rows[i]["built_at"] or "") >= at:
                    i += 1          # newest first; equal times keep folder order (a stable sort)
                rows.insert(i, r)
                del rows[2:]
            self._scan[wd.name] = by
        return self._scan[wd.name]

    def previous(self, p, rid, occ: int) -> tuple[dict | None, tuple | None]:
        """The job the call of ``p`` (a ``reasons.Planned``; ``rid``: what
        ``record_id`` said) made last time (its job.json's identity), or None
        and why not (a ``new`` reason)."""
        if rid is not NOREC:
            if rid is None:
                return None, ("new", 1, occ)
            if rid == p.id:
                params = self.params(p.method, p.id)
                if params is not None:          # still there: only force_build rebuilds it
                    return params, None
                if self.store.incomplete(p.method, p.id):
                    return None, ("new", 2)
                return None, ("new", 3)
            params = self.params(p.method, rid)
            if params is not None:
                return params, None
        params = self.newest(p.method, p.name, p.id)
        if params is None:
            return None, ("new", 0)
        return params, None


def _read_record(path: str) -> dict | None:
    """A run record as ``{(method, name): [ids in call order]}``, or None."""
    out: dict[tuple, list] = {}
    try:
        _, jobs = runs.read(path)
        for j in jobs:
            ids = out.get((j["method"], j["name"]))
            if ids is None:
                ids = out[(j["method"], j["name"])] = []
            ids.append(j["id"])
    except (OSError, runs.RecordError):
        return None
    return out


class GitInfo:
    """Which commit last changed a path, for source and file reasons."""

    def __init__(self, repo, view):
        self.repo, self.view = repo, view
        self._base: str | None | bool = False
        self._cache: dict[tuple, str | None] = {}

    def base(self) -> str | None:
        if self._base is False:
            self._base = getattr(self.view, "commit", None) or self.repo.head()
        return self._base

    def last_commit(self, path: str, blob: str) -> str | None:
        """Short sha of the commit that last changed ``path``, when ``blob`` is
        what that commit holds (else the change is not committed: None)."""
        key = (path, blob)
        if key not in self._cache:
            out = None
            base = self.base()
            if base:
                committed = self.view.kind == "commit"
                if not committed:
                    proc = self.repo.git(["rev-parse", "-q", "--verify", f"{base}:{path}"], check=False)
                    committed = proc.returncode == 0 and proc.stdout.decode().strip() == blob
                if committed:
                    proc = self.repo.git(["log", "-1", "--format=%h", base, "--", path], check=False)
                    out = proc.stdout.decode().strip() or None
            self._cache[key] = out
        return self._cache[key]

    def describe(self, path: str, blob: str) -> str:
        c = self.last_commit(path, blob)
        if c:
            return f", last changed in {c}"
        if self.base() is None:
            return ""
        return ", staged, not committed" if self.view.kind == "index" else ", not committed"
