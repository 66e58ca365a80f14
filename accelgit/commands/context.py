"""The repository and configuration a command works on (``-C DIR``)."""
from __future__ import annotations

import os


def open_repo(directory: str | None):
    """The repo and config of the current folder, or of ``-C DIR`` (like git -C:
    the command runs as if started in DIR, so relative paths are relative to it)."""
    from accelgit.config import load_config
    from accelgit.git.repo import find_repo
    if directory:
        if not os.path.isdir(directory):
            from accelgit.core.errors import UsageError
            raise UsageError(f"-C {directory}: no such directory")
        os.chdir(directory)
    repo = find_repo(".")
    return repo, load_config(repo.root)
