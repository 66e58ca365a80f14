"""Run records: the jobs each build script's last successful build used, in
call order (``.runs/<script>.jsonl``, layout.run_record_path).

A record is JSON Lines: a header line ``{"format": 2, "script", "commit",
"view", "finished_at"}``, then one line a ``urd.build`` call, ``{"id",
"method", "name"}``.  ``build`` writes it (a temp file, then a rename);
``plan`` compares each call with its job of last time, ``gc`` keeps what the
records use, ``verify --script`` checks a script's jobs.  This module is the
one writer and the one reader.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator

from accelgit.store.layout import RUNS, run_record_path

FORMAT = 2
SUFFIX = ".jsonl"
LEGACY_SUFFIX = ".json"         # records of accelgit before format 2: still read; a build replaces them


class RecordError(Exception):
    """A run record that cannot be read (damaged, or of another format)."""


def write(workdir: str, script: str, header: dict, jobs: Iterable[dict]) -> str:
    """Write the record of ``script``, atomically; returns its path."""
    path = run_record_path(workdir, script)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    dumps = json.JSONEncoder(ensure_ascii=True).encode
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(dumps({"format": FORMAT, "script": script, **header}) + "\n")
            f.writelines(dumps({"id": j["id"], "method": j["method"], "name": j["name"]}) + "\n" for j in jobs)
        os.replace(tmp, path)
    except OSError as e:                # a full disk: the old record stays, no temp file is left
        try:
            os.remove(tmp)
        except OSError:
            pass
        if e.filename is None:
            e.filename = path
        raise
    legacy = path[:-len(SUFFIX)] + LEGACY_SUFFIX
    if os.path.exists(legacy):          # this script's record from an older accelgit: replaced now
        os.remove(legacy)
    return path


def read(path: str) -> tuple[dict, Iterator[dict]]:
    """``(header, jobs)`` of a record; ``jobs`` yields one call's dict at a time
    (a record of 10,000 jobs is never held whole).  Raises FileNotFoundError,
    OSError, or RecordError for a damaged record (also while iterating).  A
    record of an older accelgit (``.json``, one JSON document) is read whole."""
    if path.endswith(LEGACY_SUFFIX):
        return _read_legacy(path)
    f = open(path, encoding="utf-8")
    try:
        header = _line(f.readline(), path, 1)
        if header.get("format") != FORMAT:
            raise RecordError(f"{path}: not a run record of this accelgit (format {header.get('format')!r})")
    except BaseException:
        f.close()
        raise
    return header, _jobs(f, path)


def _read_legacy(path: str) -> tuple[dict, Iterator[dict]]:
    with open(path, encoding="utf-8") as f:
        try:
            data = json.load(f)
        except ValueError:
            raise RecordError(f"{path}: not valid JSON") from None
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, list) or not all(
            isinstance(j, dict) and all(isinstance(j.get(k), str) for k in ("id", "method", "name")) for j in jobs):
        raise RecordError(f"{path}: not a run record")
    return {k: v for k, v in data.items() if k != "jobs"}, iter(jobs)


def _jobs(f, path: str) -> Iterator[dict]:
    with f:
        for n, text in enumerate(f, 2):
            job = _line(text, path, n)
            if not all(isinstance(job.get(k), str) for k in ("id", "method", "name")):
                raise RecordError(f"{path}:{n}: a job line needs id, method and name")
            yield job


def _line(text: str, path: str, n: int) -> dict:
    if not text.endswith("\n"):
        raise RecordError(f"{path}:{n}: the record ends early")
    try:
        obj = json.loads(text)
    except ValueError:
        raise RecordError(f"{path}:{n}: not valid JSON") from None
    if not isinstance(obj, dict):
        raise RecordError(f"{path}:{n}: not a JSON object")
    return obj


def read_all(workdir: str, what: str = "id") -> tuple[dict[str, list], list[str]]:
    """``({record file name: [each call's `what`]}, [unreadable record names])``
    of every run record in ``workdir``, an older accelgit's too."""
    out: dict[str, list] = {}
    problems = []
    folder = os.path.join(workdir, RUNS)
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return out, problems
    for name in names:
        if not name.endswith((SUFFIX, LEGACY_SUFFIX)) or name.startswith("."):
            continue
        try:
            _, jobs = read(os.path.join(folder, name))
            out[name] = [j[what] for j in jobs]
        except (OSError, RecordError):
            problems.append(f"{RUNS}/{name}")
    return out, problems
