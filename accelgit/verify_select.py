"""Which stored jobs an ``accelgit verify`` command checks: the JOB arguments,
``--script SCRIPT``'s build record, or ``--all``; and how a JOB argument is
found in the workdirs, read-only (SPEC §6, §7).

Nothing here unpickles: a job is known by its folder and its job.json.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from .errors import UsageError
from .identity import job_dirname
from .store import MANIFEST, Store

SHOW = 8            # at most this many paths named per kind of problem


@dataclass
class Target:
    """One job to verify: its folder (None when it is missing) and what is known of it."""
    path: str | None
    id: str | None = None
    method: str | None = None
    params: dict | None = None
    params_error: str | None = None
    checks: list = field(default_factory=list)

    @property
    def dirname(self) -> str:
        if self.path:
            return os.path.basename(self.path)
        return job_dirname(self.method or "?", self.id or "?")

    def add(self, check: str, ok: bool, detail: str) -> None:
        self.checks.append({"check": check, "ok": bool(ok), "detail": detail})

    def ok(self, check: str) -> bool:
        return any(c["check"] == check and c["ok"] for c in self.checks)


def _short(blob: str | None) -> str:
    return blob[:12] if blob else "(none)"


def _names(paths, limit: int = SHOW) -> str:
    paths = list(paths)
    more = f" and {len(paths) - limit} more" if len(paths) > limit else ""
    return ", ".join(paths[:limit]) + more


# --------------------------------------------------------------- selection

def read_params(path: str) -> tuple[dict | None, str | None]:
    """job.json as a dict, or None and why not (JSON only: nothing is unpickled)."""
    try:
        with open(os.path.join(path, "job.json"), encoding="utf-8") as f:
            params = json.load(f)
    except FileNotFoundError:
        return None, "job.json is missing"
    except (OSError, ValueError) as e:
        return None, f"job.json cannot be read: {e}"
    if not isinstance(params, dict):
        return None, "job.json is not a JSON object"
    return params, None


def _job_json_id(path: str) -> str | None:
    params, _ = read_params(path)
    return params.get("id") if params else None


def find_job(store: Store, jid: str, method: str | None = None, listing: dict | None = None) -> str | None:
    """The folder of job ``jid`` in any workdir (complete ones first), read-only:
    unlike Workdir.lookup this never touches a workdir's index.  ``listing``
    caches each workdir's folder names between calls."""
    found = []
    suffix = "-" + jid[:12]
    listing = {} if listing is None else listing
    for wd in store.workdirs.values():
        if method:
            names = [job_dirname(method, jid)]
        else:
            if wd.path not in listing:
                try:
                    listing[wd.path] = sorted(n for n in os.listdir(wd.path) if not n.startswith("."))
                except OSError:
                    listing[wd.path] = []
            names = [n for n in listing[wd.path] if n.endswith(suffix)]
        for n in names:
            d = os.path.join(wd.path, n)
            if os.path.isdir(d) and _job_json_id(d) == jid:
                found.append(d)
    found.sort(key=lambda d: not os.path.isfile(os.path.join(d, MANIFEST)))
    return found[0] if found else None


def _all_targets(store: Store) -> list[Target]:
    out = []
    for wd in store.workdirs.values():
        try:
            names = sorted(os.listdir(wd.path))
        except OSError:
            continue
        for n in names:
            d = os.path.join(wd.path, n)
            if n.startswith(".") or not os.path.isdir(d):
                continue
            if os.path.isfile(os.path.join(d, "job.json")) or os.path.isfile(os.path.join(d, MANIFEST)):
                out.append(Target(d))
    return out


def _script_targets(repo, store: Store, script: str, cwd: str) -> list[Target]:
    from .session import RUNS
    rel = repo.relpath(os.path.join(cwd, script))
    record = os.path.join(store.target.path, RUNS, rel.replace("/", "__") + ".json")
    try:
        with open(record, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise UsageError(f"no build record for '{rel}' (looked for {record}): run 'accelgit build {rel}' first") from None
    except (OSError, ValueError) as e:
        raise UsageError(f"{record}: cannot be read: {e}") from None
    out = []
    for j in data.get("jobs") or []:
        jid, method = j.get("id"), j.get("method")
        if not isinstance(jid, str):
            continue
        out.append(Target(find_job(store, jid, method), id=jid, method=method))
    return out


def select(repo, store: Store, jobs: list[str], *, all_jobs: bool, scripts: list[str], cwd: str) -> list[Target]:
    if not (jobs or all_jobs or scripts):
        raise UsageError("verify needs something to check: name JOBs, or use --all or --script SCRIPT")
    targets: list[Target] = []
    for spec in jobs:
        targets.append(Target(store.resolve(spec)))
    for script in scripts:
        targets.extend(_script_targets(repo, store, script, cwd))
    if all_jobs:
        targets.extend(_all_targets(store))
    seen, out = set(), []
    for t in targets:
        key = os.path.realpath(t.path) if t.path else ("missing", t.id)
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out
