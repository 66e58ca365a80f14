"""The planning engine behind ``accelgit plan``, the hooks and ``report``: a
session whose ``urd.build`` computes each job's id and marks it ``reuse`` or
``build`` without running or writing anything.  A job that would be built is
handed to the script as a placeholder: reading its result stops that
script's plan there (PlanStopped).  With ``explain``, every job gets its
reasons (reasons.py).

Nothing here writes to a workdir: the store is opened read-only (its SQLite
index is neither created nor updated)."""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from accelgit.api.job import Job
from accelgit.api.joblist import JobListMethods
from accelgit.build.scripts import Session, find_scripts  # noqa: F401 - find_scripts re-exported (plan, report_collect)
from accelgit.core.errors import PlanStopped
from accelgit.core.identity import job_dirname
from accelgit.plan.reasons import Reasoner
from accelgit.store.workdir import Store


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

    passthrough = (PlanStopped,)

    def __init__(self, repo, config, view, explain: bool = False, baseline=None, keep_calls: bool = False):
        """With ``explain``, reasons against ``baseline`` (plan/baseline.py); with
        ``keep_calls``, every call's id, identity and whether it is built, by
        (script, method, name, occurrence), in ``calls`` (what a baseline is)."""
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
        self.baseline = baseline if explain else None
        if self.baseline is not None:
            self.baseline.store = self.store          # whether a baseline job is built, when it is asked
        self.reasoner = Reasoner(self, baseline) if explain else None
        self.calls: dict[tuple, tuple] | None = {} if keep_calls else None

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
        if self.calls is not None:
            p = known[0] if type(known) is tuple else known
            sm = spec.method
            self.calls[ck + (occ,)] = (spec.id, {"sources": sm.sources, "source": sm.digest, "options": spec.options,
                                                 "files": spec.files, "jobs": spec.jobs}, p.action == "reuse",
                                       tuple(spec.equivalent_ids))
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

    def known_job(self, jid: str) -> Job | None:
        p = self.planned.get(jid)
        return self.job_of(p) if p is not None else None

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


class PlanJobList(JobListMethods, Sequence):
    """``urd.joblist`` in a plan: every job returned so far, in call order."""

    def _item(self, i):
        return self[i]

    def __init__(self, session: PlanSession):
        self._s = session
        self._items: list = []

    def append(self, job: Job) -> None:
        self._items.append(self._s._last)           # the entry ``job`` was made from

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):
        if isinstance(i, str):
            return self.find(i)[-1]
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
