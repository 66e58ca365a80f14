"""The git repository: finding it, running ``git`` (with the variables git
sets for hooks cleared), a persistent ``git cat-file --batch``, and the
commit metadata a job records.

Everything goes through the ``git`` executable, a few calls per command:
GitPython's import alone costs more than these calls do (docs/design.md)."""
from __future__ import annotations

import os
import subprocess
import threading

from accelgit.core.errors import GitError

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


class Repo:
    """A git repository as accelgit uses it (a plain class: see config.Config)."""

    def __init__(self, root: str, git_dir: str, common_dir: str, shallow: bool = False, env: dict | None = None):
        self.root = root              # the work tree's top folder
        self.git_dir = git_dir        # this work tree's git dir (differs from common_dir in linked worktrees)
        self.common_dir = common_dir  # shared git dir: hooks, objects, refs
        self.shallow = shallow
        self.env = env                # environment for git calls (GIT_* cleared)

    def __repr__(self) -> str:
        return f"Repo(root={self.root!r})"

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


def commit_metadata(repo: Repo) -> dict:
    """commit, branch, author and commit time of HEAD (commit None on an unborn branch)."""
    proc = repo.git(["show", "-s", "--format=%H%x00%an <%ae>%x00%cI", "HEAD"], check=False)
    commit = author = committed_at = None
    if proc.returncode == 0:
        commit, author, committed_at = proc.stdout.decode("utf-8", "replace").strip().split("\0")
    br = repo.git(["symbolic-ref", "-q", "--short", "HEAD"], check=False)
    branch = br.stdout.decode().strip() or None if br.returncode == 0 else None
    return {"commit": commit, "branch": branch, "author": author, "committed_at": committed_at}
