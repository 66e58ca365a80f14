"""``JobSpec``: everything that identifies one ``urd.build`` call's job, as
``Urd`` computes it and the build (or the plan) takes it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accelgit.core.identity import job_dirname


@dataclass
class JobSpec:
    """Everything that identifies one ``urd.build`` call's job."""
    id: str
    method: Any                     # methods.Method
    name: str
    caption: str | None
    options: dict                   # encoded, defaults filled
    jobs: dict                      # name -> id | [ids] | None
    files: dict                     # path -> blob
    inputs: dict                    # name -> Job | [Job] | None
    equivalent_ids: list = field(default_factory=list)
    workdir: Any = None             # store.Workdir
    force: bool = False
    script: str | None = None
    lineno: int | None = None
    option_jobs: list = field(default_factory=list)     # jobs named by JobWithFile options

    @property
    def dirname(self) -> str:
        return job_dirname(self.method.name, self.id)
