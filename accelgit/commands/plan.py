"""``accelgit plan``: the plan of the work tree, the index or a commit, as
text or JSON, written as it is made (a 10,000-job plan is never held whole)."""
from __future__ import annotations

from accelgit.commands.output import write_pieces
from accelgit.plan.document import json_chunks, render_lines, run_plan


def plan_command(repo, config, *, cwd: str, as_json: bool, scripts: list[str], staged: bool, at: str | None,
                 exit_code: bool, verbose: bool = False) -> int:
    from accelgit.git.views import make_view
    view = make_view(repo, staged, at)
    try:
        plan = run_plan(repo, config, view, scripts or None, cwd)
    finally:
        view.close()
    if as_json:
        write_pieces(json_chunks(plan))
    else:
        write_pieces(render_lines(plan, verbose), "\n")
    return 1 if exit_code and plan.summary["build"] else 0
