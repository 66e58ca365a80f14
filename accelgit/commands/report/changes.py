"""Report parts that read git history or the job store: changed files and the
commits that touched them, recorded rebuild times, output differences."""
from __future__ import annotations

import json
import os

from accelgit.api.job import Job
from accelgit.store.layout import PROFILE, RESULT_FILES
from accelgit.store.manifest import read_manifest, verified_bytes

SHORT = 160


def short(value, limit: int = SHORT) -> str:
    """A value as one short line of text (JSON where it can be)."""
    try:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"

# ---------------------------------------------------------------- changed files


KIND_ORDER = ("method", "helper", "depend_extra", "data", "script")


def dependencies(side) -> dict[str, dict]:
    """``{path: {"kinds": set, "jobs": [names]}}`` of every file a side's jobs depend on."""
    deps: dict[str, dict] = {}

    def add(path, kind, name):
        d = deps.setdefault(path, {"kinds": set(), "jobs": []})
        d["kinds"].add(kind)
        if name is not None and name not in d["jobs"]:
            d["jobs"].append(name)

    for script in side.scripts:
        add(script, "script", None)
    for c in side.calls:
        m = c.spec.method
        for p in m.sources:
            kind = "method" if p == m.path else "depend_extra" if p in m.depend_extra or \
                any(p.endswith("/" + e) for e in m.depend_extra) else "helper"
            add(p, kind, c.spec.name)
        for p in c.spec.files:
            add(p, "data", c.spec.name)
        add(c.script, "script", c.spec.name)
    return deps


def changed_files(repo, base, head) -> list[dict]:
    """Files some job of either side depends on whose content differs, with
    the commits of base..head that touched them."""
    deps = dependencies(base)
    for p, d in dependencies(head).items():
        mine = deps.setdefault(p, {"kinds": set(), "jobs": []})
        mine["kinds"] |= d["kinds"]
        mine["jobs"] += [j for j in d["jobs"] if j not in mine["jobs"]]
    rows = []
    for p in sorted(deps):
        old, new = base.view.blob(p), head.view.blob(p)
        if old == new:
            continue
        kinds = deps[p]["kinds"]
        rows.append({"path": p, "kind": next(k for k in KIND_ORDER if k in kinds),
                     "status": "added" if old is None else "deleted" if new is None else "modified",
                     "old_blob": old, "new_blob": new, "jobs": deps[p]["jobs"], "commits": []})
    if rows:
        _add_commits(repo, base, head, rows)
    return rows


def _add_commits(repo, base, head, rows: list[dict]) -> None:
    by_path = {r["path"]: r for r in rows}
    tip = head.view.commit if head.view.kind == "commit" else repo.head()
    if tip:
        proc = repo.git(["log", "-z", "--no-renames", "--format=%x01%H%x1f%s", "--name-only",
                         f"{base.view.commit}..{tip}", "--", *by_path], check=False)
        for chunk in proc.stdout.decode("utf-8", "replace").split("\x01")[1:]:
            header, _, names = chunk.partition("\0")
            sha, _, subject = header.partition("\x1f")
            for name in names.lstrip("\n").split("\0"):
                if name in by_path:
                    by_path[name]["commits"].append({"sha": sha, "subject": subject})
    if head.view.kind == "index":
        from accelgit.git.views import CommitView
        head_commit = CommitView(repo, tip).blob if tip else (lambda p: None)
        for r in rows:
            if head.view.blob(r["path"]) != head_commit(r["path"]):
                r["commits"].insert(0, {"sha": None, "subject": "(staged, not committed yet)"})

# ---------------------------------------------------------------- the job store


def recorded_wall(path: str | None) -> float | None:
    """The wall seconds ``profile.json`` of a built job records, or None."""
    if not path:
        return None
    try:
        wall = json.loads(verified_bytes(path, PROFILE)).get("wall")
    except Exception:  # noqa: BLE001 - no profile, or a damaged one: no estimate
        return None
    return float(wall) if isinstance(wall, (int, float)) else None




def _outputs(path: str) -> dict[str, str]:
    files = read_manifest(path)["files"]
    return {rel: e.get("sha256") for rel, e in files.items()
            if rel.startswith("output/") or rel in RESULT_FILES}


def _result(path: str):
    if not any(os.path.exists(os.path.join(path, f)) for f in RESULT_FILES):
        return False, None
    return True, Job(path).load()


def output_diff(old_path: str, new_path: str) -> dict:
    """How two built jobs' outputs differ: files by manifest sha256, and the
    results (read through ``Job.load``, which checks them against the manifest)."""
    out: dict = {"files": {"changed": [], "added": [], "removed": []}, "result": None, "error": None}
    try:
        a, b = _outputs(old_path), _outputs(new_path)
        strip = lambda rel: rel[len("output/"):] if rel.startswith("output/") else rel  # noqa: E731
        for rel in sorted(set(a) | set(b)):
            if rel in RESULT_FILES:
                continue
            if rel not in b:
                out["files"]["removed"].append(strip(rel))
            elif rel not in a:
                out["files"]["added"].append(strip(rel))
            elif a[rel] != b[rel]:
                out["files"]["changed"].append(strip(rel))
        has_a, ra = _result(old_path)
        has_b, rb = _result(new_path)
        if has_a or has_b:
            same = has_a == has_b and _same(ra, rb)
            out["result"] = {"before": short(ra) if has_a else None, "after": short(rb) if has_b else None,
                             "changed": not same}
    except Exception as e:  # noqa: BLE001 - a damaged job is reported, not fatal
        out["error"] = f"{type(e).__name__}: {e}"
    return out


def _same(a, b) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - e.g. arrays with an ambiguous truth value
        return short(a, 10 ** 6) == short(b, 10 ** 6)
