"""The locks of a workdir (``flock``): one per job folder name, held while
the job is built (two builders racing for one job build it once), and the
workdir's session lock, held shared by every running build (``gc`` removes
no job meanwhile).  The only module that locks."""
from __future__ import annotations

import os

from accelgit.store.layout import LOCKS, SESSION_LOCK, lock_path


def _locked_fd(path: str, flags: int) -> int:
    """An fd of ``path`` holding flock ``flags``.  If the file was unlinked (by
    ``accelgit gc``) between open and lock, lock the new file instead, so two
    holders never lock two different inodes of one path."""
    import fcntl
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, flags)
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            return fd
        os.close(fd)


def job_lock_fd(workdir: str, dirname: str) -> int:
    """Take the job's exclusive lock; ``job_unlock(fd)`` releases it."""
    import fcntl
    locks = os.path.join(workdir, LOCKS)
    os.makedirs(locks, exist_ok=True)
    return _locked_fd(lock_path(workdir, dirname), fcntl.LOCK_EX)


def job_unlock(fd: int) -> None:
    import fcntl
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def session_lock(workdir: str) -> int | None:
    """A shared lock on ``workdir`` held by every build while it runs (until
    its run records are written): ``accelgit gc`` removes no job while one is
    held.  Returns the fd (close it to release), or None where the workdir
    cannot be written (a read-only shared workdir)."""
    import fcntl
    try:
        os.makedirs(workdir, exist_ok=True)
        fd = os.open(os.path.join(workdir, SESSION_LOCK), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def try_lock(path: str) -> int | None:
    """A non-blocking exclusive flock on an existing ``path``: the fd, or None
    if someone holds it (or it cannot be opened)."""
    import fcntl
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def lock_held(workdir: str, dirname: str) -> bool:
    """Whether someone holds the lock of job folder ``dirname`` right now."""
    path = lock_path(workdir, dirname)
    if not os.path.exists(path):
        return False
    fd = try_lock(path)
    if fd is None:
        return True
    os.close(fd)
    return False
