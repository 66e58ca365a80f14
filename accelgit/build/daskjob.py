"""What a Dask worker runs for accelgit (the client is daskexec.py): a job, in
a subprocess of the worker (``python -m accelgit.build.runner JOBDIR``, as
the local executor does with ACCELGIT_FORKSERVER=0), from the job folder the
client prepared on the shared filesystem; the shared-filesystem probe; and
the kill of running jobs on Ctrl-C.

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
import signal
import socket
import subprocess
import sys
import threading

from accelgit.build.launcher import job_env
from accelgit.store.layout import ATTEMPT_FILE, RUN_FILE

_running: dict[str, subprocess.Popen] = {}      # job folder -> its job process, on this worker
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
    run_file = os.path.join(jobdir, RUN_FILE)
    with open(run_file, "w", encoding="utf-8") as f:
        json.dump(run, f)
    die_with_me = _parent_death_signal()
    proc = subprocess.Popen([sys.executable, "-m", "accelgit.build.runner", jobdir], env=job_env(), cwd=jobdir,
                            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_me)
    with _lock:
        _running[jobdir] = proc
    try:
        code = proc.wait()
    finally:
        with _lock:
            _running.pop(jobdir, None)
    try:
        os.remove(run_file)
    except OSError:
        pass
    return {"code": code, **me}


def _parent_death_signal():
    """A preexec_fn that has Linux kill the job process when the worker's thread
    that started it dies (the worker SIGKILLed): no job runs on unwatched.
    None elsewhere.  libc is looked up here, before the fork."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def arm():
        prctl(pr_set_pdeathsig, signal.SIGKILL)
    return arm


def kill_jobs(jobdirs: list[str]) -> int:
    """Kill the job processes (with their slice processes) of these folders
    that run on this worker; how many."""
    killed = 0
    with _lock:
        procs = [_running[d] for d in jobdirs if d in _running]
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
            killed += 1
        except (ProcessLookupError, PermissionError):
            pass
    return killed


def probe(folder: str, token: str, dask_worker=None) -> str:
    """Write ``folder/<token>-<worker pid>`` holding this worker's address (run by
    ``Client.run``, which passes the worker): the client reads it back to know
    the worker sees the folder it sees.  The file's path."""
    path = os.path.join(folder, f"{token}-{os.getpid()}")
    with open(path, "w", encoding="utf-8") as f:
        f.write(dask_worker.address if dask_worker is not None else "")
    return path
