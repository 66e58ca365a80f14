"""Which commit last changed a path, for the source and file reasons of a plan."""
from __future__ import annotations


class GitInfo:
    """Which commit last changed a path, for source and file reasons."""

    def __init__(self, repo, view):
        self.repo, self.view = repo, view
        self._base: str | None | bool = False
        self._cache: dict[tuple, str | None] = {}

    def base(self) -> str | None:
        if self._base is False:
            self._base = getattr(self.view, "commit", None) or self.repo.head()
        return self._base

    def last_commit(self, path: str, blob: str) -> str | None:
        """Short sha of the commit that last changed ``path``, when ``blob`` is
        what that commit holds (else the change is not committed: None)."""
        key = (path, blob)
        if key not in self._cache:
            out = None
            base = self.base()
            if base:
                committed = self.view.kind == "commit"
                if not committed:
                    proc = self.repo.git(["rev-parse", "-q", "--verify", f"{base}:{path}"], check=False)
                    committed = proc.returncode == 0 and proc.stdout.decode().strip() == blob
                if committed:
                    proc = self.repo.git(["log", "-1", "--format=%h", base, "--", path], check=False)
                    out = proc.stdout.decode().strip() or None
            self._cache[key] = out
        return self._cache[key]

    def describe(self, path: str, blob: str) -> str:
        c = self.last_commit(path, blob)
        if c:
            return f", last changed in {c}"
        if self.base() is None:
            return ""
        return ", staged, not committed" if self.view.kind == "index" else ", not committed"
