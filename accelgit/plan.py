"""``accelgit plan``: a dry run of the build scripts (SPEC §7).

Every job the scripts would use, ``reuse`` or ``build``, and why, for the
work tree, the index (``--staged``) or any commit (``--at REV``).  Nothing is
executed and nothing is written to a workdir.

``make_plan(repo, config, view, scripts=None, cwd=None) -> dict`` returns the
``plan --json`` document; hooks and reports call it.  This module is cheap to
import: the planning engine (``reasons.py``) is loaded on first use.
"""
from __future__ import annotations

import contextlib
import sys

from .errors import PlanStopped


def make_plan(repo, config, view, scripts=None, cwd=None) -> dict:
    """The plan of ``scripts`` (default: the configured globs) in ``view``.

    What build scripts print goes to stderr.  The caller owns (and closes) ``view``.
    """
    from .reasons import PlanSession, Reasoner, find_scripts
    session = PlanSession(repo, config, view)
    paths = find_scripts(view, config, list(scripts) if scripts else None, cwd)
    stopped = []
    with contextlib.redirect_stdout(sys.stderr):
        for script in paths:
            session.current_script = script
            try:
                session.run_script(script)
            except PlanStopped as e:
                job = e.job
                stopped.append({"script": script, "where": e.where, "job": job.id, "method": job.method,
                                "name": job.name, "message": str(e)})
    planned = list(session.planned.values())
    Reasoner(session).explain(planned)
    jobs = []
    for p in planned:
        jobs.append({"id": p.id, "method": p.spec.method.name, "name": p.spec.name, "action": p.action,
                     "reasons": p.reasons, "inputs": p.inputs, "script": p.script, "line": p.spec.lineno,
                     "path": p.path})
    n_build = sum(1 for j in jobs if j["action"] == "build")
    return {"scripts": paths, "view": view.label, "complete": not stopped, "stopped": stopped,
            "summary": {"build": n_build, "reuse": len(jobs) - n_build}, "jobs": jobs}


def summary_line(doc: dict) -> str:
    s = doc["summary"]
    return f"{s['build']} to build, {s['reuse']} to reuse"


def render(doc: dict) -> str:
    """The plan as text: one table per script, where it stopped, the summary."""
    from .output import table
    import os
    out = []
    label = doc["view"] if doc["view"] in ("worktree", "index") else f"commit {doc['view'][:12]}"
    out.append(f"plan of {label}")
    for script in doc["scripts"]:
        rows = []
        for j in doc["jobs"]:
            if j["script"] != script:
                continue
            name = os.path.basename(j["path"])
            if j["name"] != j["method"]:
                name += f" [{j['name']}]"
            reasons = "\n".join(f"{r['kind']}: {r['detail']}" if r.get("detail") else r["kind"] for r in j["reasons"])
            rows.append([name, j["method"], j["action"], reasons])
        out.append("")
        out.append(f"{script}:")
        out.append(table(rows, ["job", "method", "action", "reasons"]) if rows else "  (no jobs)")
    for st in doc["stopped"]:
        out.append("")
        out.append(f"incomplete: {st['message']}; the rest of {st['script']} is not planned")
    out.append("")
    out.append(summary_line(doc))
    return "\n".join(out)


def plan_command(repo, config, scripts, *, staged, at, exit_code, as_json, cwd) -> int:
    from .gitrepo import make_view
    from .output import emit
    view = make_view(repo, staged, at)
    try:
        doc = make_plan(repo, config, view, scripts, cwd)
    finally:
        view.close()
    if as_json:
        emit(doc)
    else:
        print(render(doc))
    return 1 if exit_code and doc["summary"]["build"] else 0
