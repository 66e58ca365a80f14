"""What a Dask worker runs for accelgit (the client is daskexec.py): a job, in
a process of the worker's own fork server (launcher.py, as a local build
runs one), from the job folder the client prepared on the shared filesystem;
the shared-filesystem probe; and the kill of running jobs on Ctrl-C.

Workers import this module by name (the client sends references to its
functions, not code): a worker needs accelgit installed, and ``distributed``,
but no checkout of the repository.  Only the standard library is imported
at the top.

A job's folder gets ``.attempt.json`` (the worker, its host and pid) before
the job process starts.  Dask reschedules a task whose worker died; the new
attempt finds that file, runs nothing in a folder the dead attempt may have
half written, and says so (``lost``): the client moves the folder to
.failed/ and submits the job again in a fresh one.
"""
from __future__ import annotations

import json
import os
import socket
import threading

from accelgit.store.layout import ATTEMPT_FILE

_lock = threading.Lock()


def where() -> dict:
    """This worker: its Dask address, host and pid."""
    from distributed import get_worker
    try:
        address = get_worker().address
    except ValueError:            # not in a worker (a plain call): still a place
        address = "local"
    return {"worker": address, "host": socket.gethostname(), "pid": os.getpid()}


def run_job(jobdir: str, run: dict) -> dict:
    """Run the job in ``jobdir`` to its end: ``{"code": exit code, **where()}``,
    or ``{"lost": <the earlier attempt>, **where()}`` when an earlier attempt
    of this task started it (its worker died)."""
    me = where()
    marker = os.path.join(jobdir, ATTEMPT_FILE)
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        try:
            with open(marker, encoding="utf-8") as f:
                earlier = json.load(f)
        except (OSError, ValueError):
            earlier = {}
        return {"lost": earlier, **me}
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(me, f)
    code = _launcher().run(jobdir, None, run)
    return {"code": code, **me}


_server = None


def _launcher():
    """This worker's fork server (launcher.py), started by its first job: a job
    costs a fork, not an interpreter start.  When the worker dies, the server
    sees its pipe close and kills the jobs it runs (with their slices)."""
    global _server
    with _lock:
        if _server is None:
            from accelgit.build.launcher import Launcher
            _server = Launcher()
            _server.start()
        return _server


def kill_jobs(jobdirs: list[str]) -> int:
    """Kill the job processes (with their slice processes) of these folders
    that run on this worker (Ctrl-C in the build); how many."""
    return _server.kill(jobdirs) if _server is not None else 0


def probe(folder: str, token: str, dask_worker=None) -> str:
    """Write ``folder/<token>-<worker pid>`` holding this worker's address (run by
    ``Client.run``, which passes the worker): the client reads it back to know
    the worker sees the folder it sees.  The file's path."""
    path = os.path.join(folder, f"{token}-{os.getpid()}")
    with open(path, "w", encoding="utf-8") as f:
        f.write(dask_worker.address if dask_worker is not None else "")
    return path
