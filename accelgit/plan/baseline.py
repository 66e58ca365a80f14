"""The baseline a plan's reasons compare with (SPEC §7, "Baselines"): the
build scripts of a commit, planned straight from git (no checkout), never
whichever build ran last.  ``plan`` and ``plan --staged`` and the pre-commit
hook compare with HEAD, ``plan --at REV`` with REV's first parent,
post-merge with ORIG_HEAD, post-checkout with the previous HEAD.

Each ``urd.build`` call of the baseline is kept by (script, method, name,
occurrence), as ``report`` matches calls: its job id, its identity (what
``diff.py`` compares) and whether that job is built.  The baseline is planned
only when a reason is first asked for: a plan with nothing to build never
plans it.
"""
from __future__ import annotations

import contextlib
import sys

from accelgit.plan.engine import PlanSession


class Baseline:
    """The calls of the build scripts at ``commit`` (None: there is none, say why in ``label``)."""

    def __init__(self, repo, commit: str | None, label: str, problem: str | None = None):
        self.repo, self.commit, self.label = repo, commit, label
        self._calls: dict[tuple, tuple] | None = None
        self.ids: set[str] = set()                  # every job id the baseline's plan uses
        self.problem = problem or (None if commit else f"there is no {label} yet (no commit)")

    @property
    def name(self) -> str:
        """How reasons name the baseline: ``HEAD (1a2b3c4)``."""
        return f"{self.label} ({self.commit[:7]})" if self.commit else self.label

    def plan(self) -> None:
        """Plan the baseline now (once)."""
        if self._calls is not None or self.problem is not None:
            return
        from accelgit.build.scripts import find_scripts
        from accelgit.config import config_of_view
        from accelgit.core.errors import AccelgitError, PlanStopped, UsageError
        from accelgit.git.views import CommitView
        self._calls = {}
        view = CommitView(self.repo, self.commit)
        try:
            config = config_of_view(self.repo.root, view)
            try:
                scripts = find_scripts(view, config, None)
            except UsageError:
                return                              # no build script there yet: every call is new
            session = PlanSession(self.repo, config, view, keep_calls=True)
            with contextlib.redirect_stdout(sys.stderr):
                for script in scripts:
                    session.current_script = script
                    try:
                        session.run_script(script)
                    except PlanStopped:
                        pass                        # the calls after it are not known: new, if any
            self._calls = session.calls
            self.ids = set(session.planned)
            session.finish()
        except AccelgitError as e:
            self.problem = f"the build scripts at {self.name} cannot be planned ({e})"
            self._calls = {}
        finally:
            view.close()

    def call(self, script: str, method: str, name: str, occ: int):
        """``(id, identity, built)`` of this call at the baseline, or None (no such
        call, or no baseline at all: then ``problem`` says why)."""
        self.plan()
        return (self._calls or {}).get((script, method, name, occ))

    def finish(self) -> None:
        """Drop the calls (the reasons are made); ``ids`` stay."""
        if self._calls is not None:
            self._calls = {}


def baseline_for(repo, view) -> Baseline:
    """The baseline of a plan of ``view``: HEAD for the work tree and the index,
    the first parent for a commit."""
    if view.kind == "commit":
        proc = repo.git(["rev-parse", "-q", "--verify", f"{view.commit}^1"], check=False)
        parent = proc.stdout.decode().strip() if proc.returncode == 0 else None
        return Baseline(repo, parent or None, f"the parent of {view.commit[:7]}",
                        None if parent else f"{view.commit[:7]} is a first commit")
    return Baseline(repo, repo.head(), "HEAD")
