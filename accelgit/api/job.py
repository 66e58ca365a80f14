"""``Job``: a reference to a job directory (SPEC §4), as build scripts and
methods see their input jobs.  Results and saved files are read only after
their bytes match the job's manifest."""
from __future__ import annotations

import json
import os
from typing import Any, Callable

from accelgit.api.dotdict import DotDict
from accelgit.core.identity import decode_value
from accelgit.store.layout import JOB_JSON, LOG, OUTPUT, RESULT_JSON, RESULT_PICKLE
from accelgit.store.manifest import verified_bytes, walk_files


def safe_join(base: str, name: str, what: str = "the job's output folder") -> str:
    """``base/name``, refusing names that escape ``base`` (``..``, absolute, links)."""
    name = os.fspath(name)
    if not name or os.path.isabs(name):
        raise ValueError(f"{name!r} must be a relative file name inside {what}")
    path = os.path.normpath(os.path.join(base, name))
    real_base = os.path.realpath(base)
    if not (path == base or path.startswith(base + os.sep)) or \
            not os.path.realpath(path).startswith(real_base + os.sep):
        raise ValueError(f"{name!r} is outside {what}; refused")
    return path


_SEEN: dict[str, "Job"] = {}       # job folder name -> the first Job for it this process made


def forget_job(path: str) -> None:
    """``job_by_name`` no longer knows the job at ``path`` (the fork server's warm-up job)."""
    _SEEN.pop(os.path.basename(os.path.abspath(path)), None)


def job_by_name(name: str) -> "Job":
    """The job named ``name`` (its folder name, as ``str(job)`` gives) that
    this process has seen, or a job folder's path."""
    job = _SEEN.get(os.fspath(name))
    if job is None and os.path.isfile(os.path.join(name, JOB_JSON)):
        job = Job(name)
    if job is None:
        raise ValueError(f"no job {name!r} known here: give a Job, or a job folder's path")
    return job


class Job:
    """A job by path.  In a build script it may still be building: anything
    that reads its content waits for it (``_waiter``)."""

    def __init__(self, path: str, id: str | None = None, method: str | None = None,
                 name: str | None = None, waiter: Callable[[], None] | None = None):
        self.path = os.path.abspath(path)
        _SEEN.setdefault(self.path.rpartition(os.sep)[2], self)     # (its basename, cheaper)
        self._params: dict | None = None
        self._waiter = waiter
        self.id = id or self.params["id"]
        self.method = method or self.params["method"]
        self.name = name or (self.params.get("name") if self._waiter is None else None) or self.method

    @classmethod
    def stored(cls, path: str, id: str, method: str, name: str) -> Job:
        """The job the store found at ``path`` (absolute and normal already: a
        no-op build makes one per job, and ``abspath`` was a tenth of the cost)."""
        job = cls.__new__(cls)
        job.path, job._params, job._waiter = path, None, None
        job.id, job.method, job.name = id, method, name
        return job

    # -- state
    def _ready(self) -> None:
        if self._waiter is not None:
            self._waiter()
            self._waiter = None

    @property
    def params(self) -> "Params":
        """The job.json dict (with attribute access: ``params.hash``, ``params.options``)."""
        self._ready()
        if self._params is None:
            with open(os.path.join(self.path, JOB_JSON), encoding="utf-8") as f:
                self._params = Params(json.load(f))
        elif type(self._params) is dict:
            self._params = Params(self._params)
        return self._params

    @property
    def post(self) -> "Params":
        """The Accelerator's post.json, as far as accelgit has it: ``subjobs``
        (``{subjob: whether it was built then, not reused}``) and ``files``."""
        subjobs = self.params.get("subjobs") or {}
        for name in subjobs:                # Job(name) finds them (they are built beside it)
            path = os.path.join(os.path.dirname(self.path), name)
            if name not in _SEEN and os.path.isdir(path):
                Job(path)
        return Params({"subjobs": {k: bool(v.get("built")) for k, v in subjobs.items()}, "files": self.files()})

    # -- content
    def filename(self, name: str, sliceno: int | None = None) -> str:
        """Path of output file ``name`` (``name.SLICENO`` for a sliced file)."""
        name = os.fspath(name)
        return safe_join(os.path.join(self.path, OUTPUT), name if sliceno is None else f"{name}.{int(sliceno)}")

    def withfile(self, name: str, sliced: bool = False, extra: Any = None) -> "JobWithFile":
        return JobWithFile(self, name, sliced, extra)

    def open(self, name: str, mode: str = "r", sliceno: int | None = None, encoding: str | None = None, **kw):
        if any(c in mode for c in "wax+"):
            raise ValueError(f"job {self}: finished jobs are read-only (mode {mode!r})")
        self._ready()
        if "b" not in mode and encoding is None:
            encoding = "utf-8"
        return open(self.filename(name, sliceno), mode, encoding=encoding, **kw)

    def _rel(self, name: str, sliceno: int | None) -> str:
        return os.path.relpath(self.filename(name, sliceno), self.path).replace(os.sep, "/")

    def json_load(self, name: str = "result.json", sliceno: int | None = None) -> Any:
        self._ready()
        return json.loads(verified_bytes(self.path, self._rel(name, sliceno)))

    def load(self, name: str | None = None, sliceno: int | None = None) -> Any:
        """The job's result (``name`` None, or the Accelerator's default
        ``"result.pickle"`` when the job saved no such file), or the object
        ``job.save`` stored as ``name`` (``name.SLICENO`` with ``sliceno``)."""
        self._ready()
        if sliceno is None and (name is None or (name == "result.pickle" and not os.path.exists(self.filename(name)))):
            if os.path.exists(os.path.join(self.path, RESULT_JSON)):
                return json.loads(verified_bytes(self.path, RESULT_JSON))
            return load_pickle(verified_bytes(self.path, RESULT_PICKLE))
        return load_pickle(verified_bytes(self.path, self._rel(name, sliceno)))

    def files(self) -> list[str]:
        """The files the job wrote, relative to its output folder."""
        self._ready()
        return walk_files(os.path.join(self.path, OUTPUT))

    def output(self, phase: str | int | None = None) -> str:
        """Captured stdout and stderr, all phases in order, or one phase
        (``"prepare"``, ``"analysis"``, ``"synthesis"``, or a slice number)."""
        self._ready()
        logdir = os.path.join(self.path, LOG)
        names = sorted(os.listdir(logdir), key=_phase_order) if os.path.isdir(logdir) else []
        if isinstance(phase, int) and not isinstance(phase, bool):
            phase = f"analysis-{phase}."
        parts = []
        for n in names:
            if phase is None or n.startswith(phase):
                with open(os.path.join(logdir, n), encoding="utf-8", errors="replace") as f:
                    parts.append(f.read())
        return "".join(parts)

    def dataset(self, name: str = "default"):
        from accelgit.api.accelerator_name import unsupported
        raise unsupported("dataset")

    datasets = property(dataset)

    # -- identity
    def __str__(self) -> str:
        return os.path.basename(self.path)

    def __repr__(self) -> str:
        return f"<Job {self} {self.path}>"

    def __fspath__(self) -> str:
        return self.path

    def __eq__(self, other) -> bool:
        return isinstance(other, Job) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


class Params(dict):
    """job.json as a dict with attribute access, under the Accelerator's
    names too: ``hash`` is the source digest (what ``equivalent_hashes``
    names), ``options`` are decoded (dates are dates)."""

    def __getattr__(self, k):
        if k.startswith("__"):
            raise AttributeError(k)
        if k == "hash" and "source" in self:
            return self["source"]
        if k == "options" and "options" in self:
            return DotDict.frozen(decode_value(self["options"]))
        try:
            v = self[k]
        except KeyError:
            raise AttributeError(f"job.json has no {k!r}") from None
        return Params(v) if type(v) is dict else v


class JobWithFile(tuple):
    """The Accelerator's ``JobWithFile``: a job and the name of a file in it
    (``sliced``: one file a slice), given to a method as an option."""

    __slots__ = ()

    def __new__(cls, job, name, sliced=False, extra=None):
        name = os.fspath(name)
        if os.path.isabs(name):
            raise ValueError(f"JobWithFile: {name!r}: give a file name relative to the job")
        return tuple.__new__(cls, (job, name, bool(sliced), extra))

    job = property(lambda self: self[0])
    name = property(lambda self: self[1])
    sliced = property(lambda self: self[2])
    extra = property(lambda self: self[3])

    def __repr__(self):
        return f"JobWithFile(job={self.job!s}, name={self.name!r}, sliced={self.sliced}, extra={self.extra!r})"

    def __getnewargs__(self):
        return tuple(self)

    def filename(self, sliceno: int | None = None) -> str:
        if (sliceno is None) == self.sliced:
            raise ValueError(f"{self.name!r} is {'sliced: give sliceno' if self.sliced else 'not sliced: no sliceno'}")
        return self.job.filename(self.name, sliceno)

    def load(self, sliceno: int | None = None, **kw) -> Any:
        self.filename(sliceno)
        return self.job.load(self.name, sliceno)

    def json_load(self, sliceno: int | None = None, **kw) -> Any:
        self.filename(sliceno)
        return self.job.json_load(self.name, sliceno)

    def open(self, mode: str = "r", sliceno: int | None = None, **kw):
        self.filename(sliceno)
        return self.job.open(self.name, mode, sliceno, **kw)


def _phase_order(name: str):
    order = {"setup": -1, "prepare": 0, "analysis": 1, "synthesis": 2}
    stem = name.split(".")[0]
    base, _, num = stem.partition("-")
    return order.get(base, 3), int(num) if num.isdigit() else 0, name


def flat_inputs(inputs: dict):
    """The Job objects of an ``{input name: Job | [Job] | None}`` mapping."""
    for v in inputs.values():
        if isinstance(v, list):
            yield from v
        elif v is not None:
            yield v


# Where classes of accelgit's own that a job's result may hold (a Job, the
# options mapping) lived before the layered package: pickles written then
# name these modules.
_MOVED = {"accelgit.jobref": "accelgit.api.job", "accelgit.runner": "accelgit.api.running"}


def load_pickle(data: bytes):
    """``pickle.loads`` of bytes already checked against a job's manifest,
    reading pickles written by accelgit before its modules moved."""
    import pickle  # here: build scripts that never load a pickle do not pay for it

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            return super().find_class(_MOVED.get(module, module), name)
    import io
    return Unpickler(io.BytesIO(data)).load()
