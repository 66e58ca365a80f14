"""Job identity (SPEC §5): canonical JSON, git blob hashes, job ids.

Pure functions only: no file system, no git, no clock.  Golden values for
every function live in tests/core/test_identity.py; changing any output here
changes every job id in every workdir, so bump ``IDENTITY_VERSION`` if you must.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import math
from typing import Any, Mapping

IDENTITY_VERSION = 1

DIRNAME_HEX = 12


def git_blob_sha1(data: bytes) -> str:
    """The object id git gives ``data`` as a blob (``git hash-object``)."""
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode_value(value: Any, where: str = "value") -> Any:
    """A JSON-like Python value in its canonical JSON-able form.

    * ``datetime.datetime`` -> ``{"$datetime": iso}``, ``datetime.date`` ->
      ``{"$date": iso}``;
    * dict keys starting with ``$`` get one more ``$``, so no user dict can
      collide with a tagged date (the encoding stays injective);
    * tuples become lists; floats must be finite; strings are taken as given
      (no unicode normalisation: NFC and NFD spellings are different values).
    Raises TypeError/ValueError naming ``where`` for anything else.
    """
    if isinstance(value, str):
        if not value.isascii():
            _check_text(value, where)
        return value
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value!r} is not a finite number (JSON has no NaN or infinity)")
        return value
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [encode_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: dict key {k!r} is not a string")
            if not k.isascii():
                _check_text(k, where)
            out[("$" + k) if k.startswith("$") else k] = encode_value(v, f"{where}[{k!r}]")
        return out
    raise TypeError(f"{where}: a value of type {type(value).__name__} is not JSON-like")


def _check_text(s: str, where: str) -> None:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{where}: {s!r} is not valid unicode text (it holds a lone surrogate)") from None


def decode_value(value: Any) -> Any:
    """Inverse of :func:`encode_value` (lists stay lists)."""
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((k, v),) = value.items()
            if k == "$datetime":
                return datetime.datetime.fromisoformat(v)
            if k == "$date":
                return datetime.date.fromisoformat(v)
        return {(k[1:] if k.startswith("$") else k): decode_value(v) for k, v in value.items()}
    return value


# What json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
# allow_nan=False) builds on every call, built once (an encoder keeps no state
# between calls): a few microseconds less per job id.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8, no NaN.  ``obj`` must already be encoded."""
    return _CANONICAL.encode(obj).encode("utf-8")


def source_digest(blobs: Mapping[str, str]) -> str:
    """SOURCE_DIGEST: sha256 of the canonical JSON of ``{path: blob sha1}``."""
    return sha256_hex(canonical_json(dict(blobs)))


def job_id(method: str, source: str, options: Mapping[str, Any], jobs: Mapping[str, Any], files: Mapping[str, str]) -> str:
    """The job id of SPEC §5.  ``options`` must be encoded (see encode_value)."""
    return sha256_hex(canonical_json({
        "v": IDENTITY_VERSION,
        "method": method,
        "source": source,
        "options": options,
        "jobs": jobs,
        "files": files,
    }))


def job_dirname(method: str, jid: str) -> str:
    return f"{method}-{jid[:DIRNAME_HEX]}"
