"""``JobSpec``: everything that identifies one ``urd.build`` call's job, as
``Urd`` computes it and the build (or the plan) takes it."""
from __future__ import annotations

from typing import Any

from accelgit.core.identity import job_dirname


class JobSpec:
    """Everything that identifies one ``urd.build`` call's job.  (A plain
    class, not a dataclass: see config.Config.)"""
    __slots__ = ("id", "method", "name", "caption", "options", "jobs", "files", "inputs", "equivalent_ids",
                 "workdir", "force", "script", "lineno", "option_jobs")

    def __init__(self, id: str, method: Any, name: str, caption: str | None, options: dict, jobs: dict,
                 files: dict, inputs: dict, equivalent_ids: list | None = None, workdir: Any = None,
                 force: bool = False, script: str | None = None, lineno: int | None = None,
                 option_jobs: list | None = None):
        self.id = id
        self.method = method            # methods.Method
        self.name = name
        self.caption = caption
        self.options = options          # encoded, defaults filled
        self.jobs = jobs                # name -> id | [ids] | None
        self.files = files              # path -> blob
        self.inputs = inputs            # name -> Job | [Job] | None
        self.equivalent_ids = equivalent_ids if equivalent_ids is not None else []
        self.workdir = workdir          # store.Workdir
        self.force = force
        self.script = script
        self.lineno = lineno
        self.option_jobs = option_jobs if option_jobs is not None else []    # jobs named by JobWithFile options

    def __repr__(self) -> str:
        return f"JobSpec({self.dirname!r})"

    @property
    def dirname(self) -> str:
        return job_dirname(self.method.name, self.id)
