"""What accelgit learns from a Python source, kept by its content: the
declarations of a method file, the modules a file imports, and the blob of a
method file with its ``equivalent_hashes`` cut out.  All of it depends only
on the file's bytes (its git blob id) and on accelgit's version, so an
unchanged method is never read or parsed again (docs/benchmarks.md: a no-op
build of 1,000 one-method steps spent three quarters of its time parsing).

The cache is ``<git dir>/accelgit-methods.json`` (per worktree, never
committed, not in any workdir), a JSON object ``{"version", "accelgit",
"entries": {blob: {"decl": ..., "refs": ..., "cut": ...}}}``.  It is data
only (nothing in it is executed), read once per command when first needed,
written atomically when a command learned something new, merged with what
another process wrote meanwhile, and only a cache: deleting it, or a damaged
or foreign one, costs one parse per file.  ``ACCELGIT_METHODCACHE=0`` turns
it off.
"""
from __future__ import annotations

import os
import threading

from accelgit import __version__
from accelgit.git.cachefile import read_json, write_json

FILENAME = "accelgit-methods.json"
VERSION = 2          # 2: a method's declarations include its resources
LIMIT = 20_000          # entries kept; the oldest go first


def enabled() -> bool:
    return os.environ.get("ACCELGIT_METHODCACHE", "1") != "0"


class MethodCache:
    """``blob -> {field: value}``; a ``path`` of None keeps it in memory only."""

    def __init__(self, path: str | None):
        self.path = path
        self._entries: dict[str, dict] | None = None
        self._new: dict[str, dict] = {}
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict]:
        if self.path is None:
            return {}
        data = read_json(self.path, version=VERSION, accelgit=__version__)
        entries = data.get("entries") if data else None
        return entries if isinstance(entries, dict) else {}

    def get(self, blob: str | None, field: str):
        """The cached ``field`` of ``blob``, or None."""
        if blob is None:
            return None
        with self._lock:
            if self._entries is None:
                self._entries = self._read()
            e = self._new.get(blob) or self._entries.get(blob)
        return e.get(field) if isinstance(e, dict) else None

    def put(self, blob: str | None, **fields) -> None:
        if blob is None:
            return
        with self._lock:
            e = self._new.get(blob)
            if e is None:
                old = (self._entries or {}).get(blob)
                e = self._new[blob] = dict(old) if isinstance(old, dict) else {}
            e.update(fields)

    def save(self) -> None:
        """Write what was learned (merged with the file as it is now), atomically."""
        with self._lock:
            if not self._new or self.path is None:
                return
            entries = self._read()
            for blob, e in self._new.items():
                old = entries.pop(blob, None)           # re-inserted last: the newest are kept
                entries[blob] = {**(old if isinstance(old, dict) else {}), **e}
            if len(entries) > LIMIT:
                entries = dict(list(entries.items())[-LIMIT:])
            write_json(self.path, {"version": VERSION, "accelgit": __version__, "entries": entries})
            self._new.clear()


def cache_for(view) -> MethodCache:
    """The cache of ``view``'s repository, saved when the view is closed."""
    path = os.path.join(view.repo.git_dir, FILENAME) if enabled() else None
    cache = MethodCache(path)
    view.at_close(cache.save)
    return cache
