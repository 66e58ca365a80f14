"""What a running method sees of itself (SPEC §3): ``job`` (``JobContext``:
``job.open(name, "w")``, ``save``, ``json_save`` write into its output) and
the read-only ``options`` and ``jobs`` mappings with attribute access."""
from __future__ import annotations

import datetime
import json
import os
import pickle
from collections.abc import Mapping

from accelgit.api.accelerator_name import unsupported
from accelgit.api.job import Job
from accelgit.core.identity import job_dirname
from accelgit.store.layout import OUTPUT


class ReadOnly(Mapping):
    """A read-only mapping that also allows attribute access (``options.scale``)."""

    def __init__(self, data: dict):
        object.__setattr__(self, "_data", dict(data))

    def __getitem__(self, k):
        return self._data[k]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def __getattr__(self, k):
        if k == "_data" or k.startswith("__"):         # not set yet (unpickling), or a protocol method
            raise AttributeError(k)
        try:
            return self._data[k]
        except KeyError:
            raise AttributeError(f"no such name: {k!r} (have: {', '.join(self._data) or 'none'})") from None

    def __setattr__(self, k, v):
        raise TypeError("options and jobs are read-only")

    def __repr__(self):
        return f"ReadOnly({self._data!r})"


class JobContext(Job):
    """The running job itself: ``job.open(name, "w")`` etc. write into its output."""

    def __init__(self, path: str, params: dict):
        self._params = params
        self._waiter = None
        self.path = os.path.abspath(path)
        self.id, self.method, self.name = params["id"], params["method"], params.get("name")

    def __str__(self) -> str:
        return job_dirname(self.method, self.id)      # its folder's name once built (it runs in a temp one)

    def open(self, name: str, mode: str = "r", sliceno: int | None = None, encoding: str | None = None, **kw):
        path = self.filename(name, sliceno)
        if any(c in mode for c in "wax+"):
            os.makedirs(os.path.dirname(path), exist_ok=True)
        if "b" not in mode and encoding is None:
            encoding = "utf-8"
        return open(path, mode, encoding=encoding, **kw)

    def register_file(self, name: str) -> None:
        """The Accelerator's ``job.register_file``: every file in the output
        folder is recorded anyway (its manifest lists them), so this only
        checks that ``name`` is one."""
        if not os.path.isfile(self.filename(name)):
            raise FileNotFoundError(f"register_file: {name!r} is not a file in the job's output folder")

    def register_files(self, pattern: str = "**/*") -> set[str]:
        """The Accelerator's ``job.register_files``: the files in the output folder
        that ``pattern`` matches (all of them are recorded anyway)."""
        import glob
        pattern = os.path.normpath(pattern)
        if os.path.isabs(pattern) or pattern.split(os.sep)[0] == "..":
            raise ValueError(f"register_files: {pattern!r} is outside the job's output folder")
        out = os.path.join(self.path, OUTPUT)
        return {p for p in glob.iglob(pattern, root_dir=out, recursive=True) if os.path.isfile(os.path.join(out, p))}

    def finish_early(self, result=None):
        """The Accelerator's ``job.finish_early``: the job ends here, successfully,
        with ``result``; its later phases do not run (from prepare or synthesis)."""
        raise FinishEarly(result)

    def datasetwriter(self, *a, **kw):
        raise unsupported("dataset")

    def save(self, obj, name: str = "result.pickle", sliceno: int | None = None, **kw) -> str:
        with self.open(name, "wb", sliceno) as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        return name

    def json_save(self, obj, name: str = "result.json", sliceno: int | None = None, sort_keys: bool = True,
                  **kw) -> str:
        with self.open(name, "w", sliceno) as f:
            json.dump(obj, f, indent=1, sort_keys=sort_keys, default=_json_default)
            f.write("\n")
        return name


class FinishEarly(Exception):  # noqa: N818 - a signal to the runner, not an error
    """``job.finish_early(result)``: the runner ends the job with ``result``."""

    def __init__(self, result):
        super().__init__("finish_early")
        self.result = result


#: the job this process runs (set by the runner): what accelerator.blob and
#: accelerator.subjobs act for; the build's address for subjobs (or, in a verify
#: rerun, the subjobs the job recorded: [[method, name, path]]); the phase running
current: JobContext | None = None
subjob_address: str | None = None
subjob_problem: str | None = None        # why the build has no address for subjobs
recorded_subjobs: list | None = None
phase: str | None = None


def _json_default(o):
    if isinstance(o, (datetime.date, datetime.datetime)):
        return o.isoformat()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")
