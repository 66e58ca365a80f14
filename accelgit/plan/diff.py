"""What differs between two jobs: the one comparison behind plan's reasons,
report's reasons and verify's currency check.

A job is compared by its identity (SPEC §5), as job.json records it or as a
``urd.build`` call gives it: ``{"sources": {path: blob}, "source": digest,
"options": {name: encoded value}, "files": {path: blob}, "jobs": {name: id |
[ids] | None}}``.  ``diff`` returns one tuple per difference, kind by kind
(sources, options, files, inputs), each sorted by name:

* ``("source", path, old blob, new blob)``; ``("digest", old, new)`` instead
  when a side recorded no ``sources`` (only its digest);
* ``("option", name, old, new)``;
* ``("file", path, old blob, new blob)``;
* ``("input", name, old id, new id)``: a list input gives one per changed
  position, named ``name[i]``.

A name one side does not have is ``MISSING`` on that side (an input job not
given and one not declared are both None, as the identity makes them).
Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Mapping

KINDS = ("source", "option", "file", "input")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "(absent)"


MISSING = _Missing()


def identity(sources, digest: str, options: Mapping, files: Mapping, jobs: Mapping | None = None) -> dict:
    """A side of ``diff`` from its parts."""
    return {"sources": sources, "source": digest, "options": options, "files": files, "jobs": jobs or {}}


def diff(old: Mapping, new: Mapping, kinds: tuple[str, ...] = KINDS) -> list[tuple]:
    out: list[tuple] = []
    if "source" in kinds:
        a, b = old.get("sources"), new.get("sources")
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += _mapping("source", a, b)
        elif old.get("source") != new.get("source"):
            out.append(("digest", old.get("source"), new.get("source")))
    if "option" in kinds:
        out += _mapping("option", old.get("options") or {}, new.get("options") or {})
    if "file" in kinds:
        out += _mapping("file", old.get("files") or {}, new.get("files") or {})
    if "input" in kinds:
        out += _inputs(old.get("jobs") or {}, new.get("jobs") or {})
    return out


def _mapping(kind: str, a: Mapping, b: Mapping) -> list[tuple]:
    if a == b:
        return []
    out = []
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k, MISSING), b.get(k, MISSING)
        if x != y:
            out.append((kind, k, x, y))
    return out


def _inputs(a: Mapping, b: Mapping) -> list[tuple]:
    out = []
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if x == y:
            continue
        if isinstance(x, list) or isinstance(y, list):
            x, y = x if isinstance(x, list) else [], y if isinstance(y, list) else []
            for i in range(max(len(x), len(y))):
                u = x[i] if i < len(x) else None
                v = y[i] if i < len(y) else None
                if u != v:
                    out.append(("input", f"{k}[{i}]", u, v))
        else:
            out.append(("input", k, x, y))
    return out
