"""``Job``: a reference to a job directory (SPEC §4), as build scripts and
methods see their input jobs.  Results and saved files are read only after
their bytes match the job's manifest."""
from __future__ import annotations

import json
import os
from typing import Any, Callable

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


class Job:
    """A job by path.  In a build script it may still be building: anything
    that reads its content waits for it (``_waiter``)."""

    def __init__(self, path: str, id: str | None = None, method: str | None = None,
                 name: str | None = None, waiter: Callable[[], None] | None = None):
        self.path = os.path.abspath(path)
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
    def params(self) -> dict:
        """The job.json dict."""
        self._ready()
        if self._params is None:
            with open(os.path.join(self.path, JOB_JSON), encoding="utf-8") as f:
                self._params = json.load(f)
        return self._params

    # -- content
    def filename(self, name: str) -> str:
        return safe_join(os.path.join(self.path, OUTPUT), name)

    def open(self, name: str, mode: str = "r", **kw):
        if any(c in mode for c in "wax+"):
            raise ValueError(f"job {self}: finished jobs are read-only (mode {mode!r})")
        self._ready()
        return open(self.filename(name), mode, **kw)

    def json_load(self, name: str) -> Any:
        self._ready()
        rel = os.path.relpath(self.filename(name), self.path).replace(os.sep, "/")
        return json.loads(verified_bytes(self.path, rel))

    def load(self, name: str | None = None) -> Any:
        """The job's result, or the object ``job.save`` stored as ``name``."""
        self._ready()
        if name is None:
            if os.path.exists(os.path.join(self.path, RESULT_JSON)):
                return json.loads(verified_bytes(self.path, RESULT_JSON))
            return load_pickle(verified_bytes(self.path, RESULT_PICKLE))
        rel = os.path.relpath(self.filename(name), self.path).replace(os.sep, "/")
        return load_pickle(verified_bytes(self.path, rel))

    def files(self) -> list[str]:
        """The files the job wrote, relative to its output folder."""
        self._ready()
        return walk_files(os.path.join(self.path, OUTPUT))

    def output(self, phase: str | None = None) -> str:
        """Captured stdout and stderr, all phases in order (or one phase)."""
        self._ready()
        logdir = os.path.join(self.path, LOG)
        names = sorted(os.listdir(logdir), key=_phase_order) if os.path.isdir(logdir) else []
        parts = []
        for n in names:
            if phase is None or n.startswith(phase):
                with open(os.path.join(logdir, n), encoding="utf-8", errors="replace") as f:
                    parts.append(f.read())
        return "".join(parts)

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
