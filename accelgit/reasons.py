"""The planning engine behind ``accelgit plan``: a session whose ``urd.build``
computes each job's id and marks it ``reuse`` or ``build`` without running or
writing anything, and the reasons a job must be built.

Reasons compare a job with the job *the same urd.build call* produced last
time: the call is matched by (method, name, occurrence) in the script's run
record (``<target workdir>/.runs/<script>.json``, written by ``build``); with
no record, the newest complete job of that method and name stands in.

Nothing here writes to a workdir: the store is opened read-only (its SQLite
index is neither created nor updated).  ``plan.py`` is the cheap front end.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field

from .errors import PlanStopped
from .identity import job_dirname
from .jobref import Job, flat_inputs
from .session import RUNS, Session, find_scripts  # noqa: F401 - find_scripts re-exported for plan.py
from .store import MANIFEST, Store


@dataclass
class Planned:
    """One distinct job of the plan (its first use)."""
    spec: object                  # builder.JobSpec
    id: str                       # the id used (an equivalent_hashes id when that job is reused)
    action: str                   # "reuse" | "build"
    path: str
    script: str
    key: tuple                    # (method, name, occurrence in the script)
    inputs: list = field(default_factory=list)
    reasons: list = field(default_factory=list)
    changed_inputs: list = field(default_factory=list)   # (label, old id, new id)
    own_change: bool = False
    diffed: bool = False


class PlanSession(Session):
    """``urd.build`` -> a job reference, nothing executed, nothing written."""

    mode = "plan"

    def __init__(self, repo, config, view):
        super().__init__(repo, config, view)
        self.store = Store(config, readonly=True)
        self.planned: dict[str, Planned] = {}       # job id -> first use, in order
        self._jobs: dict[str, Job] = {}             # spec id -> the Job handed out
        self._calls: dict[tuple, int] = {}
        self.current_script: str | None = None

    def submit(self, spec) -> Job:
        m = spec.method.name
        script = spec.script or self.current_script
        ck = (script, m, spec.name)
        occ = self._calls.get(ck, 0)      # every call counts, as in the run record
        self._calls[ck] = occ + 1
        known = self._jobs.get(spec.id)
        if known is not None:
            return known
        hit = None if spec.force else self.store.find(m, [spec.id] + spec.equivalent_ids, first=spec.workdir)
        if hit:
            job = Job(hit[0], id=hit[1], method=m, name=spec.name)
            action = "reuse"
        else:
            job = Job(spec.workdir.job_path(m, spec.id), id=spec.id, method=m, name=spec.name)
            job._waiter = self._stopper(job)
            action = "build"
        self._jobs[spec.id] = job
        if job.id not in self.planned:
            inputs = [j.id for j in flat_inputs(spec.inputs)]
            self.planned[job.id] = Planned(spec, job.id, action, job.path, script, (m, spec.name, occ), inputs)
        return job

    def _stopper(self, job: Job):
        def waiter():
            raise PlanStopped(job, self._where())
        return waiter

    def _where(self) -> str:
        script = self.current_script or "?"
        fname = self.script_filename(script)
        f = sys._getframe(1)
        while f is not None:
            if f.f_code.co_filename == fname:
                return f"{script}:{f.f_lineno}"
            f = f.f_back
        return script


# ------------------------------------------------------------------ reasons

_IDENTITY_KEYS = ("id", "source", "sources", "options", "jobs", "files")


def _identity_part(params: dict | None) -> dict | None:
    """What reasons compare of a previous job.json: its identity, not its
    provenance (git, host, ...), so a plan holds little per job."""
    return None if params is None else {k: params.get(k) for k in _IDENTITY_KEYS}


class Reasoner:
    """Finds each build job's previous job and says what differs."""

    def __init__(self, session: PlanSession):
        self.s = session
        self.store = session.store
        self._records: dict[str, dict | None] = {}
        self._params: dict[tuple, dict | None] = {}
        self._scan: dict[str, dict] = {}
        self._git = GitInfo(session.repo, session.view)

    # -- last time
    def record(self, script: str) -> dict | None:
        """``{(method, name, occurrence): id}`` from the script's last build, or None."""
        if script not in self._records:
            path = os.path.join(self.store.target.path, RUNS, script.replace("/", "__") + ".json")
            out = None
            try:
                with open(path, encoding="utf-8") as f:
                    data = json.load(f)
                out, seen = {}, {}
                for j in data.get("jobs", []):
                    k = (j["method"], j["name"])
                    n = seen.get(k, 0)
                    seen[k] = n + 1
                    out[(j["method"], j["name"], n)] = j["id"]
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                out = None
            self._records[script] = out
        return self._records[script]

    def params(self, method: str, jid: str) -> dict | None:
        key = (method, jid)
        if key not in self._params:
            hit = self.store.find(method, [jid])
            self._params[key] = _identity_part(_read_json(os.path.join(hit[0], "job.json"))) if hit else None
        return self._params[key]

    def newest(self, method: str, name: str, exclude: str) -> dict | None:
        """The newest complete job of ``method`` and ``name`` in any workdir."""
        best = None
        for wd in self.store.workdirs.values():
            rows = wd.index.rows("WHERE method = ? AND name = ? ORDER BY built_at DESC", (method, name))
            if rows is None:
                rows = self._scanned(wd).get((method, name), [])
            for r in rows:
                if r["id"] == exclude or not os.path.isfile(os.path.join(wd.path, r["dirname"], MANIFEST)):
                    continue
                if best is None or (r["built_at"] or "") > (best[0]["built_at"] or ""):
                    best = (r, wd)
                break
        if best is None:
            return None
        return _identity_part(_read_json(os.path.join(best[1].path, best[0]["dirname"], "job.json")))

    def _scanned(self, wd) -> dict:
        """Without an index (plan never creates one): the job folders, read once."""
        if wd.name not in self._scan:
            from .index import scan_jobs
            by: dict[tuple, list] = {}
            for dirname, p in scan_jobs(wd.path):
                by.setdefault((p.get("method"), p.get("name")), []).append(
                    {"id": p["id"], "dirname": dirname, "built_at": p.get("built_at")})
            for rows in by.values():
                rows.sort(key=lambda r: r["built_at"] or "", reverse=True)
            self._scan[wd.name] = by
        return self._scan[wd.name]

    def previous(self, p: Planned) -> tuple[dict | None, str]:
        """The job this call made last time (its job.json), or None and why not."""
        method, name, occ = p.key
        rec = self.record(p.script)
        if rec is not None:
            prev_id = rec.get(p.key)
            if prev_id is None:
                return None, f"no earlier job of this call ({p.script}: {method} '{name}', call {occ + 1} is new)"
            if prev_id == p.id:
                params = self.params(method, p.id)
                if params is not None:          # still there: only force_build rebuilds it
                    return params, ""
                broken = self.store.incomplete(method, p.id)
                if broken:
                    return None, f"no earlier job of this call: {job_dirname(method, p.id)} has no manifest.json (incomplete)"
                return None, f"no earlier job of this call: {job_dirname(method, p.id)} was built before but is in no workdir now"
            params = self.params(method, prev_id)
            if params is not None:
                return params, ""
        params = self.newest(method, name, p.id)
        if params is None:
            return None, "no earlier job of this call"
        return params, ""

    # -- differences
    def diff(self, p: Planned) -> None:
        if p.diffed:
            return
        p.diffed = True
        spec = p.spec
        reasons = []
        if spec.force:
            reasons.append({"kind": "forced", "detail": "force_build=True"})
        prev, why = self.previous(p)
        if prev is None:
            p.own_change = True
            if p.action == "build":
                reasons.append({"kind": "new", "detail": why})
            p.reasons = reasons
            return
        own = []
        old_src = prev.get("sources")
        if isinstance(old_src, dict):
            own += self._blobs("source", old_src, spec.method.sources)
        elif prev.get("source") != spec.method.digest:
            own.append({"kind": "source", "detail": f"source digest {str(prev.get('source'))[:12]} → {spec.method.digest[:12]}",
                        "old": prev.get("source"), "new": spec.method.digest})
        old_opts = prev.get("options") or {}
        for k in sorted(set(old_opts) | set(spec.options)):
            a, b = old_opts.get(k, _MISSING), spec.options.get(k, _MISSING)
            if a != b:
                own.append({"kind": "option", "detail": f"{k}: {_show(a)} → {_show(b)}", "option": k,
                            "old": None if a is _MISSING else a, "new": None if b is _MISSING else b})
        own += self._blobs("file", prev.get("files") or {}, spec.files)
        old_jobs = prev.get("jobs") or {}
        changed = []
        for k in sorted(set(old_jobs) | set(spec.jobs)):
            a, b = old_jobs.get(k), spec.jobs.get(k)
            if a == b:
                continue
            if isinstance(a, list) or isinstance(b, list):
                a, b = a if isinstance(a, list) else [], b if isinstance(b, list) else []
                for i in range(max(len(a), len(b))):
                    x = a[i] if i < len(a) else None
                    y = b[i] if i < len(b) else None
                    if x != y:
                        changed.append((f"{k}[{i}]", x, y))
            else:
                changed.append((k, a, b))
        p.own_change = bool(own) or any(y is None for _, _, y in changed)
        p.changed_inputs = [(k, x, y) for k, x, y in changed if y is not None]
        for k, x, y in changed:
            if y is None:               # the call no longer gives this input: a change of its own
                own.append({"kind": "input", "detail": f"{k}: {_jobname(x)} → (none)", "input": k,
                            "old": x, "new": None, "hops": 0})
        p.reasons = reasons + own
        if p.action == "build" and not p.reasons and not p.changed_inputs:
            p.reasons.append({"kind": "new", "detail": "no earlier job of this call differs (nothing to compare)"})

    def _blobs(self, kind: str, old: dict, new: dict) -> list[dict]:
        out = []
        for path in sorted(set(old) | set(new)):
            a, b = old.get(path), new.get(path)
            if a == b:
                continue
            when = self._git.describe(path, b) if b else ""
            if a is None:
                detail = f"{path}: added ({b[:7]}){when}"
            elif b is None:
                detail = f"{path}: removed (was {a[:7]})"
            else:
                detail = f"{path}: {a[:7]} → {b[:7]}{when}"
            r = {"kind": kind, "detail": detail, "path": path, "old": a, "new": b}
            commit = self._git.last_commit(path, b) if b else None
            if commit:
                r["commit"] = commit
            out.append(r)
        return out

    def explain(self, planned: list[Planned]) -> None:
        """Reasons for every build job, with hop counts for changed inputs."""
        needed: set[str] = set()
        for p in reversed(planned):
            if p.action == "build" or p.id in needed:
                self.diff(p)
                for _, _, y in p.changed_inputs:
                    needed.add(y)
        depth: dict[str, tuple[int, str]] = {}
        by_id = {p.id: p for p in planned}
        for p in planned:
            if not p.diffed:
                continue
            best = None
            for _, _, y in p.changed_inputs:
                d = depth.get(y, (0, y)) if y in by_id else (0, y)
                cand = (d[0] + 1, d[1])
                if best is None or cand[0] < best[0]:
                    best = cand
            depth[p.id] = (0, p.id) if p.own_change or best is None else best
            if p.action != "build":
                continue
            for k, x, y in p.changed_inputs:
                hops, root = depth.get(y, (0, y))
                hops += 1
                rp, ip = by_id.get(root), by_id.get(y)
                root_name = job_dirname(rp.spec.method.name, root) if rp else root[:12]
                im = ip.spec.method.name if ip else None
                p.reasons.append({
                    "kind": "input",
                    "detail": f"{k}: {_jobname(x, im)} → {_jobname(y, im)}, {hops} hop{'s' if hops != 1 else ''} "
                              f"from the change in {root_name}",
                    "input": k, "old": x, "new": y, "hops": hops, "root": root})


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


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING = _Missing()


def _show(v) -> str:
    if v is _MISSING:
        return "(absent)"
    return json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _jobname(jid, method: str | None = None) -> str:
    if jid is None:
        return "(none)"
    return job_dirname(method, jid) if method else jid[:12]


def _read_json(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        return d if isinstance(d, dict) else None
    except (OSError, ValueError):
        return None
