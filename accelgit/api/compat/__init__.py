"""The ``accelerator`` import name inside build scripts and job processes
(issue 16): what accelgit implements of the Accelerator's API, under the
Accelerator's names, whether or not the real package is installed.  Anything
else is one clear error naming it (``api/accelerator_name.py`` makes the names resolve
here; docs/accelerator.md has the table)."""
from __future__ import annotations

from accelgit.api.accelerator_name import unsupported
from accelgit.api.compat.colourwrapper import colour
from accelgit.api.compat.extras import DotDict, OptionDefault, OptionEnum, OptionString, RequiredOption
from accelgit.api.compat.job import Job, JobWithFile
from accelgit.api.compat.statmsg import dummy_status, status
from accelgit.api.compat.subjobs import build

__all__ = ["Job", "JobWithFile", "OptionEnum", "OptionString", "RequiredOption", "OptionDefault", "DotDict",
           "build", "colour", "status", "dummy_status"]


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    raise unsupported(name)
