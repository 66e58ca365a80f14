"""What a running method sees of itself (SPEC §3): ``job`` (``JobContext``:
``job.open(name, "w")``, ``save``, ``json_save`` write into its output) and
the read-only ``options`` and ``jobs`` mappings with attribute access."""
from __future__ import annotations

import datetime
import json
import os
import pickle
from collections.abc import Mapping

from accelgit.api.job import Job


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

    def open(self, name: str, mode: str = "r", **kw):
        path = self.filename(name)
        if any(c in mode for c in "wax+"):
            os.makedirs(os.path.dirname(path), exist_ok=True)
        return open(path, mode, **kw)

    def save(self, obj, name: str) -> str:
        with self.open(name, "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        return name

    def json_save(self, obj, name: str) -> str:
        with self.open(name, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=1, sort_keys=True, default=_json_default)
            f.write("\n")
        return name


def _json_default(o):
    if isinstance(o, (datetime.date, datetime.datetime)):
        return o.isoformat()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")
