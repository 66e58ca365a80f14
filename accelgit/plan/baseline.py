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

from accelgit import __version__
from accelgit.plan.engine import PlanSession

CACHE = "accelgit-baseline.json"        # in the git dir: the calls of the last few baselines
CACHE_VERSION = 1
CACHE_COMMITS = 4


class Baseline:
    """The calls of the build scripts at ``commit`` (None: there is none, say why in ``label``)."""

    def __init__(self, repo, commit: str | None, label: str, problem: str | None = None, cache: bool = False):
        self.repo, self.commit, self.label, self.cache = repo, commit, label, cache
        self.store = None                           # the plan's store: is a baseline job built?
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
        from accelgit.core.errors import AccelgitError, UsageError
        from accelgit.git.views import CommitView
        self._calls = {}
        if self.cache and self._load():
            return
        view = CommitView(self.repo, self.commit)
        try:
            config = config_of_view(self.repo.root, view)
            try:
                scripts = find_scripts(view, config, None)
            except UsageError:
                return                              # no build script there yet: every call is new
            session = PlanSession(self.repo, config, view, keep_calls=True)
            for _ in session.run_each(scripts, capture=True):
                pass                                # a stopped script: the calls after it are new, if any
            self._calls = session.calls
            self.ids = set(session.planned)
            session.finish()
            if self.cache:
                self._save()
        except AccelgitError as e:
            self.problem = f"the build scripts at {self.name} cannot be planned ({e})"
            self._calls = {}
        finally:
            view.close()

    def call(self, script: str, method: str, name: str, occ: int):
        """``(id, identity, built)`` of this call at the baseline, or None (no such
        call, or no baseline at all: then ``problem`` says why)."""
        self.plan()
        entry = (self._calls or {}).get((script, method, name, occ))
        if entry is None:
            return None
        jid, identity, built, equivalent = entry
        if built is None:                           # from the cache: is it built now?
            built = self.store is not None and self.store.find(method, [jid, *equivalent]) is not None
        return jid, identity, built

    # -- the cache: a commit's calls depend on the commit alone (whether their
    # jobs are built is asked of the store), so the plan of HEAD is made once
    # per HEAD, not on every `accelgit plan` of an edit loop

    def _path(self) -> str:
        import os
        return os.path.join(self.repo.git_dir, CACHE)

    def _load(self) -> bool:
        from accelgit.git.cachefile import read_json
        data = read_json(self._path(), version=CACHE_VERSION, accelgit=__version__)
        if data is None:
            return False
        try:
            entry = data["commits"][self.commit]
            sources = entry["methods"]
            calls = {}
            for script, method, name, occ, jid, digest, options, files, jobs, equivalent in entry["calls"]:
                calls[(script, method, name, occ)] = (jid, {"sources": sources[digest], "source": digest,
                                                            "options": options, "files": files, "jobs": jobs},
                                                      None, tuple(equivalent))
            self._calls, self.ids = calls, set(entry["ids"])
            return True
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False

    def _save(self) -> None:
        from accelgit.git.cachefile import read_json, write_json
        methods, calls = {}, []
        for (script, method, name, occ), (jid, ident, _built, equivalent) in self._calls.items():
            methods.setdefault(ident["source"], ident["sources"])
            calls.append([script, method, name, occ, jid, ident["source"], ident["options"], ident["files"],
                          ident["jobs"], list(equivalent)])
        old = read_json(self._path(), version=CACHE_VERSION, accelgit=__version__) or {}
        commits = old.get("commits") if isinstance(old.get("commits"), dict) else {}
        commits.pop(self.commit, None)
        commits[self.commit] = {"methods": methods, "calls": calls, "ids": sorted(self.ids)}
        commits = dict(list(commits.items())[-CACHE_COMMITS:])
        write_json(self._path(), {"version": CACHE_VERSION, "accelgit": __version__, "commits": commits})

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
                        None if parent else f"{view.commit[:7]} is a first commit", cache=True)
    return Baseline(repo, repo.head(), "HEAD", cache=True)
