"""``accelerator.blob``: pickles in the running job, or in another job."""
from __future__ import annotations

from accelgit.api import running
from accelgit.api.compat.job import Job

__all__ = ["load", "save"]

_nodefault = object()


def load(filename="result.pickle", jobid=None, sliceno=None, default=_nodefault, **kw):
    job = Job(jobid) if jobid is not None else running.current
    if job is None:
        raise ValueError("accelerator.blob.load: give jobid= outside a running job")
    try:
        return job.load(filename, sliceno)
    except FileNotFoundError:
        if default is _nodefault:
            raise
        return default


def save(obj, filename="result.pickle", sliceno=None, **kw):
    if running.current is None:
        raise ValueError("accelerator.blob.save: only a running job saves")
    return running.current.save(obj, filename, sliceno)
