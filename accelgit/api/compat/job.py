"""``accelerator.job``: ``Job`` (also made from a job's name, as
``Job(str(job))``) and ``JobWithFile``."""
from __future__ import annotations

from accelgit.api import job as _job
from accelgit.api.job import JobWithFile

__all__ = ["Job", "JobWithFile"]


class _JobType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, _job.Job)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, _job.Job)


class Job(_job.Job, metaclass=_JobType):
    """``Job(job)`` or ``Job(name)``: accelgit's Job for it."""

    def __new__(cls, job, method=None):
        if isinstance(job, _job.Job):
            return job
        return _job.job_by_name(str(job))
