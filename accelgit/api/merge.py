"""``analysis_res``: the per-slice returns of ``analysis``, in slice order,
with the Accelerator's ``merge_auto()`` (its extras.py ResultIterMagic is the
reference: numbers are summed, lists joined, dicts merged down to their last
level, where sets, Counters and dicts are updated)."""
from __future__ import annotations

import copy
from collections import Counter


class MergeError(Exception):
    pass


class AnalysisResults(list):
    """A list, one item a slice, that can also ``merge_auto()``."""

    def merge_auto(self, allow_overwrite: bool | None = None):
        parts = copy.deepcopy(list(self))       # merging updates the first part: not analysis_res itself
        if parts and all(isinstance(p, tuple) for p in parts) and len({len(p) for p in parts}) == 1:
            return tuple(_merge([p[ix] for p in parts], ix, allow_overwrite) for ix in range(len(parts[0])))
        return _merge(parts, -1, allow_overwrite)


def _merge(parts: list, ix: int, allow_overwrite: bool | None):
    it = iter(parts)
    data = next(it)
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        return sum(it, data)
    if isinstance(data, list):
        for part in it:
            data.extend(part)
        return data
    while not data:
        try:
            data = next(it)
        except StopIteration:
            return data
    depth, check, parent = 0, data, data
    while hasattr(check, "values"):
        if not check:
            raise MergeError(f"Empty value at depth {depth} (index {ix})")
        parent, check = check, next(iter(check.values()))
        depth += 1
    if hasattr(check, "update"):
        depth += 1
    if allow_overwrite is None and (isinstance(check, set) or isinstance(parent, Counter)):
        allow_overwrite = True
    if not depth:
        raise MergeError(f"Top level has no .values (index {ix})")

    def upd(aggregate, part, level):
        if level == depth:
            if not allow_overwrite:
                for k in part:
                    if k in aggregate:
                        raise MergeError(f"Duplicate key {k!r} (index {ix})")
            aggregate.update(part)
        else:
            for k, v in part.items():
                if k in aggregate:
                    upd(aggregate[k], v, level + 1)
                else:
                    aggregate[k] = v
    for part in it:
        upd(data, part, 1)
    return data
