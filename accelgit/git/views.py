"""Three views of the repository's content, without checking anything out,
each giving ``path -> blob sha1`` and the bytes:

* ``WorktreeView``: the index's blob for every tracked file that git's stat
  cache says is unchanged (``git diff-files``), so such files are never read;
  modified and untracked files are hashed from disk (statcache.py remembers)
  as git would store them (convert.py: filters, autocrlf, text/eol);
* ``IndexView``: exactly what a commit would hold (``git ls-files -s``);
* ``CommitView``: any commit, branch or tag (``git ls-tree -r``).
"""
from __future__ import annotations

import os
import threading

from accelgit.core.identity import git_blob_sha1
from accelgit.git.repo import CatFile, Repo, clean_git_env, git


class Listing:
    """A listing of git entries: ``entries`` ``{path: (mode, sha)}`` of blobs,
    the paths of ``submodules`` (gitlinks), and (ls-files -s) the ``unmerged``
    paths, those with conflict stages: the index of a merge in progress."""
    __slots__ = ("entries", "submodules", "unmerged")

    def __init__(self, raw: bytes, sha_field: int, stage_field: int | None = None):
        self.entries: dict[str, tuple[str, str]] = {}
        self.submodules: set[str] = set()
        self.unmerged: set[str] = set()
        for rec in raw.split(b"\0"):
            if not rec:
                continue
            meta, _, raw_path = rec.partition(b"\t")
            fields = meta.split()
            mode, path = fields[0].decode(), raw_path.decode("utf-8", "surrogateescape")
            if stage_field is not None and fields[stage_field] != b"0":
                self.unmerged.add(path)
            if mode == "160000":       # a submodule: a commit of another repository, not a blob
                self.submodules.add(path)
                continue
            self.entries[path] = (mode, fields[sha_field].decode())


class View:
    """Content of the repo as one of the three views.  Paths are repo-relative."""

    kind = "?"

    def __init__(self, repo: Repo):
        self.repo = repo
        self._cat: CatFile | None = None
        self._lock = threading.Lock()
        self._at_close: list = []

    submodules: set = frozenset()

    @property
    def label(self) -> str:
        return self.kind

    def submodule_of(self, path: str) -> str | None:
        """The submodule ``path`` is inside, or None."""
        if self.submodules:
            parts = path.split("/")
            for i in range(1, len(parts)):
                top = "/".join(parts[:i])
                if top in self.submodules:
                    return top
        return None

    def blob(self, path: str) -> str | None:
        raise NotImplementedError

    def exists(self, path: str) -> bool:
        return self.blob(path) is not None

    def is_link(self, path: str) -> bool:
        """A symbolic link: git (and so the identity) hashes its target *path*, not the content."""
        e = getattr(self, "entries", {}).get(path)
        return e is not None and e[0] == "120000"

    def read(self, path: str) -> bytes:
        raise NotImplementedError

    def paths(self) -> list[str]:
        raise NotImplementedError

    def _cat_read(self, sha: str) -> bytes:
        with self._lock:
            if self._cat is None:
                self._cat = CatFile(self.repo)
        return self._cat.read(sha)

    def at_close(self, fn) -> None:
        """Call ``fn()`` when the view is closed (caches save what they learned)."""
        self._at_close.append(fn)

    def close(self) -> None:
        if self._cat is not None:
            self._cat.close()
            self._cat = None
        while self._at_close:
            self._at_close.pop(0)()


class _TreeView(View):
    """A view backed by a listing of git entries (index or commit)."""

    def __init__(self, repo: Repo, listing: Listing):
        super().__init__(repo)
        self.entries = listing.entries
        self.submodules = listing.submodules

    def blob(self, path: str) -> str | None:
        e = self.entries.get(path)
        return e[1] if e else None

    def read(self, path: str) -> bytes:
        e = self.entries.get(path)
        if e is None:
            raise FileNotFoundError(path)
        return self._cat_read(e[1])

    def paths(self) -> list[str]:
        return list(self.entries)


class IndexView(_TreeView):
    kind = "index"

    def __init__(self, repo: Repo, index_file: str | None = None):
        env = dict(repo.env or clean_git_env())
        if index_file:
            env["GIT_INDEX_FILE"] = index_file
        raw = git(["ls-files", "-s", "-z"], repo.root, env=env).stdout
        listing = Listing(raw, sha_field=1, stage_field=2)
        if listing.unmerged:
            from accelgit.core.errors import UsageError
            names = sorted(listing.unmerged)
            raise UsageError(f"the index has conflicts (a merge in progress: {', '.join(names[:5])}"
                             f"{' ...' if len(names) > 5 else ''} unmerged): resolve them and 'git add' them first")
        super().__init__(repo, listing)


class CommitView(_TreeView):
    kind = "commit"

    def __init__(self, repo: Repo, rev: str):
        self.commit = repo.rev_parse(rev)
        raw = repo.git(["ls-tree", "-r", "-z", "--full-tree", self.commit]).stdout
        super().__init__(repo, Listing(raw, sha_field=2))

    @property
    def label(self) -> str:
        return self.commit


def hash_file(abspath: str) -> str | None:
    """Blob sha1 of a file on disk as git would store it (links: their target)."""
    try:
        if os.path.islink(abspath):
            return git_blob_sha1(os.readlink(abspath).encode("utf-8", "surrogateescape"))
        with open(abspath, "rb") as f:
            return git_blob_sha1(f.read())
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _hash_as_git(abspath: str, convert) -> str | None:
    """``hash_file`` of a regular file, then ``convert(sha, whether it holds a CR)``."""
    if os.path.islink(abspath):
        return hash_file(abspath)
    try:
        with open(abspath, "rb") as f:
            data = f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return convert(git_blob_sha1(data), b"\r" in data)


class WorktreeView(View):
    kind = "worktree"

    def __init__(self, repo: Repo):
        super().__init__(repo)
        raw = repo.git(["ls-files", "-s", "-z"]).stdout
        listing = Listing(raw, sha_field=1)
        self.index = listing.entries
        self.submodules = listing.submodules
        # Tracked files whose stat data differs from the index (modified, deleted,
        # or merely touched): these, and untracked files, are hashed from disk.
        changed = repo.git(["diff-files", "--name-only", "-z"]).stdout
        self.changed = {p.decode("utf-8", "surrogateescape") for p in changed.split(b"\0") if p}
        self._hashed: dict[str, str | None] = {}
        self._stat_cache = None      # statcache.StatCache, made on the first file hashed from disk
        self._conversion = None      # convert.Conversion, made when a file git may convert is met

    def _abs(self, path: str) -> str:
        if os.sep == "/":
            return f"{self.repo.root}/{path}"
        return os.path.join(self.repo.root, *path.split("/"))

    def blob(self, path: str) -> str | None:
        e = self.index.get(path)
        if e is not None and path not in self.changed:
            return e[1]
        try:
            return self._hashed[path]
        except KeyError:
            sha = self._hashed[path] = self._hash_disk(path)
            return sha

    def _hash_disk(self, path: str) -> str | None:
        """Untracked or modified: hashed from disk, unless the persistent stat
        cache (statcache.py) knows the file unchanged since it last read it."""
        from accelgit.git import statcache
        if not statcache.enabled():
            return _hash_as_git(self._abs(path), lambda sha, cr: self._as_git(path, sha, cr))
        with self._lock:
            if self._stat_cache is None:
                self._stat_cache = statcache.StatCache(self.repo.git_dir)
        return self._stat_cache.blob(path, self._abs(path), hash_file, self._as_git)

    def _conv(self):
        with self._lock:
            if self._conversion is None:
                from accelgit.git.convert import Conversion
                self._conversion = Conversion(self.repo)
        return self._conversion

    def _as_git(self, path: str, sha: str, has_cr: bool) -> str:
        """The blob git would store for ``path``, whose bytes on disk hash to ``sha``."""
        e = self.index.get(path)
        if e is not None and e[1] == sha:          # the index's own bytes: that blob
            return sha
        conv = self._conv()
        if not conv.may_convert(path, has_cr):
            return sha
        return conv.blob(path) or sha

    def close(self) -> None:
        if self._stat_cache is not None:
            self._stat_cache.save()
        if self._conversion is not None:
            self._conversion.close()
        super().close()

    def exists(self, path: str) -> bool:
        if path in self.index and path not in self.changed:
            return True
        return os.path.isfile(self._abs(path))

    def is_link(self, path: str) -> bool:
        e = self.index.get(path)
        if e is not None and path not in self.changed:      # as git last saw it: a type change is a change
            return e[0] == "120000"
        return os.path.islink(self._abs(path))

    def read(self, path: str) -> bytes:
        with open(self._abs(path), "rb") as f:
            data = f.read()
        e = self.index.get(path)
        if e is not None and path not in self.changed:
            if git_blob_sha1(data) != e[1]:
                # unchanged for git, yet other bytes on disk: checkout filters (eol=crlf,
                # autocrlf, LFS) rewrote it; the blob is the content the identity hashed
                return self._cat_read(e[1])
            return data
        if not os.path.islink(self._abs(path)) and git_blob_sha1(data) != self.blob(path):
            clean = self._conv().content(path)        # git stores other bytes: those are the content
            if clean is not None:
                return clean
        return data

    def paths(self) -> list[str]:
        return list(self.index)


def make_view(repo: Repo, staged: bool = False, at: str | None = None) -> View:
    if staged and at:
        from accelgit.core.errors import UsageError
        raise UsageError("--staged and --at cannot be used together")
    if at:
        return CommitView(repo, at)
    if staged:
        return IndexView(repo)
    return WorktreeView(repo)
