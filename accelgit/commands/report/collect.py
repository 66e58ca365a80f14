"""One side of a report: run the build scripts of a view without building,
and keep every ``urd.build`` call with its full job spec.

This is ``accelgit plan``'s engine (``plan.engine.PlanSession``): a job that exists (by id or an equivalent id) is
handed to the script as the real job, so scripts that read results go on; a
job that would be built is a placeholder, and reading its result stops that
script's plan there (the side is then incomplete).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from accelgit.api.job import Job
from accelgit.build.scripts import find_scripts
from accelgit.plan.engine import PlanSession


@dataclass
class Call:
    """One ``urd.build`` call of one side."""
    script: str
    occurrence: int          # how many earlier calls of this script had the same (method, name)
    spec: object             # api.spec.JobSpec
    found: tuple | None      # (path, id) of an existing job, or None
    lineno: int | None = None

    @property
    def key(self) -> tuple:
        return (self.script, self.spec.method.name, self.spec.name, self.occurrence)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def effective(self) -> str:
        """The id the job has once built or reused (an equivalent job's id when reused)."""
        return self.found[1] if self.found else self.spec.id

    @property
    def path(self) -> str | None:
        return self.found[0] if self.found else None


@dataclass
class Side:
    label: str                     # "index", or the commit sha
    rev: str                       # as given on the command line
    view: object
    scripts: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    complete: bool = True
    stopped: list = field(default_factory=list)    # one line per script whose plan stopped
    stopped_at: dict = field(default_factory=dict)  # script -> "script:line" where it stopped
    methods: object = None

    def method(self, name: str):
        try:
            return self.methods.get(name)
        except Exception:  # noqa: BLE001 - a method that does not exist on this side
            return None


class CollectSession(PlanSession):
    """``accelgit plan``'s session (read-only store, placeholder jobs that stop
    the script when read), keeping every call, not only each job's first use."""

    def __init__(self, repo, config, view, side: Side):
        super().__init__(repo, config, view)
        self.side = side
        self._counts: dict = {}

    def submit(self, spec) -> Job:
        job = super().submit(spec)
        script = spec.script or self.current_script
        key = (script, spec.method.name, spec.name)
        occ = self._counts.get(key, 0)
        self._counts[key] = occ + 1
        found = (job.path, job.id) if self.planned[job.id].action == "reuse" else None
        self.side.calls.append(Call(script, occ, spec, found, spec.lineno))
        return job


def collect(repo, config, view, rev: str, scripts: list[str] | None = None, cwd: str | None = None) -> Side:
    """Every job the build scripts of ``view`` would use, without building.
    What the scripts print is shown only if one fails."""
    side = Side(label=view.label, rev=rev, view=view)
    session = CollectSession(repo, config, view, side)
    side.methods = session.methods
    side.scripts = find_scripts(view, config, scripts, cwd or os.getcwd())
    for script, e in session.run_each(side.scripts, capture=True):
        if e is not None:
            side.complete = False
            side.stopped.append(str(e))
            side.stopped_at[script] = e.where
    return side
