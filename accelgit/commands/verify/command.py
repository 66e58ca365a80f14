"""``accelgit verify``: run every check (checks.py) on the selected jobs
(select.py) and print a table or the JSON document (SPEC §7)."""
from __future__ import annotations

from accelgit.commands.verify.checks import (
    CHECKS,
    Currency,
    Provenance,
    check_identity,
    check_integrity,
)
from accelgit.commands.verify.select import Current, Target, select
from accelgit.store.jobdir import read_params
from accelgit.store.workdir import Store

# --------------------------------------------------------------- the command


def verify_jobs(repo, config, targets: list[Target], *, at=None, rerun=False, strict=False,
                used: set | None = None) -> list[Target]:
    """Every check on every target.  With ``used`` (``--all``: the ids the
    current build scripts use), currency is information, not a failure: a job
    of another commit or branch is not current, and need not be."""
    store = Store(config)
    currency = Currency(repo, config, store, at)
    provenance = Provenance(repo, strict)
    rerunner = None
    if rerun:
        from accelgit.commands.verify.rerun import Rerunner
        rerunner = Rerunner(repo, config, store)
    try:
        for t in targets:
            if t.path is None:
                what = "not built yet: the current build scripts would build it ('accelgit build')" \
                    if t.planned else "not in any workdir (removed?)"
                t.add("integrity", False, f"job {t.dirname} is {what}")
                for c in CHECKS[1:] if rerun else CHECKS[1:-1]:
                    t.add(c, False, "not checked: the job is missing")
                continue
            t.params, t.params_error = read_params(t.path)
            t.add("integrity", *check_integrity(t))
            t.add("identity", *check_identity(t))
            if t.params is None:
                for c in CHECKS[2:] if rerun else CHECKS[2:-1]:
                    t.add(c, False, f"not checked: {t.params_error}")
                continue
            ok, detail = currency.check(t.params)
            if used is not None:
                use = "used by the current build scripts" if t.params.get("id") in used else \
                    "not used by the current build scripts"
                ok, detail = True, f"{use}; {detail}"
            t.add("currency", ok, detail)
            t.add("provenance", *provenance.check(t.params))
            if rerunner is not None:
                t.add("reproducible", *rerunner.check(t))
    finally:
        currency.close()
        provenance.close()
        if rerunner is not None:
            rerunner.close()
    return targets


def verify_command(repo, config, *, cwd: str, as_json: bool, jobs: list[str], all_jobs: bool, scripts: list[str],
                   at: str | None, rerun: bool, strict: bool, verbose: bool) -> int:
    from accelgit.commands.output import emit, stdout_to_stderr
    store = Store(config)
    current = None
    with stdout_to_stderr(as_json):
        if all_jobs or not (jobs or scripts):
            current = Current(repo, config, cwd)        # what the current build scripts use
        targets = select(repo, store, jobs, all_jobs=all_jobs, scripts=scripts, cwd=cwd, current=current)
        if current is not None and not (all_jobs or jobs or scripts):
            for t in targets:
                t.planned = t.id in current.missing
        verify_jobs(repo, config, targets, at=at, rerun=rerun, strict=strict,
                    used=current.used if all_jobs and current is not None else None)
    ok = all(c["ok"] for t in targets for c in t.checks)
    if as_json:
        emit({"ok": ok, "jobs": [{"id": (t.params or {}).get("id") or t.id or t.dirname, "checks": t.checks}
                                 for t in targets]})
        return 0 if ok else 1
    print_summary(targets, verbose, current.note if current is not None else "")
    return 0 if ok else 1


def _state(c: dict) -> str:
    if not c["ok"]:
        return "FAIL"
    return "warn" if c["detail"].startswith("warning:") else "ok"


def print_summary(targets: list[Target], verbose: bool, note: str) -> None:
    """Counts per check, then the failing checks (every check with ``verbose``)."""
    from accelgit.core.table import table
    if not targets:
        print("no jobs to verify" + note)
        return
    counts: dict[str, dict[str, int]] = {}
    for t in targets:
        for c in t.checks:
            n = counts.setdefault(c["check"], {"ok": 0, "warn": 0, "FAIL": 0})
            n[_state(c)] += 1
    shown = [(t, c) for t in targets for c in t.checks if verbose or _state(c) != "ok"]
    if shown:
        print(table([[t.dirname, c["check"], _state(c), c["detail"]] for t, c in shown],
                    ["job", "check", "ok", "detail"]))
        print()
    for check, n in counts.items():
        parts = [f"{n['ok']} ok"] + [f"{n[k]} {k}" for k in ("warn", "FAIL") if n[k]]
        print(f"{check:<13} {', '.join(parts)}")
    bad = [t for t in targets if not all(c["ok"] for c in t.checks)]
    jobs = f"{len(targets)} job{'s' if len(targets) != 1 else ''}"
    print(f"{jobs} verified: " + (f"{len(bad)} failed a check" if bad else "all checks passed") + note)
