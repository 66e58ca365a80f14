"""The comparison behind ``accelgit report``: the calls of the two sides
(collect.py) are matched by build script and (method, name, occurrence); a
matched call whose job differs is *invalidated*, and why is worked out from
the two job specs (plan/diff.py).  ``build_report`` makes the report
document (its shape: docs/report.md)."""
from __future__ import annotations

from accelgit.commands.report.changes import (
    changed_files,
    output_diff,
    recorded_wall,
    short,
)
from accelgit.core.identity import decode_value, job_dirname
from accelgit.plan.diff import MISSING, diff, identity

FORMATS = ("markdown", "json", "html")

FORMAT_VERSION = 1

# ---------------------------------------------------------------- reasons


def _blob_change(path: str, old: str | None, new: str | None, what: str) -> str:
    if old is None:
        return f"{path}: new {what} ({new[:7]})"
    if new is None:
        return f"{path}: no longer a {what} (was {old[:7]})"
    return f"{path}: {old[:7]} → {new[:7]}"


def _value(v) -> str:
    return short(decode_value(v), 60)


def direct_reasons(old, new) -> list[dict]:
    """What differs between two specs of one call, inputs aside."""
    reasons = []
    om, nm = old.method, new.method
    a = identity(om.sources, om.digest, old.options, old.files)
    b = identity(nm.sources, nm.digest, new.options, new.files)
    for kind, name, x, y in diff(a, b, ("source", "option", "file")):
        x, y = (None if x is MISSING else x), (None if y is MISSING else y)
        if kind == "option":
            was = "(new option)" if x is None and name not in old.options else _value(x)
            now = "(removed)" if y is None and name not in new.options else _value(y)
            reasons.append({"kind": "option", "detail": f"{name}: {was} → {now}"})
        else:
            reasons.append({"kind": kind, "detail": _blob_change(name, x, y, "source" if kind == "source" else "data file")})
    if new.force:
        reasons.append({"kind": "forced", "detail": "force_build=True"})
    return reasons


def _ids(v) -> list:
    return [] if v is None else list(v) if isinstance(v, list) else [v]


def _dirnames(method_of, ids) -> str:
    ids = _ids(ids)
    return ", ".join(job_dirname(method_of.get(i, "?"), i) for i in ids) if ids else "none"


SHOWN = 3       # changed elements of a list input named in a reason; the rest are counted


def input_change(k: str, old, new, method_of: dict, same_as: dict) -> str:
    """How input ``k`` changed: ``b: b-074504e3bd16 → b-4f6a64346e5c``; for a
    list of jobs only the elements that changed (``parts[7]: work-ab12… →
    work-cd34…``), not the whole list on each side."""
    if not isinstance(old, list) and not isinstance(new, list):
        return f"{k}: {_dirnames(method_of, old)} → {_dirnames(method_of, new)}"
    import difflib
    old_ids, new_ids = _ids(old), _ids(new)
    name = lambda i: job_dirname(method_of.get(i, "?"), i)  # noqa: E731
    changes = []
    ops = difflib.SequenceMatcher(None, old_ids, [same_as.get(i, i) for i in new_ids], autojunk=False).get_opcodes()
    for op, i1, i2, j1, j2 in ops:
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            changes += [f"{k}[{j1 + n}]: {name(old_ids[i1 + n])} → {name(new_ids[j1 + n])}" for n in range(i2 - i1)]
        else:
            changes += [f"{k}[{i}]: {name(old_ids[i])} removed" for i in range(i1, i2)]
            changes += [f"{k}[{j}]: {name(new_ids[j])} added" for j in range(j1, j2)]
    head = f"{k}: {len(old_ids)} → {len(new_ids)} jobs; " if len(old_ids) != len(new_ids) else ""
    more = f"; and {len(changes) - SHOWN} more of {len(new_ids)}" if len(changes) > SHOWN else ""
    return head + "; ".join(changes[:SHOWN]) + more

# ---------------------------------------------------------------- comparison


def compare(base, head) -> dict:
    """Match the calls of two sides and classify every job."""
    base_by_key = {}
    for c in base.calls:
        base_by_key.setdefault(c.key, c)
    head_keys = set()
    method_of = {c.effective: c.spec.method.name for s in (base, head) for c in s.calls}
    method_of.update({c.id: c.spec.method.name for s in (base, head) for c in s.calls})
    changed: dict[str, dict] = {}      # head effective id -> row (invalidated or new)
    same_as: dict[str, str] = {}       # head id -> base id of the same job (unchanged calls)
    invalidated, new, unchanged = [], [], []
    for c in head.calls:
        if c.key in head_keys:
            continue
        head_keys.add(c.key)
        row = {"script": c.script, "method": c.spec.method.name, "name": c.spec.name, "occurrence": c.occurrence,
               "id": c.effective, "action": "reuse" if c.found else "build", "path": c.path}
        b = base_by_key.get(c.key)
        if b is None:
            detail = f"{c.script}: no such call on the base side"
            if c.script in base.stopped_at:
                detail += f", whose plan stopped early at {base.stopped_at[c.script]} (it may be further on)"
            row.update(reasons=[{"kind": "new", "detail": detail}], hops=0, old_id=None)
            new.append(row)
            changed.setdefault(c.effective, row)
            continue
        row["old_id"] = b.effective
        same = _same_job(b, c)
        reasons = [] if same else direct_reasons(b.spec, c.spec)
        hops = 0 if reasons else None
        for k in sorted(set(b.spec.jobs) | set(c.spec.jobs)):
            if same:
                break
            old_ids, new_ids = _ids(b.spec.jobs.get(k)), _ids(c.spec.jobs.get(k))
            if old_ids == [same_as.get(i, i) for i in new_ids]:
                continue
            ups = [changed[i]["hops"] for i in new_ids if i in changed]
            h = min(ups) + 1 if ups else 0       # rewired to other jobs: a direct change of the script
            reasons.append({"kind": "input", "detail": input_change(k, b.spec.jobs.get(k), c.spec.jobs.get(k),
                                                                    method_of, same_as), "hops": h})
            hops = h if hops is None else min(hops, h)
        if same or not reasons:
            # the same job, or one that differs only through inputs that are
            # the same jobs (equivalent_hashes): once built, it is the old one
            same_as[c.effective] = same_as[c.spec.id] = b.effective
            unchanged.append({**row, "equivalent": c.spec.id not in (b.spec.id, b.effective)})
            continue
        row.update(reasons=reasons, hops=hops or 0, base_path=b.path, base=b)
        invalidated.append(row)
        changed.setdefault(c.effective, row)
    removed = []
    seen = set()
    for c in base.calls:
        if c.key not in head_keys and c.key not in seen:
            seen.add(c.key)
            removed.append({"script": c.script, "method": c.spec.method.name, "name": c.spec.name,
                            "occurrence": c.occurrence, "id": c.effective, "built": c.found is not None,
                            "uncertain": c.script in head.stopped_at})
    return {"invalidated": invalidated, "new": new, "removed": removed, "unchanged": unchanged}


def _same_job(b, c) -> bool:
    old = {b.spec.id, b.effective}
    return bool(old & {c.spec.id, c.effective, *c.spec.equivalent_ids})


def cosmetic_changes(base, head, invalidated: list[dict]) -> list[dict]:
    """Methods whose change is only comments, whitespace or docstrings."""
    from accelgit.methods.cosmetic import method_is_cosmetic, suggestion
    out, done = [], set()
    for row in invalidated:
        name = row["method"]
        if name in done or not any(r["kind"] == "source" for r in row["reasons"]):
            continue
        done.add(name)
        old_m, new_m = row["base"].spec.method, head.method(name)
        if new_m is None or old_m.digest == new_m.digest:
            continue
        ok, paths = method_is_cosmetic(old_m, new_m, base.view.read, head.view.read)
        if not ok:
            continue
        s = suggestion(old_m, new_m, head.view.read(new_m.path))
        out.append({"method": name, "path": new_m.path, "files": paths, "old_digest": old_m.digest,
                    "new_digest": new_m.digest, **s,
                    "jobs": [r["name"] for r in invalidated if r["method"] == name]})
    names = {c["method"] for c in out}
    for row in invalidated:
        row["cosmetic"] = row["method"] in names and all(
            r["kind"] == "source" or (r["kind"] == "input" and r.get("hops", 0) > 0) for r in row["reasons"]) \
            and any(r["kind"] == "source" for r in row["reasons"])
    return out


def rebuild_estimate(jobs: list[dict]) -> dict:
    """Seconds to rebuild what would be built, from the base side's profile.json."""
    rows, total, unknown = [], 0.0, 0
    for r in jobs:
        if r["action"] != "build":
            continue
        secs = recorded_wall(r.get("base_path"))
        rows.append({"method": r["method"], "name": r["name"], "id": r["id"], "seconds": secs})
        if secs is None:
            unknown += 1
        else:
            total += secs
    return {"seconds": round(total, 3), "jobs": rows, "unknown": unknown}


def _side_info(side) -> dict:
    return {"rev": side.rev, "commit": side.view.commit if side.view.kind == "commit" else None,
            "view": side.label, "scripts": side.scripts, "complete": side.complete, "stopped": side.stopped,
            "jobs": len({c.key for c in side.calls})}


def summary_line(doc: dict) -> str:
    s = doc["summary"]
    n = s["invalidated"]
    parts = [f"{n} job{'s' if n != 1 else ''} invalidated" + (f" ({s['direct']} directly, {s['downstream']} downstream)" if n else ""),
             f"{s['new']} new", f"{s['removed']} removed", f"{s['unchanged']} unchanged"]
    line = ", ".join(parts) + f"; {s['changed_files']} changed file{'s' if s['changed_files'] != 1 else ''} that jobs depend on"
    rb = doc["rebuild"]
    n = len(rb["jobs"])
    if n and rb["unknown"] == n:
        line += f"; {n} job{'s' if n != 1 else ''} to build, no recorded time to estimate from"
    elif n:
        from accelgit.commands.report.markdown import seconds
        line += f"; estimated rebuild {seconds(rb['seconds'])} for {n} job{'s' if n != 1 else ''}"
        if rb["unknown"]:
            line += f" ({rb['unknown']} without a recorded time)"
    if s["equivalent"]:
        line += f"; {s['equivalent']} job{'s' if s['equivalent'] != 1 else ''} kept valid by equivalent_hashes"
    if s["cosmetic"]:
        line += f"; {s['cosmetic']} cosmetic method change{'s' if s['cosmetic'] != 1 else ''}"
    if not (doc["base"]["complete"] and doc["head"]["complete"]):
        line += "; the plan is incomplete"
    return line + "."


def build_report(repo, base, head) -> dict:
    from accelgit.commands.report.graph import graph
    cmp = compare(base, head)
    inv, new = cmp["invalidated"], cmp["new"]
    cosmetic = cosmetic_changes(base, head, inv)
    outputs = []
    for r in inv:
        if r.get("base_path") and r["path"] and r["base_path"] != r["path"]:
            outputs.append({"method": r["method"], "name": r["name"], "old_id": r["old_id"], "new_id": r["id"],
                            **output_diff(r["base_path"], r["path"])})
    doc = {
        "format": FORMAT_VERSION,
        "base": _side_info(base), "head": _side_info(head),
        "summary": {},
        "changed_files": changed_files(repo, base, head),
        "invalidated": [{k: r[k] for k in ("script", "method", "name", "occurrence", "old_id", "id", "hops",
                                           "reasons", "action", "cosmetic")} for r in inv],
        "new": [{k: r[k] for k in ("script", "method", "name", "occurrence", "id", "action", "reasons")} for r in new],
        "removed": cmp["removed"],
        "cosmetic": cosmetic,
        "rebuild": rebuild_estimate(inv + new),
        "outputs": outputs,
        "graph": graph(base, head, cmp),
    }
    doc["summary"] = {"invalidated": len(inv), "direct": sum(1 for r in inv if r["hops"] == 0),
                      "downstream": sum(1 for r in inv if r["hops"] > 0), "new": len(new),
                      "removed": len(cmp["removed"]), "unchanged": len(cmp["unchanged"]),
                      "changed_files": len(doc["changed_files"]), "cosmetic": len(cosmetic),
                      "equivalent": sum(1 for r in cmp["unchanged"] if r["equivalent"]),
                      "to_build": sum(1 for r in inv + new if r["action"] == "build")}
    doc["summary"]["text"] = summary_line(doc)
    return doc
