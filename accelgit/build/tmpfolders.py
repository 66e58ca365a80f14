"""Private temp folders of a running accelgit process: the fork server's
warm-up folder (forkserver.py) and a build's subjob socket folder
(subjobs.py).  Each holds a lock file its process keeps locked while it runs.
A process killed with SIGKILL cannot remove its folder, but its lock goes with
it, in whatever pid namespace it ran: the next process of its kind removes
the folders whose lock nobody holds."""
from __future__ import annotations

import os
import shutil

LOCK = "lock"
UNLOCKED_FOR = 24 * 3600      # a folder without a lock file this old was left by a killed process


def make(prefix: str, parent: str | None = None) -> tuple[str, int]:
    """A new private folder (``tempfile.mkdtemp``) and the fd of its lock, held.
    The lock file appears already locked (made, locked, then renamed), so a
    sweep running meanwhile never finds it free."""
    import fcntl
    import tempfile
    folder = tempfile.mkdtemp(prefix=prefix, dir=parent)
    try:
        fresh = os.path.join(folder, LOCK + ".new")
        fd = os.open(fresh, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.rename(fresh, os.path.join(folder, LOCK))
        except BaseException:
            os.close(fd)
            raise
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, fd


def remove(folder: str | None, fd: int | None) -> None:
    """The folder, then its lock."""
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
    if fd is not None:
        os.close(fd)


def sweep(tmp: str, prefixes: tuple[str, ...], mine: str | None) -> int:
    """Remove the folders in ``tmp`` named with one of ``prefixes`` whose lock
    nobody holds (their process is gone); one without a lock file (a process
    killed before it made one, or an older accelgit's) once it is a day old.
    Only this user's folders are looked at.  How many were removed."""
    import fcntl
    import time
    uid, removed = os.getuid(), 0
    try:
        entries = list(os.scandir(tmp))
    except OSError:
        return 0
    for e in entries:
        if not e.name.startswith(prefixes) or e.path == mine:
            continue
        try:
            st = e.stat(follow_symlinks=False)
            if st.st_uid != uid or not e.is_dir(follow_symlinks=False):
                continue
        except OSError:
            continue
        try:
            fd = os.open(os.path.join(e.path, LOCK), os.O_RDWR | os.O_NOFOLLOW)
        except FileNotFoundError:
            if time.time() - st.st_mtime > UNLOCKED_FOR:
                shutil.rmtree(e.path, ignore_errors=True)
                removed += 1
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:                   # held: that process runs
            continue
        finally:
            os.close(fd)
        shutil.rmtree(e.path, ignore_errors=True)
        removed += 1
    return removed
