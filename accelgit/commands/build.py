"""``accelgit build``: run the build scripts, then say what was built."""
from __future__ import annotations

import os
import sys

from accelgit.core.errors import BuildFailed

LIST_UP_TO = 10        # built jobs listed one a line; more: a summary per method


def build_command(repo, config, *, cwd: str, as_json: bool, scripts: list[str], jobs: int | None,
                  target: list[str], force: list[str], quiet: bool = False, verbose: bool = False,
                  executor: str | None = None, scheduler: str | None = None) -> int:
    from accelgit.build.scheduler import run_build
    from accelgit.commands.output import emit, stdout_to_stderr
    if quiet and verbose:
        from accelgit.core.errors import UsageError
        raise UsageError("-q and -v cannot be given together")
    progress = live = None
    if sys.stderr.isatty() and not quiet:
        from accelgit.commands.progress import Progress
        progress = Progress()
        live = progress.show_output if verbose else None
    elif verbose:
        def live(dirname: str, text: str) -> None:
            sys.stderr.write("".join(f"[{dirname}] {ln}\n" for ln in text.splitlines()))
    with stdout_to_stderr(as_json):
        needed = (lambda view: needed_for(repo, config, view, scripts or None, cwd, target)) if target else None
        try:
            session = run_build(repo, config, scripts or None, jobs_n=jobs, progress=progress,
                                live=live, cwd=cwd, needed=needed, force=force, executor=executor,
                                scheduler=scheduler)
        except BuildFailed as e:
            if as_json or not getattr(e, "records", None):
                raise
            report_failures(e)
            return 1
    recs = session.records
    if not quiet:
        for line in session.warnings:        # urd.warn's, after the build as the Accelerator shows them
            print(f"accelgit: warning: {line}", file=sys.stderr)
    if as_json:
        emit({"jobs": [{k: r[k] for k in ("id", "method", "name", "action", "path", "seconds")} for r in recs]})
        return 0
    if not quiet:
        summary(recs, verbose)
    return 0


def summary(recs: list[dict], every: bool) -> None:
    """The built jobs one a line (up to LIST_UP_TO, or ``every``), else a
    table per method; then the totals."""
    built = [r for r in recs if r["action"] == "built"]
    if every or len(built) <= LIST_UP_TO:
        for r in built:
            print(f"built  {os.path.basename(r['path'])}  {r['seconds']:.2f}s")
    else:
        from accelgit.core.table import table
        per: dict[str, list] = {}
        for r in recs:
            row = per.setdefault(r["method"], [r["method"], 0, 0, 0.0])
            if r["action"] == "built":
                row[1] += 1
                row[3] += r["seconds"] or 0.0
            elif r["action"] == "reused":
                row[2] += 1
        print(table([[m, b, u, f"{s:.2f}s"] for m, b, u, s in per.values()],
                    ["method", "built", "reused", "seconds"]))
    reused = sum(1 for r in recs if r["action"] == "reused")
    print(f"{len(built)} built, {reused} reused ({len(recs)} job{'' if len(recs) == 1 else 's'})")


def needed_for(repo, config, view, scripts, cwd, targets: list[str]) -> set[str]:
    """The ids of the jobs named (a job name or method) and of what they need,
    transitively, from a plan of ``view``."""
    from accelgit.core.errors import UsageError
    from accelgit.plan.document import run_plan
    plan = run_plan(repo, config, view, scripts, cwd, explain=False, capture=True)   # they print in the build
    planned = plan.planned
    todo = [jid for jid, p in planned.items() if p.name in targets or p.method in targets]
    unknown = [t for t in targets if not any(p.name == t or p.method == t for p in planned.values())]
    if unknown:
        raise UsageError(f"--target {unknown[0]}: no job of the build scripts has that name or method"
                         + (" (the plan stopped early: it may be further on)" if plan.stopped else ""))
    needed: set[str] = set()
    while todo:
        jid = todo.pop()
        if jid in needed:
            continue
        needed.add(jid)
        p = planned.get(jid)
        if p is not None:
            todo.extend(p.input_ids())
    return needed


def report_failures(e: BuildFailed) -> None:
    """Every failed job's traceback (its frames name the repo's files), what
    stopped a build script if that is news, the totals (on stdout, as a build's
    summary is), then one line per failed job, the first one last (with how
    many more failed and how many were not built)."""
    err = sys.stderr
    for f in e.failures:
        tb = getattr(f, "traceback", "")
        if tb:
            err.write(tb if tb.endswith("\n") else tb + "\n")
    stopped = getattr(e, "script_error", None)
    if stopped and not any(str(f) in stopped for f in e.failures):
        print(f"accelgit: the build script stopped: {stopped}", file=err)
    counts: dict[str, int] = {}
    for r in e.records:
        counts[r["action"]] = counts.get(r["action"], 0) + 1
    n_failed = len(e.failures)
    parts = [f"{counts.get('built', 0)} built", f"{counts.get('reused', 0)} reused", f"{n_failed} failed"]
    not_built = counts.get("failed", 0) - n_failed + counts.get("pending", 0)
    if not_built > 0:
        parts.append(f"{not_built} not built")
    sys.stdout.flush()
    print(", ".join(parts), flush=True)
    for f in reversed(e.failures[1:]):
        print(f"accelgit: {f}", file=err)
    print(f"accelgit: {e}", file=err)
