"""The executor seam: where a build's jobs run.  ``local``: this machine's
fork server (launcher.py); ``dask``: a Dask distributed cluster (daskexec.py).
Both are launchers: ``run(jobdir, tick, run, resources) -> exit code``, with
``start``, ``check_workdir``, ``slots``, ``placement``, ``kill_all`` and
``close``."""
from __future__ import annotations

import os

from accelgit.config import DASK_SCHEDULER_ENV, EXECUTORS
from accelgit.core.errors import UsageError


def choose(config, kind: str | None = None, address: str | None = None) -> tuple[str, str]:
    """``(kind, address)``: ``--executor``/``--scheduler`` first, then
    $ACCELGIT_DASK_SCHEDULER for the address, then ``[executor]``.  A
    scheduler given on the command line means the Dask executor."""
    if kind is not None and kind not in EXECUTORS:
        raise UsageError(f"--executor {kind}: must be one of {', '.join(EXECUTORS)}")
    if kind is None:
        kind = "dask" if address else config.executor
    return kind, address or os.environ.get(DASK_SCHEDULER_ENV) or config.executor_address


def make_launcher(config, kind: str | None = None, address: str | None = None):
    """The launcher of the chosen executor (connected, for Dask)."""
    kind, address = choose(config, kind, address)
    if kind == "dask":
        from accelgit.build.daskexec import DaskLauncher
        return DaskLauncher(address, config.executor_timeout)
    from accelgit.build.launcher import Launcher
    return Launcher()
