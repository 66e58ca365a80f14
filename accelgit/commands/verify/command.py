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
from accelgit.commands.verify.select import Target, select
from accelgit.store.jobdir import read_params
from accelgit.store.workdir import Store

# --------------------------------------------------------------- the command


def verify_jobs(repo, config, targets: list[Target], *, at=None, rerun=False, strict=False) -> list[Target]:
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
                t.add("integrity", False, f"job {t.dirname} is not in any workdir (removed?)")
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
            t.add("currency", *currency.check(t.params))
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
                   at: str | None, rerun: bool, strict: bool) -> int:
    from accelgit.commands.output import emit, stdout_to_stderr
    from accelgit.core.table import table
    store = Store(config)
    targets = select(repo, store, jobs, all_jobs=all_jobs, scripts=scripts, cwd=cwd)
    with stdout_to_stderr(as_json):
        verify_jobs(repo, config, targets, at=at, rerun=rerun, strict=strict)
    ok = all(c["ok"] for t in targets for c in t.checks)
    if as_json:
        emit({"ok": ok, "jobs": [{"id": (t.params or {}).get("id") or t.id or t.dirname, "checks": t.checks}
                                 for t in targets]})
        return 0 if ok else 1
    if not targets:
        print("no jobs to verify")
        return 0
    rows = [[t.dirname, c["check"], ("warn" if c["detail"].startswith("warning:") else "ok") if c["ok"] else "FAIL",
             c["detail"]] for t in targets for c in t.checks]
    print(table(rows, ["job", "check", "ok", "detail"]))
    bad = [t for t in targets if not all(c["ok"] for c in t.checks)]
    print(f"{len(targets)} jobs verified: " + (f"{len(bad)} failed a check" if bad else "all checks passed"))
    return 0 if ok else 1
