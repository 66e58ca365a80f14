"""Work-tree files as git would store them: clean filters, ``core.autocrlf``,
``.gitattributes`` ``text``/``eol``/``ident``/``working-tree-encoding``.

A file hashed from disk (modified or untracked: views.py) gets the blob id
``git add`` would give it, so that a file whose content is the index's gives
the index's id, with or without CRLF line ends on disk.  git decides, not
accelgit: whether a file may be converted is asked of ``git check-attr`` (one
process for the command, started when a first file needs it) and, only for
a file with a CR byte and no ``text``/``eol`` attribute, of
``core.autocrlf``; a file that may be converted is given to ``git
update-index --add`` on a copy of the index, with a temporary object
folder, which is exactly ``git add`` (the index's own line ends are kept,
as git's "safer autocrlf" does) without touching the repository.

Nothing runs when no file is hashed from disk, nor for a file whose bytes
are already the index's blob.
"""
from __future__ import annotations

import os
import subprocess
import threading

from accelgit.git.repo import git

_ATTRS = ("filter", "working-tree-encoding", "ident", "text", "eol")
_NONE = (b"unspecified", b"unset")


class Conversion:
    """git's view of the files of one work tree, for one command."""

    def __init__(self, repo):
        self.repo = repo
        self._lock = threading.Lock()
        self._attr: subprocess.Popen | None = None
        self._autocrlf: bool | None = None
        self._tmp: str | None = None

    # -- does git convert this file?
    def _attributes(self, path: str) -> dict[bytes, bytes]:
        if self._attr is None:
            self._attr = subprocess.Popen(["git", "check-attr", "-z", "--stdin", *_ATTRS], cwd=self.repo.root,
                                          env=self.repo.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        p = self._attr
        p.stdin.write(path.encode("utf-8", "surrogateescape") + b"\0")
        p.stdin.flush()
        out = b""
        want = 3 * len(_ATTRS)
        while out.count(b"\0") < want:
            got = p.stdout.read1(4096)
            if not got:
                break
            out += got
        f = out.split(b"\0")
        return {f[i + 1].decode(): f[i + 2] for i in range(0, len(f) - 2, 3)} if f else {}

    def _crlf_configured(self) -> bool:
        if self._autocrlf is None:
            v = self.repo.git(["config", "--get", "core.autocrlf"], check=False).stdout.decode().strip().lower()
            self._autocrlf = v in ("input", "true", "yes", "on", "1")
        return self._autocrlf

    def may_convert(self, path: str, has_cr: bool) -> bool:
        """Whether git may store ``path`` as other bytes than it has on disk
        (``has_cr``: the file holds a CR byte)."""
        with self._lock:
            a = self._attributes(path)
            if any(a.get(k, b"unspecified") not in _NONE for k in ("filter", "working-tree-encoding")) \
                    or a.get("ident") == b"set":
                return True
            if not has_cr or a.get("text") == b"unset":
                return False
            if a.get("text", b"unspecified") != b"unspecified" or a.get("eol", b"unspecified") != b"unspecified":
                return True
            return self._crlf_configured()

    # -- what git stores
    def _env(self) -> dict:
        if self._tmp is None:
            import tempfile  # here: a command that converts nothing does not import it
            self._tmp = tempfile.mkdtemp(prefix="accelgit-convert-")
            os.mkdir(os.path.join(self._tmp, "objects"))
        env = dict(self.repo.env or os.environ)
        env["GIT_INDEX_FILE"] = os.path.join(self._tmp, "index")
        env["GIT_OBJECT_DIRECTORY"] = os.path.join(self._tmp, "objects")
        env["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = os.path.join(self.repo.common_dir, "objects")
        return env

    def blob(self, path: str) -> str | None:
        """The blob ``git add path`` would make, as git makes it (None if git cannot)."""
        with self._lock:
            env = self._env()
            index = env["GIT_INDEX_FILE"]
            try:
                import shutil  # here: only a file git may convert needs it (shutil imports bz2, lzma)
                shutil.copyfile(os.path.join(self.repo.git_dir, "index"), index)
            except FileNotFoundError:       # no index yet: an empty one
                if os.path.exists(index):
                    os.unlink(index)
            raw = path.encode("utf-8", "surrogateescape")
            # (--no-split-index: a copy of a split index is written whole, no shared index made)
            add = git(["update-index", "--no-split-index", "--add", "-z", "--stdin"], self.repo.root,
                      input=raw + b"\0", check=False, env=env)
            if add.returncode != 0:
                return None
            out = git(["ls-files", "-s", "-z", "--", path], self.repo.root, check=False, env=env).stdout
        for rec in out.split(b"\0"):
            meta, _, name = rec.partition(b"\t")
            if name == raw:
                return meta.split()[1].decode()
        return None

    def content(self, path: str) -> bytes | None:
        """The bytes git stores for ``path`` now (its clean content), or None."""
        sha = self.blob(path)
        if sha is None:
            return None
        proc = git(["cat-file", "blob", sha], self.repo.root, check=False, env=self._env())
        return proc.stdout if proc.returncode == 0 else None

    def close(self) -> None:
        if self._attr is not None:
            self._attr.stdin.close()
            self._attr.wait()
            self._attr = None
        if self._tmp is not None:
            import shutil
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
