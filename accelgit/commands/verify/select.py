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
    planned: bool = False           # missing because the current scripts would build it
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
    legacy = record[:-len(runs.SUFFIX)] + runs.LEGACY_SUFFIX
    if not os.path.exists(record) and os.path.exists(legacy):
        record = legacy                     # written by an older accelgit
    try:
        _, jobs = runs.read(record)
        return [Target(store.find_by_id(j["id"], j["method"]), id=j["id"], method=j["method"]) for j in jobs]
    except FileNotFoundError:
        raise UsageError(f"no build record for '{rel}' (looked for {record}): run 'accelgit build {rel}' first") from None
    except (OSError, runs.RecordError) as e:
        raise UsageError(f"{record}: cannot be read: {e}") from None


class Current:
    """The jobs the current build scripts use: a plan of the work tree (nothing
    built, nothing written).  ``ids`` in call order, ``missing`` the ones a
    build would make, ``note`` why the plan is partial or failed."""

    def __init__(self, repo, config, cwd: str):
        from accelgit.core.errors import AccelgitError
        from accelgit.git.views import WorktreeView
        from accelgit.plan.document import run_plan
        self.ids: list[tuple[str, str]] = []        # (id, method)
        self.missing: set[str] = set()
        self.note = ""
        view = WorktreeView(repo)
        try:
            plan = run_plan(repo, config, view, None, cwd, explain=False, capture=True)
            for p in plan.planned.values():
                self.ids.append((p.id, p.method))
                if p.action == "build":
                    self.missing.add(p.id)
            if plan.stopped:
                self.note = f" (the plan of the current scripts is incomplete: {plan.stopped[0]['message']})"
        except AccelgitError as e:
            self.note = f" (the current build scripts cannot be planned: {e})"
        finally:
            view.close()
        self.used = {jid for jid, _ in self.ids}


def select(repo, store: Store, jobs: list[str], *, all_jobs: bool, scripts: list[str], cwd: str,
           current: Current | None = None) -> list[Target]:
    """The JOBs named, the jobs of ``--script``'s run record, every stored job
    (``--all``), or, with none of these, the jobs the current build scripts use
    (``current``: those not built yet are missing targets)."""
    targets: list[Target] = []
    if not (jobs or all_jobs or scripts):
        if current.note and not current.ids:
            raise UsageError(f"verify: nothing to check{current.note}; name JOBs, or use --all or --script SCRIPT")
        for jid, method in current.ids:
            targets.append(Target(store.find_by_id(jid, method), id=jid, method=method))
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
