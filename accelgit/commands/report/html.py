"""The report (and ``accelgit dag``'s graph) as one self-contained HTML file:
inline CSS, the DAG drawn as inline SVG (columns by depth), no scripts,
nothing fetched from a network."""
from __future__ import annotations

from html import escape

from accelgit.commands.report.graph import COLORS, DASHED, label, layout
from accelgit.commands.report.markdown import KIND_TEXT, group_text, grouped, seconds, side_label
from accelgit.core.identity import job_dirname

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em 0;padding:0 1em;
 color:#1f2328;background:#fff}
body>:not(.graph){max-width:1008px;box-sizing:border-box;margin-left:auto;margin-right:auto}
h1{font-size:1.5em;border-bottom:1px solid #d0d7de;padding-bottom:.3em}
h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #eaeef2;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0;width:100%}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
code{background:#f6f8fa;padding:0 .25em;border-radius:4px}
pre{background:#f6f8fa;padding:.8em;overflow:auto;border-radius:6px;white-space:pre-wrap;word-break:break-all}
.summary{font-size:1.05em;background:#f6f8fa;border-left:4px solid #0969da;padding:.6em 1em}
.warn{background:#fff8c5;border-left:4px solid #bf8700;padding:.5em 1em}
.kind{font-weight:600}
.none{color:#57606a}
.graph{overflow:auto;border:1px solid #d0d7de;border-radius:6px;padding:8px;width:fit-content;max-width:100%;
 box-sizing:border-box;margin:.5em auto}
.graph svg{display:block}
.legend span{display:inline-block;margin-right:1.2em}
.sw{display:inline-block;width:.9em;height:.9em;border:1px solid #888;vertical-align:middle;margin-right:.3em}
footer{margin-top:2em;color:#57606a;font-size:.85em}
"""

BOX_W, BOX_H, COL_GAP, ROW_GAP, PAD = 190, 46, 70, 18, 12


def _c(text) -> str:
    return f"<code>{escape(str(text))}</code>"


def _job(r: dict, key: str = "id") -> str:
    return _c(job_dirname(r["method"], r[key])) if r.get(key) else "-"


def _name(r: dict) -> str:
    return _c(r["name"]) if r["name"] == r["method"] else f"{_c(r['name'])} ({escape(r['method'])})"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _reasons(reasons: list[dict]) -> str:
    out = []
    for r in reasons:
        hops = f" (hops {r['hops']})" if r["kind"] == "input" and r.get("hops") else ""
        out.append(f'<span class="kind">{escape(r["kind"])}</span> {escape(r.get("detail") or "")}{hops}')
    return "<br>".join(out)


def svg(g: dict) -> str:
    """The graph as inline SVG: a column per depth, an arrow from input to
    user (through the gaps between boxes, never under one)."""
    cols, routes = layout(g)
    nodes = {n["id"]: n for n in g["nodes"]}
    pos = {}
    for ci, col in enumerate(cols):
        for ri, nid in enumerate(col):
            pos[nid] = (PAD + ci * (BOX_W + COL_GAP), PAD + ri * (BOX_H + ROW_GAP))
    width = PAD * 2 + max(len(cols), 1) * (BOX_W + COL_GAP) - COL_GAP
    height = PAD * 2 + max((len(c) for c in cols), default=1) * (BOX_H + ROW_GAP) - ROW_GAP
    parts = [f'<svg width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="job graph">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>']
    for route in routes:
        (x, y) = pos[route[0]]
        sx, sy = x + BOX_W, y + BOX_H / 2
        d = [f"M{sx},{sy}"]
        for hop in route[1:]:
            (x, y) = pos[hop]
            tx, ty = x, y + BOX_H / 2
            mx = (sx + tx) / 2
            d.append(f"C{mx},{sy} {mx},{ty} {tx},{ty}")
            if type(hop) is tuple:              # a waypoint: straight through its empty row
                sx, sy = x + BOX_W, ty
                d.append(f"L{sx},{sy}")
        parts.append(f'<path d="{" ".join(d)}" fill="none" stroke="#57606a" stroke-width="1.3" '
                     f'marker-end="url(#arrow)"/>')
    for nid, (x, y) in pos.items():
        if type(nid) is tuple:
            continue
        n = nodes[nid]
        fill, stroke = COLORS[n["status"]]
        title, status = label(n)
        dash = ' stroke-dasharray="5 3"' if n["status"] in DASHED else ""
        short = title if len(title) <= 26 else title[:25] + "…"
        tip = ", ".join(job_dirname(n["method"], i) for i in n["ids"][:20]) + \
            (f" and {n['count'] - 20} more" if n["count"] > 20 else "") if n.get("count") else job_dirname(n["method"], nid)
        parts.append(f'<g class="node {n["status"]}"><title>{escape(tip)}</title>'
                     f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" '
                     f'stroke="{stroke}" stroke-width="1.5"{dash}/>'
                     f'<text x="{x + BOX_W / 2}" y="{y + 19}" text-anchor="middle" font-size="13" '
                     f'font-weight="600" fill="#1f2328">{escape(short)}</text>'
                     f'<text x="{x + BOX_W / 2}" y="{y + 36}" text-anchor="middle" font-size="11" '
                     f'fill="#57606a">{escape(status)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def graph_block(g: dict) -> str:
    """The legend (the statuses drawn) and the graph."""
    legend = "".join(f'<span><i class="sw" style="background:{COLORS[k][0]};border-color:{COLORS[k][1]}"></i>{k}</span>'
                     for k in dict.fromkeys(n["status"] for n in g["nodes"]))
    return f'<p class="legend">{legend}</p><div class="graph">{svg(g)}</div>'


def page(title: str, body: list[str]) -> str:
    """A whole self-contained HTML page."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def render_html(doc: dict) -> str:
    title = f"accelgit report: {side_label(doc['base'])} → {side_label(doc['head'])}"
    b: list[str] = [f"<h1>{escape(title)}</h1>",
                    f'<p class="summary" id="summary"><strong>Summary:</strong> {escape(doc["summary"]["text"])}</p>']
    for side in ("base", "head"):
        for line in doc[side]["stopped"]:
            b.append(f'<p class="warn"><strong>Incomplete plan ({side}):</strong> {escape(line)}; '
                     f'later jobs of that script are not in this report.</p>')

    b.append('<h2 id="changed-files">Changed files that jobs depend on</h2>')
    if doc["changed_files"]:
        rows = [[_c(f["path"]), escape(KIND_TEXT[f["kind"]]), escape(f["status"]),
                 ", ".join(_c(j) for j in f["jobs"]) or "-",
                 "<br>".join(f"{_c(c['sha'][:10]) if c['sha'] else ''} {escape(c['subject'])}" for c in f["commits"]) or "-"]
                for f in doc["changed_files"]]
        b.append(_table(["file", "kind", "change", "used by", "commits"], rows))
    else:
        b.append('<p class="none">No file that a job depends on changed.</p>')

    b.append('<h2 id="invalidated">Invalidated jobs</h2>')
    if doc["invalidated"]:
        rows = [[*group_text(g, lambda r: (_name(r), f"{_job(r, 'old_id')} → {_job(r)}"), lambda r: _c(r["name"]), _job),
                 escape(g[0]["method"]), str(g[0]["hops"]),
                 _reasons(g[0]["reasons"]) + (" <em>(cosmetic)</em>" if g[0].get("cosmetic") else ""),
                 escape(g[0]["action"])]
                for g in grouped(doc["invalidated"])]
        b.append(_table(["job", "was → now", "method", "hops", "reasons", "action"], rows))
    else:
        b.append('<p class="none">None: every job of the base side is still valid.</p>')

    if doc["cosmetic"]:
        b.append('<h2 id="cosmetic">Cosmetic changes</h2>')
        for c in doc["cosmetic"]:
            what = "Replace its <code>equivalent_hashes</code> assignment with" if c["replaces_existing"] else "Add this line"
            b.append(f"<p>Method {_c(c['method'])} changed only in comments, whitespace or docstrings "
                     f"({', '.join(_c(p) for p in c['files'])}). {what} to {_c(c['path'])} to keep its old jobs valid:</p>")
            b.append(f"<pre>{escape(c['line'])}</pre>")

    b.append('<h2 id="new">New jobs</h2>')
    b.append(_table(["job", "method", "script", "action"],
                    [[f"{_name(r)} {_job(r)}" + (" (maybe: the base plan of this script stopped early)"
                                                  if "stopped early" in r["reasons"][0]["detail"] else ""),
                      escape(r["method"]), _c(r["script"]), escape(r["action"])] for r in doc["new"]])
             if doc["new"] else '<p class="none">None.</p>')
    b.append('<h2 id="removed">Removed jobs</h2>')
    b.append(_table(["job", "method", "script", "was built"],
                    [[f"{_name(r)} {_job(r)}" + (" (maybe: the head plan of this script stopped early)"
                                                  if r.get("uncertain") else ""),
                      escape(r["method"]), _c(r["script"]), "yes" if r["built"] else "no"]
                     for r in doc["removed"]])
             if doc["removed"] else '<p class="none">None.</p>')

    b.append('<h2 id="rebuild">Estimated rebuild time</h2>')
    rb = doc["rebuild"]
    if rb["jobs"] and rb["unknown"] == len(rb["jobs"]):
        n = len(rb["jobs"])
        b.append(f"<p>{n} job{'s' if n != 1 else ''} to build; none has a recorded time (profile.json) on the "
                 f"base side to estimate from. Build the base side to get estimates.</p>")
    elif rb["jobs"]:
        n = len(rb["jobs"])
        b.append(f"<p><strong>{escape(seconds(rb['seconds']))}</strong> for {n} job{'s' if n != 1 else ''} to build, "
                 f"from the recorded time (profile.json) of the same call's job on the base side"
                 + (f"; {rb['unknown']} of them have no recorded time." if rb["unknown"] else ".") + "</p>")
        b.append(_table(["job", "method", "recorded time"],
                        [[_name(r), escape(r["method"]), escape(seconds(r["seconds"]))] for r in rb["jobs"]]))
    else:
        b.append('<p class="none">Nothing to build.</p>')

    b.append('<h2 id="outputs">Output differences</h2>')
    if doc["outputs"]:
        items = []
        for o in doc["outputs"]:
            sub = []
            if o.get("error"):
                sub.append(f"could not compare: {escape(o['error'])}")
            else:
                f = o["files"]
                parts = [f"{w} {', '.join(_c(p) for p in f[w])}" for w in ("changed", "added", "removed") if f[w]]
                sub.append("files: " + "; ".join(parts) if parts else "output files identical")
            res = o.get("result")
            if res:
                sub.append(f"result: {_c(res['before'])} → {_c(res['after'])}" if res["changed"]
                           else f"result unchanged: {_c(res['after'])}")
            items.append(f"<li>{_name(o)}: {_c(job_dirname(o['method'], o['old_id']))} → "
                         f"{_c(job_dirname(o['method'], o['new_id']))}<ul>"
                         + "".join(f"<li>{s}</li>" for s in sub) + "</ul></li>")
        b.append("<ul>" + "".join(items) + "</ul>")
    else:
        b.append('<p class="none">No invalidated job is built on both sides.</p>')

    b.append('<h2 id="graph">Affected jobs</h2>')
    g = doc["graph"]
    if g["nodes"]:
        b.append(graph_block(g))
        if g["truncated"]:
            b.append(f"<p>({g['truncated']} more jobs not drawn.)</p>")
    else:
        b.append('<p class="none">No job is affected.</p>')
    b.append("<footer>Generated by <code>accelgit report</code>.</footer>")
    return page(title, b)
