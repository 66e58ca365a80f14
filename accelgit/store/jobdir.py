"""Reading a job folder's job.json, and whether the folder is a job (SPEC §6:
a folder without manifest.json is not).  Nothing here unpickles or imports:
a job is known by its folder and its job.json."""
from __future__ import annotations

import errno
import json
import os
import stat

from accelgit.store.layout import JOB_JSON, MANIFEST


def read_at(dir_fd: int | None, rel: str) -> bytes:
    """The bytes of ``rel`` inside the open folder ``dir_fd`` (a job folder
    read as one, even if a forced rebuild swaps it meanwhile; None: ``rel``
    is a path).  Only a regular file: a FIFO or a device put in a workdir
    would make the read wait or never end (``NotRegular``)."""
    fd = os.open(rel, os.O_RDONLY | os.O_NONBLOCK, dir_fd=dir_fd)
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular(errno.EINVAL, "not a regular file", rel)
        return f.read()


class NotRegular(OSError):
    """A job's file that is a FIFO, a device, a socket or a folder."""


def is_complete(jobdir: str) -> bool:
    """Whether ``jobdir`` holds a manifest, which is written last: a job."""
    return os.path.isfile(os.path.join(jobdir, MANIFEST))


def read_params(jobdir: str) -> tuple[dict | None, str | None]:
    """job.json as a dict, or None and why not."""
    try:
        params = json.loads(read_at(None, os.path.join(jobdir, JOB_JSON)))
    except FileNotFoundError:
        return None, "job.json is missing"
    except (OSError, ValueError) as e:
        return None, f"job.json cannot be read: {e}"
    if not isinstance(params, dict):
        return None, "job.json is not a JSON object"
    return params, None


def read_complete_job(jobdir: str) -> dict | None:
    """job.json of a complete job folder (one with a manifest and a job id), else None."""
    if not is_complete(jobdir):
        return None
    params, _ = read_params(jobdir)
    return params if params is not None and isinstance(params.get("id"), str) else None


def scan_jobs(workdir: str):
    """``(dirname, job.json dict)`` for every complete job folder in ``workdir``.
    Temp, failed and damaged folders (names starting with a dot) are skipped."""
    try:
        names = sorted(os.listdir(workdir))
    except FileNotFoundError:
        return
    for name in names:
        if name.startswith("."):
            continue
        params = read_complete_job(os.path.join(workdir, name))
        if params is not None:
            yield name, params


def used_ids(params: dict) -> list[str]:
    """The ids of the jobs a job (its job.json) uses: its input jobs, the jobs
    its JobWithFile options name, and the subjobs it built."""
    out: list[str] = []
    for v in (params.get("jobs") or {}).values():
        out += [i for i in (v if isinstance(v, list) else [v]) if isinstance(i, str)]
    options = params.get("options") or {}
    for k, kind in (params.get("option_types") or {}).items():
        v = options.get(k)
        if isinstance(v, list) and v:
            out += [x[0] for x in v if isinstance(x, list) and x] if kind.startswith("[") else [v[0]]
    out += [s["id"] for s in (params.get("subjobs") or {}).values() if isinstance(s, dict) and "id" in s]
    return [i for i in out if isinstance(i, str)]
