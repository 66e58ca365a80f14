"""Git access: the repository, three views of its content, commit metadata.

Everything goes through the ``git`` executable with ``-z`` output, a few calls
per command (GitPython's import alone costs more than these calls do).

Views give ``path -> blob sha1`` without checking anything out:
* ``WorktreeView``: the index's blob for every tracked file that git's stat
  cache says is unchanged (``git diff-files``), so such files are never read;
  modified and untracked files are hashed from disk;
* ``IndexView``: exactly what a commit would hold (``git ls-files -s``);
* ``CommitView``: any commit, branch or tag (``git ls-tree -r``).
"""
from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass

from .errors import GitError
from .identity import git_blob_sha1

# Variables git sets for hooks and aliases; they must not leak into the git
# calls accelgit makes for a repo it located itself.
_GIT_ENV_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_OBJECT_DIRECTORY",
                 "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE")


def clean_git_env(env: dict | None = None) -> dict:
    env = dict(os.environ if env is None else env)
    for k in _GIT_ENV_VARS:
        env.pop(k, None)
    return env


def git(args: list[str], cwd: str, *, input: bytes | None = None, check: bool = True,
        env: dict | None = None) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=env)
    except FileNotFoundError:
        if not os.path.isdir(cwd):
            raise GitError(f"{cwd}: no such directory (running git {args[0]})") from None
        raise GitError("accelgit needs git, and no 'git' executable is on PATH") from None
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {' '.join(args[:2])} failed in {cwd}: {msg[-1] if msg else 'exit ' + str(proc.returncode)}")
    return proc


@dataclass
class Repo:
    root: str          # the work tree's top folder
    git_dir: str       # this work tree's git dir (differs from common_dir in linked worktrees)
    common_dir: str    # shared git dir: hooks, objects, refs
    shallow: bool = False
    env: dict | None = None   # environment for git calls (GIT_* cleared)

    def git(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        kw.setdefault("env", self.env)
        return git(args, self.root, **kw)

    def rev_parse(self, rev: str) -> str:
        proc = self.git(["rev-parse", "-q", "--verify", f"{rev}^{{commit}}"], check=False)
        if proc.returncode != 0:
            extra = " (this is a shallow clone: older commits are not here)" if self.shallow else ""
            raise GitError(f"unknown revision '{rev}' in {self.root}{extra}")
        return proc.stdout.decode().strip()

    def head(self) -> str | None:
        proc = self.git(["rev-parse", "-q", "--verify", "HEAD^{commit}"], check=False)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def relpath(self, path: str) -> str:
        """``path`` (absolute, or relative to the cwd) as a repo path with ``/``."""
        rel = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")
        if rel == ".." or rel.startswith("../"):
            raise GitError(f"{path} is outside the repository {self.root}")
        return rel


def find_repo(start: str = ".") -> Repo:
    start = os.path.abspath(start)
    if not os.path.isdir(start):
        raise GitError(f"{start} is not a directory")
    if "\n" in start:        # git prints paths a line each: such a path cannot be read back
        raise GitError(f"accelgit cannot work in a folder whose path has a line break: {start!r}")
    env = clean_git_env()
    proc = git(["rev-parse", "--is-bare-repository", "--absolute-git-dir", "--git-common-dir",
                "--is-shallow-repository", "--show-toplevel"], start, check=False, env=env)
    out = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if proc.returncode != 0 or len(out) < 4:
        if out and out[0] == "true":
            raise GitError(f"accelgit needs a work tree: {start} is a bare git repository")
        raise GitError(f"accelgit needs a git repository: {start} is not inside one (run 'git init' first)")
    bare, git_dir, common, shallow = out[:4]
    if bare == "true" or len(out) < 5:
        raise GitError(f"accelgit needs a work tree: {start} is a bare git repository")
    root = out[4]
    if not os.path.isabs(common):
        common = os.path.normpath(os.path.join(start, common))
    return Repo(root=root, git_dir=git_dir, common_dir=common, shallow=shallow == "true", env=env)


class CatFile:
    """A persistent ``git cat-file --batch`` for reading many blobs."""

    def __init__(self, repo: Repo):
        self._proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=repo.root, env=repo.env,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._lock = threading.Lock()

    def read(self, sha: str) -> bytes:
        with self._lock:
            self._proc.stdin.write(sha.encode() + b"\n")
            self._proc.stdin.flush()
            header = self._proc.stdout.readline().split()
            if len(header) != 3:
                raise GitError(f"git cat-file: object {sha} is missing")
            size = int(header[2])
            data = self._proc.stdout.read(size)
            self._proc.stdout.read(1)
            return data

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            self._proc.wait()


def _parse_entries(raw: bytes, sha_field: int, mode_field: int = 0) -> dict[str, tuple[str, str]]:
    """``{path: (mode, sha)}`` from ls-files -s / ls-tree -r output (-z)."""
    entries: dict[str, tuple[str, str]] = {}
    for rec in raw.split(b"\0"):
        if not rec:
            continue
        meta, _, path = rec.partition(b"\t")
        fields = meta.split()
        mode = fields[mode_field].decode()
        if mode == "160000":       # submodule: not a blob
            continue
        entries[path.decode("utf-8", "surrogateescape")] = (mode, fields[sha_field].decode())
    return entries


class View:
    """Content of the repo as one of the three views.  Paths are repo-relative."""

    kind = "?"

    def __init__(self, repo: Repo):
        self.repo = repo
        self._cat: CatFile | None = None
        self._lock = threading.Lock()

    @property
    def label(self) -> str:
        return self.kind

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

    def close(self) -> None:
        if self._cat is not None:
            self._cat.close()
            self._cat = None


class _TreeView(View):
    """A view backed by a listing of git entries (index or commit)."""

    def __init__(self, repo: Repo, entries: dict[str, tuple[str, str]]):
        super().__init__(repo)
        self.entries = entries

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
        super().__init__(repo, _parse_entries(raw, sha_field=1))


class CommitView(_TreeView):
    kind = "commit"

    def __init__(self, repo: Repo, rev: str):
        self.commit = repo.rev_parse(rev)
        raw = repo.git(["ls-tree", "-r", "-z", "--full-tree", self.commit]).stdout
        super().__init__(repo, _parse_entries(raw, sha_field=2))

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


class WorktreeView(View):
    kind = "worktree"

    def __init__(self, repo: Repo):
        super().__init__(repo)
        raw = repo.git(["ls-files", "-s", "-z"]).stdout
        self.index = _parse_entries(raw, sha_field=1)
        # Tracked files whose stat data differs from the index (modified, deleted,
        # or merely touched): these, and untracked files, are hashed from disk.
        changed = repo.git(["diff-files", "--name-only", "-z"]).stdout
        self.changed = {p.decode("utf-8", "surrogateescape") for p in changed.split(b"\0") if p}
        self._hashed: dict[str, str | None] = {}
        self._stat_cache = None      # statcache.StatCache, made on the first file hashed from disk

    def _abs(self, path: str) -> str:
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
        from . import statcache
        if not statcache.enabled():
            return hash_file(self._abs(path))
        with self._lock:
            if self._stat_cache is None:
                self._stat_cache = statcache.StatCache(self.repo.git_dir)
        return self._stat_cache.blob(path, self._abs(path), hash_file)

    def close(self) -> None:
        if self._stat_cache is not None:
            self._stat_cache.save()
        super().close()

    def exists(self, path: str) -> bool:
        if path in self.index and path not in self.changed:
            return True
        return os.path.isfile(self._abs(path))

    def is_link(self, path: str) -> bool:
        return os.path.islink(self._abs(path))

    def read(self, path: str) -> bytes:
        with open(self._abs(path), "rb") as f:
            data = f.read()
        e = self.index.get(path)
        if e is not None and path not in self.changed and git_blob_sha1(data) != e[1]:
            # unchanged for git, yet other bytes on disk: checkout filters (eol=crlf,
            # autocrlf, LFS) rewrote it; the blob is the content the identity hashed
            return self._cat_read(e[1])
        return data

    def paths(self) -> list[str]:
        return list(self.index)


def make_view(repo: Repo, staged: bool = False, at: str | None = None) -> View:
    if staged and at:
        from .errors import UsageError
        raise UsageError("--staged and --at cannot be used together")
    if at:
        return CommitView(repo, at)
    if staged:
        return IndexView(repo)
    return WorktreeView(repo)


def commit_metadata(repo: Repo) -> dict:
    """commit, branch, author and commit time of HEAD (commit None on an unborn branch)."""
    proc = repo.git(["show", "-s", "--format=%H%x00%an <%ae>%x00%cI", "HEAD"], check=False)
    commit = author = committed_at = None
    if proc.returncode == 0:
        commit, author, committed_at = proc.stdout.decode("utf-8", "replace").strip().split("\0")
    br = repo.git(["symbolic-ref", "-q", "--short", "HEAD"], check=False)
    branch = br.stdout.decode().strip() or None if br.returncode == 0 else None
    return {"commit": commit, "branch": branch, "author": author, "committed_at": committed_at}
