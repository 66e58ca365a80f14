"""The Accelerator's ``JobList`` (``urd.joblist``, an urd item's
``joblist``): jobs in build order, found by method or name
(``.get('csvimport')`` the last one, ``.find(method)`` all of them)."""
from __future__ import annotations


class JobListMethods:
    """``find``, ``get``, ``as_tuples``, ``pretty`` and ``[method]`` for a
    sequence of jobs (each with ``.method`` and ``.name``)."""

    def _all(self) -> list:
        return [self._item(i) for i in range(len(self))]

    def _item(self, i):
        raise NotImplementedError

    def find(self, method: str) -> "JobList":
        """The jobs of ``method`` (or built with ``name=method``), as a new JobList."""
        return JobList(j for j in self._all() if method in (j.method, j.name))

    def get(self, item, default=None):
        """The last job of method ``item`` (or the job at index ``item``), else ``default``."""
        try:
            return self.find(item)[-1] if isinstance(item, str) else self._item(item)
        except IndexError:
            return default

    @property
    def as_tuples(self) -> list[tuple]:
        return [(j.method, str(j)) for j in self._all()]

    @property
    def pretty(self) -> str:
        jobs = self._all()
        if not jobs:
            return "JobList([])"
        width = max(len(j.method) for j in jobs)
        return "JobList(\n" + "\n".join(f"   [{i:3}] {j.method:>{width}} : {j}" for i, j in enumerate(jobs)) + "\n)"


class JobList(JobListMethods, list):
    def _item(self, i):
        return list.__getitem__(self, i)

    def __getitem__(self, item):
        if isinstance(item, slice):
            return JobList(list.__getitem__(self, item))
        if isinstance(item, str):
            return self.find(item)[-1]
        return list.__getitem__(self, item)


class UrdJob(str):
    """A job of an urd item: its folder's name (so an item is plain JSON, as
    the Accelerator's jobids are), and the job itself for everything else
    (``.load()``, ``.method``, as an input of ``urd.build``)."""

    __slots__ = ("_resolve", "_job", "method", "name")

    def __new__(cls, dirname: str, method: str, name: str, resolve):
        obj = str.__new__(cls, dirname)
        obj._resolve, obj._job, obj.method, obj.name = resolve, None, method, name
        return obj

    @property
    def job(self):
        if self._job is None:
            self._job = self._resolve(str(self))
        return self._job

    def __getattr__(self, k):
        if k.startswith("__"):
            raise AttributeError(k)
        return getattr(self.job, k)

    def __reduce__(self):
        return str, (str(self),)
