"""The fork server's warm-up job: a trivial job the server runs once before
its first fork, and each spare child runs before it is given a job, so that
what a job's first run in a process makes lazily (CPython's AST node types,
above all) is made before the job waits for it (docs/design.md)."""
from __future__ import annotations

import json
import os
import sys

from accelgit.api import running
from accelgit.api.accelerator_name import install as install_accelerator
from accelgit.api.job import forget_job
from accelgit.build.runner import run_job
from accelgit.core.identity import git_blob_sha1
from accelgit.core.packages import module_of
from accelgit.store.layout import JOB_JSON, LOG, OUTPUT, SOURCE

WARM_METHOD = "accelgit_warm_up"
# the warm-up's method is a module of a method package with an option and an input
# job, as most real jobs are: the code those take is then warm in the fork server too
# (a page a job touches first is copied in that job: ~0.1 ms a job when it was not)
_WARM_PATH = f"{WARM_METHOD}/a_{WARM_METHOD}.py"


def make_warm_up(folder: str) -> None:
    """A trivial job in ``folder`` for ``warm_up`` (the fork server's scratch)."""
    src = "def synthesis(job, options, jobs):\n    return None\n"
    params = {"id": "0" * 64, "method": WARM_METHOD, "name": WARM_METHOD, "options": {"x": 0}, "files": {},
              "sources": {_WARM_PATH: git_blob_sha1(src.encode())}, "method_path": _WARM_PATH,
              "method_folder": WARM_METHOD}
    for d in (os.path.join(SOURCE, WARM_METHOD), OUTPUT, LOG):
        os.makedirs(os.path.join(folder, d), exist_ok=True)
    with open(os.path.join(folder, SOURCE, *_WARM_PATH.split("/")), "w", encoding="utf-8") as f:
        f.write(src)
    with open(os.path.join(folder, JOB_JSON), "w", encoding="utf-8") as f:
        json.dump(params, f)


def warm_up(folder: str) -> None:
    """Run the trivial job of ``folder`` and undo what running it changed in
    this process.  Called in a freshly forked child before it is given a job:
    what it touches is copied now, not while a job waits for it."""
    install_accelerator()       # kept (a job's own call is then a check): only the job's importer is undone
    path, meta, cwd, bytecode = list(sys.path), list(sys.meta_path), os.getcwd(), sys.dont_write_bytecode
    try:
        run_job(folder, json.loads(json.dumps({"inputs": {"w": folder}, "root": folder, "slices": 1})))
    except Exception:  # noqa: BLE001 - only a warm-up: the real job reports its own errors
        pass
    finally:
        sys.path[:] = path
        sys.meta_path[:] = meta
        os.chdir(cwd)
        sys.dont_write_bytecode = bytecode
        sys.modules.pop(module_of(_WARM_PATH)[1], None)
        forget_job(folder)
        running.current = running.phase = running.subjob_address = running.subjob_problem = None
        running.recorded_subjobs = None
