"""The planning engine behind ``accelgit plan``: a session whose ``urd.build``
computes each job's id and marks it ``reuse`` or ``build`` without running or
writing anything, and the reasons a job must be built.

Reasons compare a job with the job *the same urd.build call* produced last
time (``lastrun.py`` finds it: by the script's run record, else the newest
job of that method and name).

Memory is linear and small (a few hundred bytes a job): a build job is
compared with its previous job as it is submitted (its inputs were all
submitted before it), and only a compact ``Planned`` record is kept; reasons
are tuples that ``reason_dicts`` turns into the JSON shape when the plan is
written.  A reused job is compared only if a job built after it needs to know
(it is a changed input): for that it keeps what the comparison needs, unless
its run record says it is the very job of last time (nothing to compare).

Nothing here writes to a workdir: the store is opened read-only (its SQLite
index is neither created nor updated).  ``plan.py`` is the cheap front end.
"""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

from .errors import PlanStopped
from .identity import job_dirname
from .jobref import Job
from .lastrun import GitInfo, LastRun
from .session import Session, find_scripts  # noqa: F401 - find_scripts re-exported (plan, report_collect)
from .store import Store


class Planned:
    """One distinct job of the plan (its first use)."""
    __slots__ = ("id", "method", "name", "action", "script", "line", "folder", "inputs",
                 "reasons", "hops", "root", "state")

    def __init__(self, jid, method, name, action, script, line, folder, inputs):
        self.id = jid               # the id used (an equivalent_hashes id when that job is reused)
        self.method, self.name = method, name
        self.action = action        # "reuse" | "build"
        self.script, self.line = script, line
        self.folder = folder        # the job's workdir, with a trailing separator (shared)
        self.inputs = inputs        # input job ids: a tuple, or the one id
        self.reasons = ()           # compact reasons (see reason_dicts; one: just it)
        self.hops = self.root = None    # distance from, and id of, the change behind it (once compared)
        self.state = None           # while not compared: what comparing needs

    @property
    def path(self) -> str:
        return self.folder + job_dirname(self.method, self.id)

    def input_ids(self) -> tuple:
        return (self.inputs,) if type(self.inputs) is str else self.inputs

    def reason_list(self) -> tuple:
        r = self.reasons
        return (r,) if r and type(r[0]) is str else r


class PlanSession(Session):
    """``urd.build`` -> a job reference, nothing executed, nothing written.
    With ``explain``, every job gets its reasons (``Reasoner``)."""

    mode = "plan"

    def __init__(self, repo, config, view, explain: bool = False):
        super().__init__(repo, config, view)
        self.store = Store(config, readonly=True)
        self.planned: dict[str, Planned] = {}       # job id -> first use, in order
        self._alias: dict[str, object] = {}         # spec id -> Planned | (Planned, name), when not planned[spec id]
        self._indirect: set[str] = set()            # planned ids first reached through an equivalent id
        self._calls: dict[tuple, int] = {}
        self._ints: dict[int, int] = {}
        self._folders: dict[str, str] = {}
        self._last = None
        self.current_script: str | None = None
        self.reasoner = Reasoner(self) if explain else None

    def new_joblist(self) -> PlanJobList:
        """``urd.joblist`` (urd.py asks): compact, Job references made when read."""
        return PlanJobList(self)

    def submit(self, spec) -> Job:
        m = spec.method.name
        script = spec.script or self.current_script
        ck = (script, m, spec.name)
        occ = self._calls.get(ck, 0)      # every call counts, as in the run record
        self._calls[ck] = occ + 1
        known = self._alias.get(spec.id)
        if known is None and spec.id not in self._indirect:
            known = self.planned.get(spec.id)
        if known is None:
            known = self._plan(spec, m, script, occ)
        self._last = known
        return self.job_of(known)

    def _plan(self, spec, m: str, script: str, occ: int):
        hit = None if spec.force else self.store.find(m, [spec.id] + spec.equivalent_ids, first=spec.workdir)
        if hit:
            jid, wdpath, action = hit[1], os.path.dirname(hit[0]), "reuse"
        else:
            jid, wdpath, action = spec.id, spec.workdir.path, "build"
        folder = self._folders.get(wdpath)
        if folder is None:
            folder = self._folders[wdpath] = os.path.join(wdpath, "")
        p = self.planned.get(jid)
        if p is not None:               # an equivalent id of a planned job
            known = p if p.name == spec.name else (p, spec.name)
            self._alias[spec.id] = known
            return known
        line = spec.lineno
        line = self._ints.setdefault(line, line)
        p = Planned(jid, m, spec.name, action, script, line, folder, _input_ids(spec.jobs))
        self.planned[jid] = p
        if jid != spec.id:
            self._indirect.add(jid)
            self._alias[spec.id] = p
        if self.reasoner is not None:
            self.reasoner.submitted(p, spec, occ)
        return p

    def job_of(self, known) -> Job:
        """The Job handed to the script for a plan entry."""
        p, name = known if type(known) is tuple else (known, known.name)
        job = Job(p.path, id=p.id, method=p.method, name=name)
        if p.action == "build":
            job._waiter = self._stopper(job)
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

    def finish(self) -> None:
        """Planning is over: drop the store (its map of every stored job) and
        what only comparing needed."""
        self.store = self.methods = None
        self._alias = self._indirect = self._calls = self._ints = self._folders = self._last = None
        if self.reasoner is not None:
            self.reasoner.finish()


class PlanJobList(Sequence):
    """``urd.joblist`` in a plan: every job returned so far, in call order."""

    def __init__(self, session: PlanSession):
        self._s = session
        self._items: list = []

    def append(self, job: Job) -> None:
        self._items.append(self._s._last)           # the entry ``job`` was made from

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._s.job_of(k) for k in self._items[i]]
        return self._s.job_of(self._items[i])

    def __repr__(self) -> str:
        return repr(list(self))


def _input_ids(jobs: dict):
    """The input ids of a spec's ``jobs``: the one id itself, or a tuple."""
    if len(jobs) == 1:
        for v in jobs.values():
            if type(v) is str:
                return v
    out = []
    for v in jobs.values():
        if isinstance(v, list):
            out += v
        elif v is not None:
            out.append(v)
    return out[0] if len(out) == 1 and type(out[0]) is str else tuple(out)


# ------------------------------------------------------------------ reasons

_BATCH = 256


class Reasoner:
    """Finds each job's previous job and says what differs; hop counts."""

    def __init__(self, session: PlanSession):
        self.s = session
        self.last = LastRun(session.store)
        self._builds: list[tuple] = []          # build jobs not compared yet (flush)
        self._strs: dict[str, str] = {}
        self._git = GitInfo(session.repo, session.view)

    def finish(self) -> None:
        self.flush()
        self.last.finish()
        self._strs = None

    # -- as jobs are submitted
    def submitted(self, p: Planned, spec, occ: int) -> None:
        rid = self.last.record_id(p.script, p.method, p.name, occ)
        what = (spec.force, spec.method, spec.options, spec.files, spec.jobs, rid, occ)
        if p.action == "build":
            self._builds.append((p, what))
            if len(self._builds) >= _BATCH:
                self.flush()
        elif rid == p.id == spec.id:
            p.hops, p.root = 0, p.id        # the job of last time: nothing differs
        else:
            p.state = ("snap",) + what      # compared if a build needs it

    def flush(self) -> None:
        """Compare the build jobs submitted since the last flush, in order.  (In
        batches: reading previous jobs' job.json one after another, rather than
        between the script's calls, is ~10 % faster; a batch holds ~100 KB.)"""
        builds, self._builds = self._builds, []
        planned = self.s.planned
        for p, what in builds:
            cmp = self._compare(p, *what)
            for _, _, y in cmp[2]:
                yp = planned.get(y)
                if yp is not None and yp.hops is None:      # a reused job not compared yet
                    p.state = ("cmp",) + cmp
                    self.ensure(p)
                    break
            else:
                self._finish(p, *cmp)

    def ensure(self, p: Planned) -> None:
        """Compare ``p`` (and the not yet compared jobs its changed inputs are,
        transitively: all submitted earlier) and set its hops and reasons."""
        planned = self.s.planned
        stack = [p]
        while stack:
            q = stack[-1]
            if q.hops is not None:
                stack.pop()
                continue
            st = q.state
            if st[0] == "snap":
                st = q.state = ("cmp",) + self._compare(q, *st[1:])
            waiting = [planned[y] for _, _, y in st[3] if y in planned and planned[y].hops is None]
            if waiting:
                stack.extend(waiting)
                continue
            self._finish(q, *st[1:])
            q.state = None
            stack.pop()

    # -- differences
    def _compare(self, p: Planned, force, method, options, files, jobs, rid, occ) -> tuple:
        """(own reasons, whether the job changed itself, changed inputs (name, old id, new id))."""
        reasons = [("forced",)] if force else []
        prev, why = self.last.previous(p, rid, occ)
        if prev is None:
            if p.action == "build":
                reasons.append(why)
            return reasons, True, ()
        own = []
        old_src = prev.get("sources")
        if isinstance(old_src, dict):
            own += self._blobs("source", old_src, method.sources)
        elif prev.get("source") != method.digest:
            own.append(("digest", prev.get("source"), method.digest))
        old_opts = prev.get("options") or {}
        for k in sorted(set(old_opts) | set(options)):
            a, b = old_opts.get(k, _MISSING), options.get(k, _MISSING)
            if a != b:
                own.append(("option", k, a, b))
        own += self._blobs("file", prev.get("files") or {}, files)
        old_jobs = prev.get("jobs") or {}
        changed = []
        for k in sorted(set(old_jobs) | set(jobs)):
            a, b = old_jobs.get(k), jobs.get(k)
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
        own_change = bool(own) or any(y is None for _, _, y in changed)
        for k, x, y in changed:
            if y is None:               # the call no longer gives this input: a change of its own
                own.append(("input0", k, x))
        changed_inputs = tuple((k, x, y) for k, x, y in changed if y is not None)
        reasons += own
        if p.action == "build" and not reasons and not changed_inputs:
            reasons.append(("new", 4))
        return reasons, own_change, changed_inputs

    def _blobs(self, kind: str, old: dict, new: dict) -> list[tuple]:
        out = []
        strs = self._strs
        for path in sorted(set(old) | set(new)):
            a, b = old.get(path), new.get(path)
            if a == b:
                continue
            if b:
                self._git.last_commit(path, b)      # asked now, while the view is open
            out.append((kind, strs.setdefault(path, path), strs.setdefault(a, a) if type(a) is str else a, b))
        return out

    def _finish(self, p: Planned, reasons: list, own_change: bool, changed: tuple) -> None:
        """Hops of ``p`` (its inputs are finished) and its input reasons."""
        planned = self.s.planned
        best = None
        for _, _, y in changed:
            yp = planned.get(y)
            d = (yp.hops, yp.root) if yp is not None else (0, y)
            if best is None or d[0] + 1 < best[0]:
                best = (d[0] + 1, d[1])
        p.hops, p.root = (0, p.id) if own_change or best is None else best
        if p.action == "build":
            reasons += [("input", k, x, y) for k, x, y in changed]     # hops: from y's, when written
        p.reasons = reasons[0] if len(reasons) == 1 else tuple(reasons)

    # -- the JSON shape
    def reason_dicts(self, p: Planned) -> list[dict]:
        """``p``'s reasons as ``{"kind", "detail", ...}`` dicts (SPEC §7)."""
        out = []
        planned = self.s.planned
        for r in p.reason_list():
            kind = r[0]
            if kind == "forced":
                out.append({"kind": "forced", "detail": "force_build=True"})
            elif kind == "new":
                out.append({"kind": "new", "detail": _new_detail(p, r)})
            elif kind in ("source", "file"):
                _, path, a, b = r
                when = self._git.describe(path, b) if b else ""
                if a is None:
                    detail = f"{path}: added ({b[:7]}){when}"
                elif b is None:
                    detail = f"{path}: removed (was {a[:7]})"
                else:
                    detail = f"{path}: {a[:7]} → {b[:7]}{when}"
                d = {"kind": kind, "detail": detail, "path": path, "old": a, "new": b}
                commit = self._git.last_commit(path, b) if b else None
                if commit:
                    d["commit"] = commit
                out.append(d)
            elif kind == "digest":
                _, a, b = r
                out.append({"kind": "source", "detail": f"source digest {str(a)[:12]} → {b[:12]}", "old": a, "new": b})
            elif kind == "option":
                _, k, a, b = r
                out.append({"kind": "option", "detail": f"{k}: {_show(a)} → {_show(b)}", "option": k,
                            "old": None if a is _MISSING else a, "new": None if b is _MISSING else b})
            elif kind == "input0":
                _, k, x = r
                out.append({"kind": "input", "detail": f"{k}: {_jobname(x)} → (none)", "input": k,
                            "old": x, "new": None, "hops": 0})
            else:
                _, k, x, y = r
                ip = planned.get(y)
                hops, root = (ip.hops + 1, ip.root) if ip is not None else (1, y)
                rp = planned.get(root)
                root_name = job_dirname(rp.method, root) if rp else root[:12]
                im = ip.method if ip else None
                out.append({
                    "kind": "input",
                    "detail": f"{k}: {_jobname(x, im)} → {_jobname(y, im)}, {hops} hop{'s' if hops != 1 else ''} "
                              f"from the change in {root_name}",
                    "input": k, "old": x, "new": y, "hops": hops, "root": root})
        return out


def _new_detail(p: Planned, r: tuple) -> str:
    code = r[1]
    if code == 1:
        return f"no earlier job of this call ({p.script}: {p.method} '{p.name}', call {r[2] + 1} is new)"
    if code == 2:
        return f"no earlier job of this call: {job_dirname(p.method, p.id)} has no manifest.json (incomplete)"
    if code == 3:
        return f"no earlier job of this call: {job_dirname(p.method, p.id)} was built before but is in no workdir now"
    if code == 4:
        return "no earlier job of this call differs (nothing to compare)"
    return "no earlier job of this call"


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


