"""Whether a stored job may be reused: its recorded files, checked cheaply.

A job is reused only while the files a reuse depends on are what its
manifest says: ``manifest.json`` itself and what a consumer reads
(``result.json`` or ``result.pickle`` and every file under ``output/``): the
*checked files*.  The index keeps each job's checked files and their stat
data (size, mtime_ns, inode, ctime_ns: an edit that puts the mtime back
still moves the ctime) as they were when they last matched the manifest; a
lookup stats them, and only a job whose stat data moved is read: its
``job.json`` must be this job's (a renamed or swapped folder is not: the
manifest's inode moved with its folder) and match the manifest, and every
changed checked file must still have its manifest's sha256.  A job that
fails is *damaged*: ``plan`` says so and ``build`` moves it aside to the
workdir's ``.damaged/`` (never deleting it) and builds it again.

``job.json`` is not stat'ed on every reuse (a third stat a job was a tenth
of a no-op build: docs/benchmarks.md); an edit of it alone, of the logs,
of ``profile.json`` or of the source copies, none of which a build reads,
is ``verify``'s to find (docs/verify.md).

Pure file system reads here; the index (index.py) stores what ``examine``
returns, the workdir (workdir.py) decides what to do with it.
"""
from __future__ import annotations

import os
import struct
import time

from accelgit.core.errors import IntegrityError
from accelgit.store.jobdir import read_params
from accelgit.store.layout import DAMAGED, JOB_JSON, MANIFEST, OUTPUT, RESULT_FILES
from accelgit.store.manifest import file_digest, read_manifest

OK, DAMAGED_JOB, INCOMPLETE = "ok", "damaged", "incomplete"

_FIXED = (MANIFEST,)
_OUT = OUTPUT + "/"
_PACK: dict[int, struct.Struct] = {}


def checked_names(files) -> tuple[str, ...]:
    """The checked files of a job whose manifest lists ``files``, in a fixed order."""
    return _FIXED + tuple(sorted(r for r in files if r in RESULT_FILES or r.startswith(_OUT)))


def _packer(n: int) -> struct.Struct:
    p = _PACK.get(n)
    if p is None:
        p = _PACK[n] = struct.Struct("<" + "qqQq" * n)
    return p


def stat_key(folder: str, names: tuple[str, ...], dir_fd: int | None = None) -> bytes | None:
    """The stat data of the files ``names`` of job folder ``folder`` (its
    path, or with ``dir_fd`` its name in that folder), packed; None if one is
    missing.  Runs for every reused job: kept lean."""
    stat = os.stat
    prefix = folder + "/"
    vals: list = []
    try:
        for n in names:
            st = stat(prefix + n, dir_fd=dir_fd)
            vals += (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
    except (OSError, ValueError):
        return None
    return _packer(len(names)).pack(*vals)


def _stats(path: str, names, known: dict | None = None) -> list:
    """The stat data of each of ``names`` (None: missing); ``known``: stat
    results taken already, by name."""
    out = []
    for n in names:
        try:
            st = (known and known.get(n)) or os.stat(os.path.join(path, n))
            out.append((st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns))
        except (OSError, ValueError):
            out.append(None)
    return out


def _pack(now: list) -> bytes | None:
    """``_stats``' list as a stat key (None if a file is missing)."""
    if any(s is None for s in now):
        return None
    return _packer(len(now)).pack(*(x for s in now for x in s))


def _unpack(key: bytes | None, n: int) -> list | None:
    if key is None or len(key) != _packer(n).size:
        return None
    v = _packer(n).unpack(key)
    return [v[i:i + 4] for i in range(0, len(v), 4)]


def examine(path: str, jid: str, recorded: tuple | None = None) -> tuple:
    """Check job folder ``path`` as job ``jid`` against its manifest:
    ``(OK, job.json dict, (names, stat key))``, ``(DAMAGED_JOB, why, None)`` or
    ``(INCOMPLETE, None, None)`` (no manifest: not a job at all).  Files
    whose stat data match ``recorded`` (``(names, stat key)`` of the last
    check) are not read again."""
    if not os.path.isfile(os.path.join(path, MANIFEST)):
        return INCOMPLETE, None, None
    params, why = read_params(path)
    if params is None:
        return DAMAGED_JOB, why, None
    found = params.get("id")
    if found != jid:
        return DAMAGED_JOB, (f"its job.json is job {str(found)[:12]}'s, not {jid[:12]}'s "
                             f"(the folder was renamed or swapped)"), None
    try:
        files = read_manifest(path)["files"]
    except IntegrityError:
        return DAMAGED_JOB, "manifest.json cannot be read", None
    entry = files.get(JOB_JSON)
    try:
        same = isinstance(entry, dict) and file_digest(os.path.join(path, JOB_JSON))[0] == entry.get("sha256")
    except OSError:
        same = False
    if not same:
        return DAMAGED_JOB, f"{JOB_JSON} modified after the build", None
    names = checked_names(files)
    now = _stats(path, names)             # before reading: a change meanwhile shows next time
    old = _unpack(recorded[1], len(names)) if recorded and tuple(recorded[0]) == names else None
    for i, rel in enumerate(names):
        if rel == MANIFEST:
            continue
        if now[i] is None:
            return DAMAGED_JOB, f"{rel} is missing", None
        if old is not None and tuple(old[i]) == now[i]:
            continue
        entry = files.get(rel)
        try:
            sha = file_digest(os.path.join(path, rel))[0]
        except OSError:
            return DAMAGED_JOB, f"{rel} cannot be read", None
        if not isinstance(entry, dict) or sha != entry.get("sha256"):
            return DAMAGED_JOB, f"{rel} modified after the build", None
    if any(s is None for s in now):
        return DAMAGED_JOB, "manifest.json is missing", None
    return OK, params, (names, _pack(now))


def record(path: str, files, stats: dict | None = None) -> tuple:
    """``(names, stat key)`` of a job just built, whose manifest lists ``files``
    (``stats``: ``rel -> stat result`` taken when its manifest was written; the
    rest are stat'ed now)."""
    names = checked_names(files)
    return names, _pack(_stats(path, names, stats))


def aside_path(workdir: str, dirname: str) -> str:
    """Where the damaged job folder ``dirname`` goes: in the workdir's
    ``.damaged/`` (made), where it is kept, never deleted."""
    dest = os.path.join(workdir, DAMAGED, f"{dirname}.{time.strftime('%Y%m%d-%H%M%S')}.{os.urandom(2).hex()}")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    return dest
