"""Job graphs, drawn: the affected part of the job DAG (``graph``, for
``accelgit report``) and the whole pipeline (``accelgit dag`` makes its own
nodes); for both, many similar jobs drawn as one box (``collapse``), a
mermaid flowchart, a Graphviz dot file, and a layered layout (columns by
depth, long arrows routed through the gaps) for the HTML's inline SVG.

A graph is ``{"nodes": [{"id","method","name","status","hops"}], "edges":
[[from, to]]}``; a node that stands for several jobs also has ``"count"``
and ``"ids"``."""
from __future__ import annotations

MAX_NODES = 150

STATUS_TEXT = {"invalidated": "invalidated", "new": "new", "removed": "removed", "unchanged": "unchanged",
               "built": "built", "missing": "missing", "damaged": "damaged", "untrusted": "untrusted"}

# fill, stroke of each status (the SVG, the dot file, mermaid's classes)
COLORS = {"invalidated": ("#fde2e1", "#c62828"), "new": ("#e3f4e1", "#2e7d32"),
          "removed": ("#eeeeee", "#757575"), "unchanged": ("#ffffff", "#9e9e9e"),
          "built": ("#e3f4e1", "#2e7d32"), "missing": ("#fff8c5", "#9a6700"),
          "damaged": ("#fde2e1", "#c62828"), "untrusted": ("#fbefff", "#8250df")}
DASHED = ("removed", "damaged")


def _input_ids(spec) -> list[str]:
    out = []
    for v in spec.jobs.values():
        for i in (v if isinstance(v, list) else [v] if v else []):
            if i not in out:
                out.append(i)
    return out


def graph(base, head, cmp: dict) -> dict:
    """``{"nodes": [{"id","method","name","status","hops"}], "edges": [[from, to]], "truncated": n}``:
    invalidated and new jobs (head side), removed jobs (base side), and the
    unchanged jobs they read directly; an edge goes from an input to its user."""
    head_call = {}
    for c in head.calls:
        head_call.setdefault(c.effective, c)
    base_call = {}
    for c in base.calls:
        base_call.setdefault(c.effective, c)
    head_key = {c.key: c.effective for c in head.calls}
    nodes: dict[str, dict] = {}
    edges: list[list[str]] = []

    def node(nid, method, name, status, hops=None):
        if nid not in nodes:
            nodes[nid] = {"id": nid, "method": method, "name": name, "status": status, "hops": hops}

    for status, rows in (("invalidated", cmp["invalidated"]), ("new", cmp["new"])):
        for r in rows:
            node(r["id"], r["method"], r["name"], status, r["hops"] if status == "invalidated" else None)
    affected = list(nodes)
    for nid in affected:
        c = head_call[nid]
        for i in _input_ids(c.spec):
            if i not in nodes:
                up = head_call.get(i)
                node(i, up.spec.method.name if up else "?", up.spec.name if up else "?", "unchanged")
            edges.append([i, nid])
    for r in cmp["removed"]:
        node(r["id"], r["method"], r["name"], "removed")
    for r in cmp["removed"]:
        c = base_call[r["id"]]
        for i in _input_ids(c.spec):
            up = base_call.get(i)
            target = i if i in nodes else head_key.get(up.key) if up else None
            if target is None:
                target = i
                node(i, up.spec.method.name if up else "?", up.spec.name if up else "?", "unchanged")
            elif target not in nodes:
                hc = head_call[target]
                node(target, hc.spec.method.name, hc.spec.name, "unchanged")
            if [target, r["id"]] not in edges:
                edges.append([target, r["id"]])
    g = report_boxes({"nodes": list(nodes.values()), "edges": edges})
    kept = g["nodes"][:MAX_NODES]
    keep = {n["id"] for n in kept}
    return {"nodes": kept, "edges": [e for e in g["edges"] if e[0] in keep and e[1] in keep],
            "truncated": sum(n.get("count", 1) for n in g["nodes"][MAX_NODES:])}


def report_boxes(g: dict) -> dict:
    """The report's graph with the unchanged inputs one box per method, and
    many jobs of one method, status and hops feeding the same boxes one box."""
    return collapse(collapse(g, _unchanged, by_level=False), _report_group)


def _unchanged(n: dict, users: frozenset):
    """Unchanged inputs: one box per method."""
    return (n["method"], 2) if n["status"] == "unchanged" else None


def _report_group(n: dict, users: frozenset):
    """Jobs of one method, status and distance from the change that feed the
    same boxes: one box, when many."""
    if n["status"] == "unchanged":
        return None
    return (n["status"], n["method"], n["hops"], users), COLLAPSE_AT


COLLAPSE_AT = 4


def collapse(g: dict, group, by_level: bool = True) -> dict:
    """``g`` with similar jobs drawn as one node.  ``group(node, users)`` gives
    ``(key, at)`` or None: nodes with one key become one node when there are at
    least ``at`` of them; ``users`` is the set of (already grouped) nodes a
    node feeds, so grouping goes from the last jobs back to the first, one
    level (the longest path to a last job) at a time.  Without ``by_level``
    (for a ``group`` that does not look at ``users``), all nodes at once."""
    nodes = {n["id"]: n for n in g["nodes"]}
    succs: dict[str, list[str]] = {i: [] for i in nodes}
    indeg = dict.fromkeys(nodes, 0)
    for a, b in g["edges"]:
        succs[a].append(b)
        indeg[b] += 1
    order = [i for i in nodes if not indeg[i]]      # a topological order (Kahn)
    for i in order:
        for s in succs[i]:
            indeg[s] -= 1
            if not indeg[s]:
                order.append(s)
    height: dict[str, int] = {}
    for i in reversed(order):
        height[i] = 1 + max((height.get(s, 0) for s in succs[i]), default=-1)
    levels: dict[int, list[str]] = {}
    for i in nodes:
        levels.setdefault(height.get(i, 0) if by_level else 0, []).append(i)
    to: dict[str, str] = {}
    for h in sorted(levels):
        buckets: dict = {}
        for i in levels[h]:
            k = group(nodes[i], frozenset(to.get(s, s) for s in succs[i]))
            if k is None:
                to[i] = i
            else:
                buckets.setdefault(k[0], (k[1], []))[1].append(i)
        for at, members in buckets.values():
            gid = f"{members[0]}+{len(members) - 1}" if len(members) >= at else None
            for i in members:
                to[i] = gid or i
    out: dict[str, dict] = {}
    for i, n in nodes.items():
        gid = to[i]
        if gid == i:
            out[i] = n
        elif gid not in out:
            out[gid] = {**n, "id": gid, "name": n["method"], "count": 0, "ids": []}
        if gid != i:
            out[gid]["count"] += 1
            out[gid]["ids"].append(i)
    edges, seen = [], set()
    for a, b in g["edges"]:
        e = (to[a], to[b])
        if e[0] != e[1] and e not in seen:
            seen.add(e)
            edges.append(list(e))
    return {**g, "nodes": list(out.values()), "edges": edges}




def label(n: dict) -> tuple[str, str]:
    """Two lines: the job (or ``method ×N``), and its status."""
    if n.get("count"):
        title = f"{n['method']} ×{n['count']}"
    else:
        title = n["name"] if n["name"] == n["method"] else f"{n['name']} ({n['method']})"
    status = STATUS_TEXT[n["status"]]
    if n["status"] == "invalidated":
        status += ", directly" if not n["hops"] else f", {n['hops']} hop{'s' if n['hops'] != 1 else ''}"
    return title, status

# ---------------------------------------------------------------- mermaid and dot


def _mermaid_text(s: str) -> str:
    return (s.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
            .replace("`", "#96;"))


def mermaid(g: dict) -> str:
    """A mermaid flowchart (GitHub and GitLab render it in markdown)."""
    ids = {n["id"]: f"n{i}" for i, n in enumerate(g["nodes"])}
    lines = ["flowchart LR"]
    for n in g["nodes"]:
        title, status = label(n)
        lines.append(f'  {ids[n["id"]]}["{_mermaid_text(title)}<br/>{_mermaid_text(status)}"]:::{n["status"]}')
    for a, b in g["edges"]:
        lines.append(f"  {ids[a]} --> {ids[b]}")
    for status in dict.fromkeys(n["status"] for n in g["nodes"]):
        fill, stroke = COLORS[status]
        dash = ",stroke-dasharray:4 3" if status in DASHED else ""
        lines.append(f"  classDef {status} fill:{fill},stroke:{stroke},color:#000{dash}")
    return "\n".join(lines)


def _dot_text(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def dot(g: dict, title: str = "jobs") -> str:
    """A Graphviz digraph (``dot -Tsvg``)."""
    ids = {n["id"]: f"n{i}" for i, n in enumerate(g["nodes"])}
    lines = [f'digraph "{_dot_text(title)}" {{', "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];']
    for n in g["nodes"]:
        title_line, status = label(n)
        fill, stroke = COLORS[n["status"]]
        style = ', style="rounded,filled,dashed"' if n["status"] in DASHED else ""
        lines.append(f'  {ids[n["id"]]} [label="{_dot_text(title_line)}\\n{_dot_text(status)}", '
                     f'fillcolor="{fill}", color="{stroke}"{style}];')
    for a, b in g["edges"]:
        lines.append(f"  {ids[a]} -> {ids[b]};")
    lines.append("}")
    return "\n".join(lines)

# ---------------------------------------------------------------- layout


def layout(g: dict) -> tuple[list[list], list[list]]:
    """Columns by depth (longest path from a node without inputs) and each
    edge's route.  An edge that spans columns passes a waypoint in each column
    between (a row of its own there: no arrow runs under a box); each column
    is ordered to keep edges short (barycenter sweeps).  Waypoints are
    ``("~", edge number, column)`` tuples."""
    ids = [n["id"] for n in g["nodes"]]
    preds: dict = {i: [] for i in ids}
    succs: dict = {i: [] for i in ids}
    for a, b in g["edges"]:
        preds[b].append(a)
        succs[a].append(b)
    depth: dict = {}
    for i in ids:               # iteratively: a chain of 10,000 jobs is no recursion limit
        stack = [i]
        while stack:
            j = stack[-1]
            if j in depth:
                stack.pop()
                continue
            todo = [p for p in preds[j] if p not in depth and p not in stack]
            if todo:
                stack.extend(todo)
                continue
            depth[j] = max((depth[p] + 1 for p in preds[j] if p in depth), default=0)
            stack.pop()
    routes = []
    for k, (a, b) in enumerate(g["edges"]):
        route = [a] + [("~", k, c) for c in range(depth[a] + 1, depth[b])] + [b]
        for x, y in zip(route, route[1:]):
            if x not in depth:
                depth[x], preds[x], succs[x] = x[2], [], []
            if y not in depth:
                depth[y], preds[y], succs[y] = y[2], [], []
        for x, y in zip(route[1:-1], route[2:]):
            succs[x].append(y)
            preds[y].append(x)
        if len(route) > 2:
            succs[a][succs[a].index(b)] = route[1]
            preds[b][preds[b].index(a)] = route[-2]
            preds[route[1]].append(a)
        routes.append(route)
    cols: list[list] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for i in depth:
        cols[depth[i]].append(i)
    pos = {i: k for col in cols for k, i in enumerate(col)}
    for _ in range(4):
        for col in cols[1:]:
            col.sort(key=lambda i: sum(pos[p] for p in preds[i]) / len(preds[i]) if preds[i] else pos[i])
            pos.update({i: k for k, i in enumerate(col)})
        for col in reversed(cols[:-1]):
            col.sort(key=lambda i: sum(pos[s] for s in succs[i]) / len(succs[i]) if succs[i] else pos[i])
            pos.update({i: k for k, i in enumerate(col)})
    return cols, routes
