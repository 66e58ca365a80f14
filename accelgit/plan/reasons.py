"""Why a planned job must be built: each job is compared with the job *the
same urd.build call* gives at the baseline commit (``baseline.py``: HEAD for
the work tree and the index), through the one job-vs-job comparison
(``diff.py``), and the reasons are worded.

Memory is linear and small (a few hundred bytes a job): a build job is
compared with its previous job as it is submitted (its inputs were all
submitted before it); reasons are tuples that ``reason_dicts`` turns into the
JSON shape when the plan is written.  A reused job is compared only if a job
built after it needs to know (it is a changed input): for that it keeps what
the comparison needs, unless its run record says it is the very job of last
time (nothing to compare).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from accelgit.core.identity import job_dirname
from accelgit.plan.diff import MISSING, diff, identity
from accelgit.plan.gitinfo import GitInfo

if TYPE_CHECKING:
    from accelgit.plan.baseline import Baseline
    from accelgit.plan.engine import Planned, PlanSession

# ------------------------------------------------------------------ reasons

_BATCH = 256


class Reasoner:
    """Finds each job's previous job and says what differs; hop counts."""

    def __init__(self, session: PlanSession, baseline: Baseline):
        self.s = session
        self.base = baseline
        self._builds: list[tuple] = []          # build jobs not compared yet (flush)
        self._strs: dict[str, str] = {}
        self._untrusted: dict[str, tuple] = {}      # job id -> (workdir, why): stored, not trusted
        self._damaged: dict[str, str] = {}          # job id -> why: stored, modified after its build
        self._git = GitInfo(session.repo, session.view)

    def finish(self) -> None:
        self.flush()
        self.base.finish()
        self._strs = None

    # -- as jobs are submitted
    def submitted(self, p: Planned, spec, occ: int) -> None:
        what = (spec.force, spec.method, spec.options, spec.files, spec.jobs, occ)
        if p.action == "build":
            refused = self.s.store.refusal(p.method, p.id)
            if refused is not None:
                self._untrusted[p.id] = refused
            if not spec.force:
                for _, why in self.s.store.damage(p.method, [spec.id, *spec.equivalent_ids]):
                    self._damaged.setdefault(p.id, why)
            self._builds.append((p, what))
            if len(self._builds) >= _BATCH:
                self.flush()
        else:
            p.state = ("snap",) + what      # compared only if a build needs it (a changed input)

    def flush(self) -> None:
        """Compare the build jobs submitted since the last flush, in order.  (In
        batches: reading previous jobs' job.json one after another, rather than
        between the script's calls, is faster; a batch stays small.)"""
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
    def _compare(self, p: Planned, force, method, options, files, jobs, occ) -> tuple:
        """(own reasons, whether the job changed itself, changed inputs (name, old id, new id)),
        against the same call at the baseline."""
        reasons = [("forced",)] if force else []
        if p.id in self._untrusted:
            reasons.append(("untrusted",) + self._untrusted[p.id])
        damaged = self._damaged.get(p.id)
        if damaged is not None:
            reasons.append(("damaged", damaged))
        entry = self.base.call(p.script, p.method, p.name, occ)
        if entry is None:
            if p.action == "build" and damaged is None:
                reasons.append(("new", 0) if self.base.problem else ("new", 1, occ))
            return reasons, True, ()
        _, prev, built = entry
        own, changed = [], []
        strs = self._strs
        for d in diff(prev, identity(method.sources, method.digest, options, files, jobs)):
            kind = d[0]
            if kind == "source" or kind == "file":
                _, path, a, b = d
                a, b = (None if a is MISSING else a), (None if b is MISSING else b)
                if b:
                    self._git.last_commit(path, b)      # asked now, while the view is open
                own.append((kind, strs.setdefault(path, path), strs.setdefault(a, a) if type(a) is str else a, b))
            elif kind == "input":
                changed.append(d[1:])
            else:
                own.append(d)
        own_change = bool(own) or any(y is None for _, _, y in changed)
        for k, x, y in changed:
            if y is None:               # the call no longer gives this input: a change of its own
                own.append(("input0", k, x))
        changed_inputs = tuple((k, x, y) for k, x, y in changed if y is not None)
        reasons += own
        if p.action == "build" and (p.id in self._untrusted or damaged is not None):
            pass                                # the reason to build it is that one
        elif p.action == "build" and not built:
            reasons.append(("new", 5))          # the baseline's job of this call is not built either
        elif p.action == "build" and not reasons and not changed_inputs:
            reasons.append(("new", 4))
        return reasons, own_change, changed_inputs

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

    def _new_detail(self, p: Planned, r: tuple) -> str:
        code, base = r[1], self.base.name
        if code == 0:
            return f"nothing to compare with: {self.base.problem}"
        if code == 1:
            return f"no such call at {base} ({p.script}: {p.method} '{p.name}', call {r[2] + 1} is new)"
        if code == 5:
            return f"its job at {base} is not built either"
        return f"nothing differs from {base}"

    # -- the JSON shape
    def reason_dicts(self, p: Planned) -> list[dict]:
        """``p``'s reasons as ``{"kind", "detail", ...}`` dicts (SPEC §7)."""
        out = []
        planned = self.s.planned
        for r in p.reason_list():
            kind = r[0]
            if kind == "forced":
                out.append({"kind": "forced", "detail": "force_build=True"})
            elif kind == "untrusted":
                out.append({"kind": "untrusted", "detail": f"{r[2]} (in workdir {r[1]}): not a key you trust",
                            "workdir": r[1], "why": r[2]})
            elif kind == "damaged":
                out.append({"kind": "damaged", "detail": r[1]})
            elif kind == "new":
                out.append({"kind": "new", "detail": self._new_detail(p, r)})
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
                            "old": None if a is MISSING else a, "new": None if b is MISSING else b})
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


def _show(v) -> str:
    if v is MISSING:
        return "(absent)"
    return json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _jobname(jid, method: str | None = None) -> str:
    if jid is None:
        return "(none)"
    return job_dirname(method, jid) if method else jid[:12]
