"""Every file and folder name in a workdir and in a job folder (SPEC §6).

No other module spells one of these names; they ask here.  A workdir holds:

* ``<method>-<first 12 hex of id>/``: a job folder (``job_name``);
* ``.tmp/``: jobs being built, and folders on their way out;
* ``.failed/``: failed builds, kept for their logs until ``accelgit gc``;
* ``.untrusted/``: job folders a build found in its place, not signed by a
  trusted key, moved aside (never deleted by a build);
* ``.damaged/``: jobs found modified after their build, moved aside by a
  build that built them again (never removed by accelgit: jobcheck.py);
* ``.locks/``: one lock file per job folder name;
* ``.runs/``: one run record per build script (JSON Lines, runs.py);
* ``.session.lock``: held (shared) by every running build;
* ``index.sqlite``: the index, a cache of the job folders (index.py);
* ``.urd.jsonl``: the urd lists of the target workdir (urddb.py), unless
  the config names another file.

Pure: names and paths only, no I/O.
"""
from __future__ import annotations

import os
import re

from accelgit.core.identity import job_dirname

# -- in a job folder
JOB_JSON = "job.json"
MANIFEST = "manifest.json"
SIGNATURE = "signature.json"   # of the manifest, by the builder's key (signing.py); not in the manifest
UNSIGNED = (MANIFEST, SIGNATURE)
RESULT_JSON = "result.json"
RESULT_PICKLE = "result.pickle"
RESULT_FILES = (RESULT_JSON, RESULT_PICKLE)
PROFILE = "profile.json"
SOURCE = "source"
OUTPUT = "output"
LOG = "log"
RUN_FILE = ".run.json"          # what the job process needs besides job.json (exec'd jobs only)
ERROR_FILE = ".error.json"      # a failed job's phase, error and log
ATTEMPT_FILE = ".attempt.json"  # the Dask worker running the job (removed before the manifest)

# -- in a workdir
TMP, LOCKS, FAILED, RUNS, DAMAGED = ".tmp", ".locks", ".failed", ".runs", ".damaged"
UNTRUSTED = ".untrusted"
SESSION_LOCK = ".session.lock"
INDEX = "index.sqlite"
URD_DB = ".urd.jsonl"
DAMAGED_INDEX = INDEX + ".damaged"
PROBE_PREFIX = "probe-"         # in .tmp/: written by a Dask worker, read by the client (shared filesystem?)

_JOB_NAME = re.compile(r"^\w+-[0-9a-f]{12}$")      # method names may be any identifier


def is_job_name(name: str) -> bool:
    """Whether ``name`` has the shape of a job folder's name."""
    return bool(_JOB_NAME.match(name))


def job_path(workdir: str, method: str, jid: str) -> str:
    return os.path.join(workdir, job_dirname(method, jid))


def lock_path(workdir: str, dirname: str) -> str:
    return os.path.join(workdir, LOCKS, dirname + ".lock")


def run_record_path(workdir: str, script: str) -> str:
    """The run record of build script ``script`` (a repo path)."""
    return os.path.join(workdir, RUNS, script.replace("/", "__") + ".jsonl")


def source_path(jobdir: str, rel: str) -> str:
    """The copy of source file ``rel`` (a repo path) in a job folder."""
    return os.path.join(jobdir, SOURCE, *rel.split("/"))
