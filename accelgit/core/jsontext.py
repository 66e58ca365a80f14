"""Readable JSON for the files of a job (job.json, profile.json, manifest.json),
written by the C encoder: ``json.dumps`` with ``indent`` (and ``json.dump``
always) runs the pure-Python encoder, which showed in the CPU time of every
build (docs/benchmarks.md)."""
from __future__ import annotations

import json

_dumps = json.JSONEncoder(sort_keys=True).encode     # one encoder: json.dumps(v, sort_keys=True) makes one a call

_key = json.encoder.encode_basestring_ascii          # a str key, as json.dumps writes it


def member_lines(obj: dict, expand: tuple[str, ...] = ()) -> str:
    """``obj`` as JSON with each member on a line of its own (keys sorted);
    the members named in ``expand`` that are non-empty dicts likewise get a
    line per member.  Every value is written by ``json.dumps(v, sort_keys=True)``."""
    key, dumps = _key, _dumps
    lines = []
    for k in sorted(obj):
        v = obj[k]
        if k in expand and type(v) is dict and v:
            inner = ",\n".join(f"  {key(ik)}: {dumps(v[ik])}" for ik in sorted(v))
            lines.append(f" {key(k)}: {{\n{inner}\n }}")
        else:
            lines.append(f" {key(k)}: {dumps(v)}")
    return "{\n" + ",\n".join(lines) + "\n}\n" if lines else "{}\n"
