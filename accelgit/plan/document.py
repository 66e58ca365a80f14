"""``accelgit plan``: a dry run of the build scripts (SPEC §7).

Every job the scripts would use, ``reuse`` or ``build``, and why, for the
work tree, the index (``--staged``) or any commit (``--at REV``).  Nothing is
executed and nothing is written to a workdir.

``make_plan(repo, config, view, scripts=None, cwd=None) -> dict`` returns the
``plan --json`` document; ``run_plan`` returns the same as a compact ``Plan``
that reads like that document (hooks use it).  The command writes the text
table and the JSON as it goes, from the compact plan: a 10,000-job plan never
holds every job's dict or the whole output at once.  This module is cheap to
import: the planning engine (``engine.py``) is loaded on first use.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from accelgit.core.table import table_lines

_HEAD = ("scripts", "view", "baseline", "complete", "stopped", "summary")

_JOB_KEYS = ("id", "method", "name", "action", "reasons", "inputs", "script", "line", "path")

HEADERS = ["job", "method", "action", "reasons"]


def run_plan(repo, config, view, scripts=None, cwd=None, explain: bool = True, baseline=None,
             capture: bool = False) -> Plan:
    """The plan of ``scripts`` (default: the configured globs) in ``view``;
    without ``explain``, no reasons (only what is reused and what is built).

    What build scripts print goes to stderr (``capture``: only if one fails).
    The caller owns (and closes) ``view``.
    """
    from accelgit.build.scripts import find_scripts
    from accelgit.plan.engine import PlanSession
    if explain and baseline is None:
        from accelgit.plan.baseline import baseline_for
        baseline = baseline_for(repo, view)         # what the reasons compare with: HEAD, or a parent
    session = PlanSession(repo, config, view, explain=explain, baseline=baseline)
    paths = find_scripts(view, config, list(scripts) if scripts else None, cwd)
    stopped = []
    for script, e in session.run_each(paths, capture):
        if e is not None:
            job = e.job
            stopped.append({"script": script, "where": e.where, "job": job.id, "method": job.method,
                            "name": job.name, "message": str(e)})
    session.finish()
    return Plan(session, paths, view.label, stopped)


def make_plan(repo, config, view, scripts=None, cwd=None) -> dict:
    """The ``plan --json`` document (a dict) of ``scripts`` in ``view``.
    What build scripts print goes to stderr.  The caller owns (and closes) ``view``."""
    return run_plan(repo, config, view, scripts, cwd).doc()


class Plan(Mapping):
    """A finished plan.  ``plan[key]`` gives what the document has under that
    key; ``plan["jobs"]`` is a sequence of job mappings made when read."""

    def __init__(self, session, scripts: list, label: str, stopped: list):
        self.session = session
        self.reasoner = session.reasoner
        self.planned = session.planned           # job id -> reasons.Planned, in order
        self.scripts, self.view, self.stopped = scripts, label, stopped
        n_build = sum(1 for p in self.planned.values() if p.action == "build")
        self.summary = {"build": n_build, "reuse": len(self.planned) - n_build}
        base = session.baseline
        # what the reasons compare with: {"label": "HEAD", "commit": sha or None}, or None without reasons
        self.baseline = None if base is None else {"label": base.label, "commit": base.commit}

    def __getitem__(self, key):
        if key == "jobs":
            return JobsView(self)
        if key == "complete":
            return not self.stopped
        if key in _HEAD:
            return getattr(self, key)
        raise KeyError(key)

    def __iter__(self):
        return iter(_HEAD + ("jobs",))

    def __len__(self) -> int:
        return len(_HEAD) + 1

    def reasons(self, p) -> list[dict]:
        return self.reasoner.reason_dicts(p) if self.reasoner is not None and p.reasons else []

    def job(self, p) -> dict:
        """One job of the document."""
        return {"id": p.id, "method": p.method, "name": p.name, "action": p.action,
                "reasons": self.reasons(p), "inputs": list(p.input_ids()), "script": p.script,
                "line": p.line, "path": p.path}

    def doc(self) -> dict:
        out = {k: self[k] for k in _HEAD}
        out["jobs"] = [self.job(p) for p in self.planned.values()]
        return out


class JobsView(Sequence):
    """``plan["jobs"]``: the jobs in order, as ``JobView``s."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self._list = None

    def __len__(self) -> int:
        return len(self.plan.planned)

    def __iter__(self):
        for p in self.plan.planned.values():
            yield JobView(self.plan, p)

    def __getitem__(self, i):
        if self._list is None:
            self._list = list(self.plan.planned.values())
        if isinstance(i, slice):
            return [JobView(self.plan, p) for p in self._list[i]]
        return JobView(self.plan, self._list[i])


class JobView(Mapping):
    """One job of a ``Plan``, read like its dict in the document."""
    __slots__ = ("plan", "p")

    def __init__(self, plan: Plan, p):
        self.plan, self.p = plan, p

    def __getitem__(self, key):
        p = self.p
        if key == "reasons":
            return self.plan.reasons(p)
        if key == "inputs":
            return list(p.input_ids())
        if key in _JOB_KEYS:
            return getattr(p, key)
        raise KeyError(key)

    def __iter__(self):
        return iter(_JOB_KEYS)

    def __len__(self) -> int:
        return len(_JOB_KEYS)


def summary_line(doc) -> str:
    s = doc["summary"]
    return f"{s['build']} to build, {s['reuse']} to reuse"

# ------------------------------------------------------------------ text


LIST_UP_TO = 20       # a script's jobs listed one a row; more: a table per method, then the jobs to build


def render(doc, every: bool = False) -> str:
    """The plan (the document, or a ``Plan``) as text: per script its jobs
    (``every``, or up to LIST_UP_TO), else how many each method reuses and
    builds and the jobs to build with their reasons; where it stopped; the
    summary."""
    return "\n".join(render_lines(doc, every))


def render_lines(doc, every: bool = False):
    """The lines of ``render``, one table row at a time."""
    label = {"worktree": "the work tree", "index": "the index"}.get(doc["view"]) or f"commit {doc['view'][:12]}"
    base = doc.get("baseline")
    if base is None:
        yield f"plan of {label}"
    else:
        against = f"{base['label']} ({base['commit'][:7]})" if base["commit"] else f"nothing ({base['label']}: none)"
        yield f"plan of {label}, reasons against {against}"
    for script in doc["scripts"]:
        yield ""
        yield f"{script}:"
        per: dict[str, list] = {}
        for _, method, action, _ in _rows(doc, script, reasons=False):
            row = per.setdefault(method, [method, 0, 0])
            row[1 if action == "reuse" else 2] += 1
        n = sum(r[1] + r[2] for r in per.values())
        if not n:
            yield "  (no jobs)"
        elif every or n <= LIST_UP_TO:
            yield from table_lines(lambda: _rows(doc, script), HEADERS)
        else:
            yield from table_lines(list(per.values()), ["method", "reuse", "build"])
            k = sum(r[2] for r in per.values())
            if k:
                yield ""
                yield f"to build: {k} of {n} jobs (plan -v lists every job)"
                yield from table_lines(lambda: (r for r in _rows(doc, script) if r[2] == "build"), HEADERS)
    for st in doc["stopped"]:
        yield ""
        yield f"incomplete: {st['message']}; the rest of {st['script']} is not planned"
    yield ""
    yield summary_line(doc)


def _rows(doc, script: str, reasons: bool = True):
    def reason_text(reasons):
        return "\n".join(f"{r['kind']}: {r['detail']}" if r.get("detail") else r["kind"] for r in reasons)
    if isinstance(doc, Plan):
        from accelgit.core.identity import job_dirname
        for p in doc.planned.values():
            if p.script != script:
                continue
            name = job_dirname(p.method, p.id)
            if p.name != p.method:
                name += f" [{p.name}]"
            yield [name, p.method, p.action, reason_text(doc.reasons(p)) if reasons else None]
        return
    import os
    for j in doc["jobs"]:
        if j["script"] != script:
            continue
        name = os.path.basename(j["path"])
        if j["name"] != j["method"]:
            name += f" [{j['name']}]"
        yield [name, j["method"], j["action"], reason_text(j["reasons"]) if reasons else None]

# ------------------------------------------------------------------ JSON


def json_chunks(doc):
    """``json.dumps(doc, indent=1, default=str)`` in pieces, ~100 jobs at a time."""
    import json
    from itertools import islice
    enc = json.JSONEncoder(indent=1, default=str)
    head = enc.encode({k: doc[k] for k in _HEAD})
    yield head[:-2] + ',\n "jobs": '
    if isinstance(doc, Plan):
        jobs = (doc.job(p) for p in doc.planned.values())
    else:
        jobs = iter(doc["jobs"])
    sep = "[\n"
    while True:
        batch = list(islice(jobs, 100))
        if not batch:
            break
        text = enc.encode(batch)          # "[\n {...},\n {...}\n]": one level less indented
        yield sep + " " + text[2:-2].replace("\n", "\n ")
        sep = ",\n"
    yield "[]\n}" if sep == "[\n" else "\n ]\n}"
