"""Which stored jobs an ``accelgit verify`` command checks: the JOB arguments,
``--script SCRIPT``'s run record, or ``--all`` (SPEC §6, §7).

Nothing here unpickles: a job is known by its folder and its job.json.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from accelgit.core.errors import UsageError
from accelgit.core.identity import job_dirname
from accelgit.store import runs
from accelgit.store.jobdir import is_complete
from accelgit.store.layout import JOB_JSON, run_record_path
from accelgit.store.workdir import Store

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


def short(blob: str | None) -> str:
    return blob[:12] if blob else "(none)"


def names(paths, limit: int = SHOW) -> str:
    """At most ``limit`` paths, and how many more."""
    paths = list(paths)
    more = f" and {len(paths) - limit} more" if len(paths) > limit else ""
    return ", ".join(paths[:limit]) + more

# --------------------------------------------------------------- selection


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
            if os.path.isfile(os.path.join(d, JOB_JSON)) or is_complete(d):
                out.append(Target(d))
    return out


def _script_targets(repo, store: Store, script: str, cwd: str) -> list[Target]:
    rel = repo.relpath(os.path.join(cwd, script))
    record = run_record_path(store.target.path, rel)
    try:
        _, jobs = runs.read(record)
        return [Target(store.find_by_id(j["id"], j["method"]), id=j["id"], method=j["method"]) for j in jobs]
    except FileNotFoundError:
        raise UsageError(f"no build record for '{rel}' (looked for {record}): run 'accelgit build {rel}' first") from None
    except (OSError, runs.RecordError) as e:
        raise UsageError(f"{record}: cannot be read: {e}") from None


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
