"""``accelgit build``: run the build scripts, then say what was built."""
from __future__ import annotations

import os
import sys


def build_command(repo, config, *, cwd: str, as_json: bool, scripts: list[str], jobs: int | None) -> int:
    from accelgit.build.scheduler import run_build
    from accelgit.commands.output import emit, stdout_to_stderr
    progress = None
    if sys.stderr.isatty():
        from accelgit.commands.progress import Progress
        progress = Progress()
    with stdout_to_stderr(as_json):
        session = run_build(repo, config, scripts or None, jobs_n=jobs, progress=progress,
                            live=progress.show_output if progress else None, cwd=cwd)
    recs = session.records
    if as_json:
        emit({"jobs": [{k: r[k] for k in ("id", "method", "name", "action", "path", "seconds")} for r in recs]})
        return 0
    built = [r for r in recs if r["action"] == "built"]
    for r in built:
        print(f"built  {os.path.basename(r['path'])}  {r['seconds']:.2f}s")
    reused = sum(1 for r in recs if r["action"] == "reused")
    print(f"{len(built)} built, {reused} reused ({len(recs)} job{'' if len(recs) == 1 else 's'})")
    return 0
