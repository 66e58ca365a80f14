"""``accelerator.subjobs``: a running job building jobs.  The call goes to
the build (build/subjobs.py), which reuses or builds the job and answers;
the subjob is then recorded in this job's job.json (``subjobs``)."""
from __future__ import annotations

import json

from accelgit.api import running
from accelgit.api.accelerator_name import DATASETS, NotSupported
from accelgit.api.job import Job
from accelgit.core.identity import encode_value

__all__ = ["build", "SubjobError"]


class SubjobError(Exception):
    """The build could not give the subjob (it failed, or the call is wrong)."""


def _paths(v):
    if isinstance(v, Job):
        return v.path
    if isinstance(v, (list, tuple)) and v and all(isinstance(j, Job) for j in v):
        return [j.path for j in v]
    return None


def build(method, options=None, datasets=None, jobs=None, name=None, caption=None, **kw) -> Job:
    """Just like ``urd.build``, from a running job (not from ``analysis``)."""
    if datasets:
        raise NotSupported(DATASETS, name="accelerator.dataset")
    if running.phase == "analysis":
        raise SubjobError("analysis is not allowed to make subjobs (as in the Accelerator)")
    if running.current is not None and running.subjob_address is None and running.recorded_subjobs is not None:
        for m, n, path in running.recorded_subjobs:       # a verify rerun: the subjobs the job built
            if m == method and n == (name or method):
                return Job(path)
        raise SubjobError(f"subjob {method}: the job recorded no such subjob, so its rerun cannot have it")
    if running.current is not None and running.subjob_problem:
        raise SubjobError(f"subjob {method}: {running.subjob_problem}")
    if running.current is None or running.subjob_address is None:
        raise SubjobError("subjobs are built by a running job during a build")
    kw_jobs = {k: _paths(v) for k, v in kw.items() if _paths(v) is not None}
    request = {
        "parent": running.current.id, "script": running.current.params.get("build_script"), "method": method,
        "options": encode_value(dict(options or {}), "options"),
        "jobs": {k: None if v is None else _paths(v) for k, v in (jobs or {}).items()},
        "kw_options": {k: encode_value(v, k) for k, v in kw.items() if k not in kw_jobs},
        "kw_jobs": kw_jobs, "name": name, "caption": caption,
    }
    import socket  # here: a method that never builds a subjob does not pay for it
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(running.subjob_address)
        except OSError as e:            # a job on another machine (the Dask executor) cannot reach it
            raise SubjobError(f"subjob {method}: cannot reach the build ({e.strerror or e}); subjobs are built "
                              f"by jobs the local executor runs") from None
        with sock.makefile("rwb") as f:
            f.write(json.dumps(request).encode() + b"\n")
            f.flush()
            reply = json.loads(f.readline() or b'{"error": "the build went away"}')
    if "error" in reply:
        raise SubjobError(f"subjob {method}: {reply['error']}")
    return Job(reply["path"], id=reply["id"], method=reply["method"], name=reply["name"])
