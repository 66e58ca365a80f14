"""The affected part of the job DAG: nodes, edges, a mermaid flowchart, and a
layered layout (columns by depth) for the HTML report's inline SVG."""
from __future__ import annotations

MAX_NODES = 150

STATUS_TEXT = {"invalidated": "invalidated", "new": "new", "removed": "removed", "unchanged": "unchanged"}


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
    kept = list(nodes)[:MAX_NODES]
    keep = set(kept)
    return {"nodes": [nodes[k] for k in kept], "edges": [e for e in edges if e[0] in keep and e[1] in keep],
            "truncated": len(nodes) - len(kept)}


def label(n: dict) -> tuple[str, str]:
    """Two lines: the job, and its status."""
    title = n["name"] if n["name"] == n["method"] else f"{n['name']} ({n['method']})"
    status = STATUS_TEXT[n["status"]]
    if n["status"] == "invalidated":
        status += ", directly" if not n["hops"] else f", {n['hops']} hop{'s' if n['hops'] != 1 else ''}"
    return title, status

# ---------------------------------------------------------------- mermaid


MERMAID_CLASSES = {
    "invalidated": "fill:#fde2e1,stroke:#c62828,color:#000",
    "new": "fill:#e3f4e1,stroke:#2e7d32,color:#000",
    "removed": "fill:#eeeeee,stroke:#757575,color:#555,stroke-dasharray:4 3",
    "unchanged": "fill:#ffffff,stroke:#9e9e9e,color:#444",
}


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
    for status, style in MERMAID_CLASSES.items():
        lines.append(f"  classDef {status} {style}")
    return "\n".join(lines)

# ---------------------------------------------------------------- layout


def layers(g: dict) -> list[list[str]]:
    """Node ids in columns by depth (longest path from a node without inputs),
    each column ordered to keep edges short (barycenter sweeps)."""
    ids = [n["id"] for n in g["nodes"]]
    preds: dict[str, list[str]] = {i: [] for i in ids}
    succs: dict[str, list[str]] = {i: [] for i in ids}
    for a, b in g["edges"]:
        preds[b].append(a)
        succs[a].append(b)
    depth: dict[str, int] = {}

    def d(i, seen=()):
        if i not in depth:
            depth[i] = 0 if i in seen else max((d(p, seen + (i,)) + 1 for p in preds[i]), default=0)
        return depth[i]

    for i in ids:
        d(i)
    cols: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for i in ids:
        cols[depth[i]].append(i)
    pos = {i: k for col in cols for k, i in enumerate(col)}
    for _ in range(4):
        for col in cols[1:]:
            col.sort(key=lambda i: sum(pos[p] for p in preds[i]) / len(preds[i]) if preds[i] else pos[i])
            pos.update({i: k for k, i in enumerate(col)})
        for col in reversed(cols[:-1]):
            col.sort(key=lambda i: sum(pos[s] for s in succs[i]) / len(succs[i]) if succs[i] else pos[i])
            pos.update({i: k for k, i in enumerate(col)})
    return cols
