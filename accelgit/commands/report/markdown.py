"""The report as markdown (GitHub and GitLab flavoured: tables, a mermaid graph)."""
from __future__ import annotations

from accelgit.commands.report.graph import mermaid
from accelgit.core.identity import job_dirname

MAX_ROWS = 100          # per table: a PR comment holds at most 65536 characters

KIND_TEXT = {"method": "method", "helper": "helper module", "depend_extra": "depend_extra",
             "data": "data file", "script": "build script"}


def side_label(side: dict) -> str:
    if side["commit"]:
        rev = side["rev"]
        short = side["commit"][:10]
        return short if rev.lower() in (side["commit"].lower(), short.lower()) else f"{rev} ({short})"
    return "the index (staged)"


def cell(text) -> str:
    """Text safe inside a markdown table cell."""
    s = "" if text is None else str(text)
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", "<br>")


def code(text: str) -> str:
    s = str(text).replace("`", "'").replace("|", "\\|").replace("\n", " ")
    return f"`{s}`"


def job_text(r: dict, key: str = "id") -> str:
    return code(job_dirname(r["method"], r[key])) if r.get(key) else "-"


def name_text(r: dict) -> str:
    return code(r["name"]) if r["name"] == r["method"] else f"{code(r['name'])} ({r['method']})"


def reasons_text(reasons: list[dict]) -> str:
    parts = []
    for r in reasons:
        hops = f" (hops {r['hops']})" if r["kind"] == "input" and r.get("hops") else ""
        parts.append(f"**{r['kind']}** {cell(r.get('detail') or '')}{hops}")
    return "<br>".join(parts)


def seconds(s) -> str:
    if s is None:
        return "?"
    if s < 1:
        return f"{s * 1000:.0f} ms"
    return f"{s:.1f} s" if s < 60 else f"{s / 60:.1f} min"


def _commits(commits: list[dict]) -> str:
    if not commits:
        return "-"
    return "<br>".join(f"{code(c['sha'][:10]) if c['sha'] else ''} {cell(c['subject'])}".strip() for c in commits[:6]) + \
        (f"<br>+{len(commits) - 6} more" if len(commits) > 6 else "")


def _jobs_list(names: list[str], limit: int = 6) -> str:
    if not names:
        return "-"
    shown = ", ".join(code(n) for n in names[:limit])
    return shown + (f" +{len(names) - limit} more" if len(names) > limit else "")


GROUP_AT = 3           # rows of one method with the same reasons shown as one


def grouped(rows: list[dict]) -> list[list[dict]]:
    """``rows`` grouped by method (in order of first appearance), and within a
    method, rows with the same reasons, hops and action made one group when
    there are at least GROUP_AT of them (others: a group of one each)."""
    runs: dict = {}
    for r in rows:
        key = (r["method"], r["hops"], r["action"], bool(r.get("cosmetic")),
               tuple((x["kind"], x.get("detail")) for x in r["reasons"]))
        runs.setdefault(key, []).append(r)
    by_method: dict[str, list] = {}
    for run in runs.values():
        groups = [run] if len(run) >= GROUP_AT else [[r] for r in run]
        by_method.setdefault(run[0]["method"], []).extend(groups)
    return [g for groups in by_method.values() for g in groups]


def group_text(group: list[dict], one, name, job, limit: int = 3) -> tuple[str, str]:
    """The job cell and the was → now cell of a group: ``one(row)`` for a
    single row; else ``N jobs: a, b, c +N more`` and the first change, ``…``."""
    if len(group) == 1:
        return one(group[0])
    names = ", ".join(name(r) for r in group[:limit]) + (f" +{len(group) - limit} more" if len(group) > limit else "")
    r = group[0]
    return f"{len(group)} jobs: {names}", f"{job(r, 'old_id')} → {job(r)}, …"


def _rows(items: list) -> list:
    return items[:MAX_ROWS]


def _more(items: list, add) -> None:
    if len(items) > MAX_ROWS:
        add("")
        add(f"…and {len(items) - MAX_ROWS} more (all of them are in `accelgit report --format json` and html).")


def _table(add, headers: list[str], items: list, row) -> None:
    """A markdown table of ``items`` (at most MAX_ROWS, then a note), one ``row(item)`` each."""
    add("| " + " | ".join(headers) + " |")
    add("|" + "---|" * len(headers))
    for item in _rows(items):
        add(row(item))
    _more(items, add)


def _maybe(note: str):
    return lambda flag: f" (maybe: {note})" if flag else ""


def render_markdown(doc: dict) -> str:
    out: list[str] = []
    add = out.append
    add(f"## accelgit report: {side_label(doc['base'])} → {side_label(doc['head'])}")
    add("")
    add(f"**Summary:** {doc['summary']['text']}")
    for side in ("base", "head"):
        for line in doc[side]["stopped"]:
            add("")
            add(f"> **Incomplete plan ({side}):** {cell(line)}; later jobs of that script are not in this report.")
    add("")

    add("### Changed files that jobs depend on")
    add("")
    if doc["changed_files"]:
        _table(add, ["file", "kind", "change", "used by", "commits"], doc["changed_files"],
               lambda f: f"| {code(f['path'])} | {KIND_TEXT[f['kind']]} | {f['status']} | {_jobs_list(f['jobs'])} | "
                         f"{_commits(f['commits'])} |")
    else:
        add("No file that a job depends on changed.")
    add("")

    add("### Invalidated jobs")
    add("")
    if doc["invalidated"]:
        def row(g):
            r = g[0]
            who, change = group_text(g, lambda r: (name_text(r), f"{job_text(r, 'old_id')} → {job_text(r)}"),
                                     lambda r: code(r["name"]), job_text)
            return (f"| {who} | {change} | {r['method']} | {r['hops']} | "
                    f"{reasons_text(r['reasons'])}{' *(cosmetic)*' if r.get('cosmetic') else ''} | {r['action']} |")
        _table(add, ["job", "was → now", "method", "hops", "reasons", "action"], grouped(doc["invalidated"]), row)
    else:
        add("None: every job of the base side is still valid.")
    add("")

    if doc["cosmetic"]:
        add("### Cosmetic changes")
        add("")
        for c in doc["cosmetic"]:
            files = ", ".join(code(p) for p in c["files"])
            what = "Replace its `equivalent_hashes` assignment with" if c["replaces_existing"] else "Add this line"
            add(f"Method `{c['method']}` changed only in comments, whitespace or docstrings ({files}). "
                f"{what} to {code(c['path'])} to keep its old jobs valid:")
            add("")
            add("```python")
            add(c["line"])
            add("```")
            add("")

    add("### New jobs")
    add("")
    if doc["new"]:
        maybe = _maybe("the base plan of this script stopped early")
        _table(add, ["job", "method", "script", "action"], doc["new"],
               lambda r: f"| {name_text(r)}{maybe('stopped early' in r['reasons'][0]['detail'])} | {r['method']} | "
                         f"{code(r['script'])} | {r['action']} |")
    else:
        add("None.")
    add("")
    add("### Removed jobs")
    add("")
    if doc["removed"]:
        maybe = _maybe("the head plan of this script stopped early")
        _table(add, ["job", "method", "script", "was built"], doc["removed"],
               lambda r: f"| {name_text(r)} {job_text(r)}{maybe(r.get('uncertain'))} | {r['method']} | "
                         f"{code(r['script'])} | {'yes' if r['built'] else 'no'} |")
    else:
        add("None.")
    add("")

    add("### Estimated rebuild time")
    add("")
    rb = doc["rebuild"]
    if rb["jobs"] and rb["unknown"] == len(rb["jobs"]):
        add(f"{len(rb['jobs'])} job{'s' if len(rb['jobs']) != 1 else ''} to build; none has a recorded time "
            f"(profile.json) on the base side to estimate from. Build the base side to get estimates.")
    elif rb["jobs"]:
        add(f"**{seconds(rb['seconds'])}** for {len(rb['jobs'])} job{'s' if len(rb['jobs']) != 1 else ''} to build, "
            f"from the recorded time (profile.json) of the same call's job on the base side"
            + (f"; {rb['unknown']} of them have no recorded time." if rb["unknown"] else "."))
        add("")
        _table(add, ["job", "method", "recorded time"], rb["jobs"],
               lambda r: f"| {name_text(r)} | {r['method']} | {seconds(r['seconds'])} |")
    else:
        add("Nothing to build.")
    add("")

    add("### Output differences")
    add("")
    if doc["outputs"]:
        for o in _rows(doc["outputs"]):
            add(f"- {name_text(o)}: {code(job_dirname(o['method'], o['old_id']))} → "
                f"{code(job_dirname(o['method'], o['new_id']))}")
            add(f"  - {_output_text(o)}")
            res = o.get("result")
            if res:
                if res["changed"]:
                    add(f"  - result: {code(res['before'])} → {code(res['after'])}")
                else:
                    add(f"  - result unchanged: {code(res['after'])}")
        _more(doc["outputs"], add)
    else:
        add("No invalidated job is built on both sides.")
    add("")

    add("### Affected jobs")
    add("")
    g = doc["graph"]
    if g["nodes"]:
        add("```mermaid")
        add(mermaid(g))
        add("```")
        if g["truncated"]:
            add("")
            add(f"({g['truncated']} more jobs not drawn.)")
    else:
        add("No job is affected.")
    add("")
    add("<sub>Generated by `accelgit report`.</sub>")
    return "\n".join(out) + "\n"


def _output_text(o: dict) -> str:
    if o.get("error"):
        return f"could not compare: {cell(o['error'])}"
    f = o["files"]
    parts = [f"{what} {', '.join(code(p) for p in f[what])}" for what in ("changed", "added", "removed") if f[what]]
    return "files: " + "; ".join(parts) if parts else "output files identical"
