"""Which stored jobs ``accelgit gc`` keeps, and why.

A job is kept when any of these holds (the first one found is its reason):

* the build scripts at a kept commit use it: by default HEAD, the tip of
  every local branch and every tag (``[gc] keep = "branches"``), or every
  commit in history (``keep = "all-commits"``, ``gc --all-commits``); each
  commit is planned from git, with the config and scripts it holds, without
  a checkout;
* the run record of a build lists it (what the work tree's scripts used last);
* it is an input, transitively, of a kept job;
* it was built less than ``[gc] grace_days`` ago (default 14).

A commit whose build scripts cannot be planned keeps everything: gc cannot
tell which jobs it uses, so it removes no job and says which commit.
"""
from __future__ import annotations

import datetime

from accelgit.store.jobdir import used_ids


class Keep:
    """``reasons``: job id -> why it is kept; ``blocked``: why no job may be removed."""

    def __init__(self):
        self.reasons: dict[str, str] = {}
        self.blocked: str | None = None
        self.notes: list[str] = []

    def add(self, jid: str, why: str) -> None:
        self.reasons.setdefault(jid, why)


def kept_commits(repo, keep: str, branch_tips: bool) -> list[tuple[str, str]]:
    """``(commit, what names it)`` of every commit whose jobs are kept."""
    out: dict[str, str] = {}
    head = repo.head()
    if head:
        out[head] = "HEAD"
    if keep == "all-commits":
        proc = repo.git(["rev-list", "--all"], check=False)
        for sha in proc.stdout.decode().split():
            out.setdefault(sha, f"commit {sha[:10]}")
    elif branch_tips:
        proc = repo.git(["for-each-ref", "--format=%(objectname) %(*objectname) %(refname)",
                         "refs/heads", "refs/tags"], check=False)
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            parts = line.split(" ")
            if len(parts) < 3:
                continue
            sha = parts[1] or parts[0]                  # an annotated tag: the commit it points at
            ref = " ".join(parts[2:])
            kind, _, name = ref[len("refs/"):].partition("/")
            out.setdefault(sha, f"{'branch' if kind == 'heads' else 'tag'} {name}")
    return list(out.items())


def jobs_of_commit(repo, commit: str) -> tuple[set[str], str | None]:
    """The ids of the jobs the build scripts at ``commit`` use, and a note
    when the plan stopped early; raises AccelgitError when they cannot be planned."""
    from accelgit.build.scripts import find_scripts
    from accelgit.config import config_of_view
    from accelgit.core.errors import UsageError
    from accelgit.git.views import CommitView
    from accelgit.plan.document import run_plan
    view = CommitView(repo, commit)
    try:
        config = config_of_view(repo.root, view)
        try:
            find_scripts(view, config, None)
        except UsageError:
            return set(), None                          # no build script there (before accelgit): no jobs
        plan = run_plan(repo, config, view, None, repo.root, explain=False, capture=True)
        note = plan.stopped[0]["message"] if plan.stopped else None
        return set(plan.planned), note
    finally:
        view.close()


def decide(repo, *, records: dict[str, list[str]], complete: dict[str, dict], params_of, keep: str,
           branch_tips: bool, grace_days: float) -> Keep:
    """What to keep of the ``complete`` jobs (``{dirname: job.json}``).
    ``params_of(id)`` gives any workdir's job.json of an id (to follow inputs)."""
    import contextlib
    import sys

    from accelgit.core.errors import AccelgitError
    k = Keep()
    with contextlib.redirect_stdout(sys.stderr):        # what build scripts print is not gc's output
        for commit, label in kept_commits(repo, keep, branch_tips):
            try:
                ids, stopped = jobs_of_commit(repo, commit)
            except AccelgitError as e:
                k.blocked = f"the build scripts of {label} ({commit[:10]}) cannot be planned ({e})"
                return k
            for jid in ids:
                k.add(jid, f"used by {label}")
            if stopped:
                k.notes.append(f"the plan of {label} stopped early ({stopped}): the jobs after that are unknown")
    for name, ids in records.items():
        for jid in ids:
            k.add(jid, f"in the run record {name}")
    todo = list(k.reasons)
    while todo:                                         # what kept jobs use, in any workdir
        jid = todo.pop()
        for i in used_ids(params_of(jid) or {}):
            if i not in k.reasons:
                k.add(i, "an input of a kept job")
                todo.append(i)
    if grace_days > 0:
        limit = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=grace_days)
        for params in complete.values():
            try:
                built = datetime.datetime.fromisoformat(params.get("built_at") or "")
            except (TypeError, ValueError):
                continue
            if built.tzinfo is not None and built > limit:
                k.add(params["id"], f"built less than {grace_days:g} days ago")
    return k
