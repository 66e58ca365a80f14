"""A persistent stat cache for the files accelgit hashes from disk.

Git's own stat cache (the index, read through ``git diff-files``) already
spares accelgit from reading clean tracked files.  Untracked files (data files
above all) and tracked files whose stat data no longer matches the index are
hashed from disk (as git would store them: convert.py); this cache remembers
``path -> (size, mtime_ns, ino, ctime_ns, checked_ns, blob)`` so an unchanged
file is not read again by the next command.

An entry is used only when the file's stat data matches it exactly, and its
mtime is more than ``RACY_NS`` older than the moment the file was checked
(git's "racy clean" rule): a write in the same timestamp tick as the hashing
could otherwise keep size and mtime and go unseen.  Such a file is simply
hashed again; once it is older, its entry becomes usable.

The cache lives in the work tree's git dir (``<git dir>/accelgit-statcache.json``,
per linked worktree, never committed), is written atomically, merged with
what another process wrote meanwhile, and is only a cache: deleting it, or a
damaged file, costs one more read.  ``ACCELGIT_STATCACHE=0`` turns it off.
"""
from __future__ import annotations

import hashlib
import os
import stat
import threading
import time

from accelgit.git.cachefile import read_json, write_json
from accelgit.git.filehash import CRSeen, feed

FILENAME = "accelgit-statcache.json"

VERSION = 2                      # 2: blobs as git stores them (convert.py), not the bytes on disk

RACY_NS = 2_000_000_000          # 2 s: coarse file system clocks included


def enabled() -> bool:
    return os.environ.get("ACCELGIT_STATCACHE", "1") != "0"


class StatCache:
    def __init__(self, git_dir: str):
        self.path = os.path.join(git_dir, FILENAME)
        self._entries: dict[str, list] | None = None
        self._new: dict[str, list] = {}
        self._lock = threading.Lock()

    # -- storage
    def _read(self) -> dict[str, list]:
        data = read_json(self.path, version=VERSION)
        files = data.get("files") if data else None
        return files if isinstance(files, dict) else {}

    def save(self) -> None:
        """Write new entries (merged with the file as it is now), atomically."""
        with self._lock:
            if not self._new:
                return
            files = self._read()
            files.update(self._new)
            write_json(self.path, {"version": VERSION, "files": files})     # read-only: no cache
            self._new.clear()

    # -- lookup
    def blob(self, rel: str, abspath: str, fallback, convert=None) -> str | None:
        """The git blob sha1 of ``abspath`` (repo path ``rel``): from the cache
        when its stat data allows, else read and hashed, and then given to
        ``convert(rel, sha1 of the bytes, whether they hold a CR)`` for the blob
        git would store.  Anything but a regular file (a link, a folder,
        nothing), and a file that changes while it is read, is left to
        ``fallback(abspath)``."""
        try:
            st = os.lstat(abspath)
        except (OSError, ValueError):
            return fallback(abspath)
        if not stat.S_ISREG(st.st_mode):
            return fallback(abspath)
        with self._lock:
            if self._entries is None:
                self._entries = self._read()
            e = self._new.get(rel) or self._entries.get(rel)
        if (isinstance(e, list) and len(e) == 6 and e[0] == st.st_size and e[1] == st.st_mtime_ns
                and e[2] == st.st_ino and e[3] == st.st_ctime_ns and st.st_mtime_ns < e[4] - RACY_NS):
            return e[5]
        try:
            f = open(abspath, "rb", buffering=0)
        except (FileNotFoundError, NotADirectoryError):
            return fallback(abspath)
        with f:
            checked = time.time_ns()
            st = os.fstat(f.fileno())       # the stat of exactly what is read
            sha, cr = _stream_sha1(f, st.st_size) if stat.S_ISREG(st.st_mode) else (None, False)
        if sha is None:                     # replaced, or changed while it was read
            return fallback(abspath)
        if convert is not None:
            sha = convert(rel, sha, cr)
        with self._lock:
            self._new[rel] = [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns, checked, sha]
        return sha


def _stream_sha1(f, size: int) -> tuple[str | None, bool]:
    """git's blob sha1 of ``size`` bytes read from ``f`` in chunks (never the
    whole file in memory), None if the file did not hold exactly ``size``
    bytes; and whether they hold a CR byte (git's line-end conversion)."""
    h = CRSeen(hashlib.sha1(b"blob %d\0" % size))
    return (h.hexdigest() if feed(f, h, size) == size else None), h.cr
