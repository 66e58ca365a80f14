"""``accelgit dag``: the whole pipeline as a graph, as ``dvc dag`` draws it.

Every job the work tree's build scripts use, planned as ``accelgit plan``
plans them (nothing built, nothing written), with its state, and an edge from
each input job to its user; drawn as a mermaid flowchart, a Graphviz dot file
or a self-contained HTML page by the report's drawing code
(``report/graph.py``, ``report/html.py``), or given whole with ``--json``.
"""
from __future__ import annotations

from accelgit.core.errors import UsageError

FORMATS = ("mermaid", "dot", "html")

# a state: what it means (docs/cli.md says the same)
STATES = ("built", "missing", "damaged", "untrusted")


def dag_command(repo, config, *, cwd: str, as_json: bool, scripts: list[str], fmt: str,
                output: str | None) -> int:
    if fmt not in FORMATS:
        raise UsageError(f"unknown --format '{fmt}': use mermaid, dot or html")
    from accelgit.git.views import WorktreeView
    from accelgit.plan.document import run_plan
    view = WorktreeView(repo)
    try:
        plan = run_plan(repo, config, view, scripts or None, cwd, capture=True)   # prints: only if a script fails
    finally:
        view.close()
    doc = dag_document(plan, config, repo.head())
    import sys
    for st in doc["stopped"]:
        print(f"accelgit: the plan is incomplete: {st}; later jobs of that script are not drawn", file=sys.stderr)
    from accelgit.commands.output import write_document
    if as_json:
        import json
        write_document(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", output, cwd, "dag")
        return 0
    from accelgit.commands.report.graph import collapse, dot, mermaid
    g = collapse({"nodes": [{**n, "status": n["state"]} for n in doc["nodes"]], "edges": doc["edges"]}, _group)
    if fmt == "html":
        text = render_html(doc, g)
    else:
        text = (mermaid(g) if fmt == "mermaid" else dot(g, "accelgit dag")) + "\n"
    write_document(text, output, cwd, "dag")
    return 0


def _state(plan, p, store) -> tuple[str, str | None]:
    """``(state, why)`` of a planned job."""
    if p.action == "reuse":
        return "built", None
    from accelgit.store.signing import is_damage
    for r in plan.reasons(p):
        if r["kind"] == "untrusted":
            return ("damaged" if is_damage(r["why"]) else "untrusted"), r["detail"]
        if r["kind"] == "damaged":              # a file modified after the build (store/jobcheck.py)
            return "damaged", r["detail"]
    broken = store.incomplete(p.method, p.id)
    if broken:
        return "damaged", f"{broken}: no manifest.json (an interrupted or torn job)"
    return "missing", None


def dag_document(plan, config, commit: str | None) -> dict:
    """``{"view", "commit", "scripts", "complete", "stopped", "summary", "nodes", "edges"}``:
    a node per job, in call order; an edge ``[input id, user id]``."""
    from accelgit.store.workdir import Store
    store = Store(config, readonly=True)
    nodes, edges = [], []
    for p in plan.planned.values():
        state, why = _state(plan, p, store)
        inputs = [i for i in dict.fromkeys(p.input_ids()) if i in plan.planned]
        nodes.append({"id": p.id, "method": p.method, "name": p.name, "state": state, "why": why,
                      "script": p.script, "line": p.line, "path": p.path, "inputs": inputs})
        edges += [[i, p.id] for i in inputs]
    counts = {s: sum(1 for n in nodes if n["state"] == s) for s in STATES}
    return {"view": "worktree", "commit": commit, "scripts": plan.scripts, "complete": not plan.stopped,
            "stopped": [st["message"] for st in plan.stopped], "summary": counts, "nodes": nodes, "edges": edges}


def _group(n: dict, users: frozenset):
    """Jobs of one method, in one state, feeding the same jobs: one box when
    there are many (``--json`` has every job)."""
    from accelgit.commands.report.graph import COLLAPSE_AT
    return (n["method"], n["state"], users), COLLAPSE_AT


def summary_line(doc: dict) -> str:
    n = len(doc["nodes"])
    parts = [f"{doc['summary'][k]} {k}" for k in STATES if doc["summary"][k] or k in ("built", "missing")]
    return f"{n} job{'s' if n != 1 else ''}: " + ", ".join(parts)


def render_html(doc: dict, g: dict) -> str:
    from html import escape

    from accelgit.commands.report.html import graph_block, page
    where = f"the work tree ({doc['commit'][:10]})" if doc["commit"] else "the work tree"
    body = [f"<h1>accelgit dag: {escape(where)}</h1>",
            f'<p class="summary" id="summary"><strong>{escape(summary_line(doc))}</strong> '
            f"(scripts: {escape(', '.join(doc['scripts']) or 'none')})</p>"]
    for line in doc["stopped"]:
        body.append(f'<p class="warn"><strong>Incomplete plan:</strong> {escape(line)}; '
                    f"later jobs of that script are not drawn.</p>")
    groups = sum(1 for n in g["nodes"] if n.get("count"))
    if groups:
        body.append(f"<p>A box <code>method ×N</code> stands for N jobs of one method, in one state, that feed the "
                    f"same jobs ({groups} such box{'es' if groups != 1 else ''}; <code>accelgit dag --json</code> "
                    f"lists every job).</p>")
    body.append(graph_block(g) if g["nodes"] else '<p class="none">No jobs.</p>')
    body.append("<footer>Generated by <code>accelgit dag</code>.</footer>")
    return page(f"accelgit dag: {where}", body)
