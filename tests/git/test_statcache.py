"""The persistent stat cache for files hashed from disk (accelgit/git/statcache.py):
an unchanged untracked or modified file is not read again, and any change,
even one that keeps the size and the mtime, is seen."""
from __future__ import annotations

import json
import os
import time

import pytest

from accelgit.core.identity import git_blob_sha1
from accelgit.git import statcache
from accelgit.git.repo import find_repo
from accelgit.git.views import WorktreeView

OLD = time.time() - 3600          # older than the racy window


@pytest.fixture
def reads(monkeypatch):
    """Paths whose content the stat cache read and hashed."""
    seen = []
    real = statcache._stream_sha1

    def spy(f, size):
        seen.append(os.path.basename(f.name))
        return real(f, size)
    monkeypatch.setattr(statcache, "_stream_sha1", spy)
    return seen


def blob_of(repo_path, rel: str) -> str | None:
    view = WorktreeView(find_repo(str(repo_path)))
    try:
        return view.blob(rel)
    finally:
        view.close()


def write_old(path, data: bytes, when: float = OLD) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (when, when))


def test_unchanged_untracked_file_is_read_once(repo, reads):
    write_old(repo.path / "data" / "big.bin", b"x" * 100_000)
    assert blob_of(repo.path, "data/big.bin") == git_blob_sha1(b"x" * 100_000)
    assert blob_of(repo.path, "data/big.bin") == git_blob_sha1(b"x" * 100_000)
    assert reads == ["big.bin"]
    cache = json.loads((repo.path / ".git" / statcache.FILENAME).read_text())
    assert cache["version"] == statcache.VERSION and list(cache["files"]) == ["data/big.bin"]


def test_same_size_same_mtime_edit_is_seen(repo, reads):
    p = repo.path / "data.txt"
    write_old(p, b"aaaa")
    assert blob_of(repo.path, "data.txt") == git_blob_sha1(b"aaaa")
    write_old(p, b"bbbb")                 # same size, mtime put back: ctime still moves
    assert blob_of(repo.path, "data.txt") == git_blob_sha1(b"bbbb")
    assert reads == ["data.txt", "data.txt"]


def test_recently_modified_file_is_not_trusted(repo, reads):
    p = repo.path / "fresh.txt"
    p.write_bytes(b"new")                 # mtime is now: inside the racy window
    assert blob_of(repo.path, "fresh.txt") == git_blob_sha1(b"new")
    assert blob_of(repo.path, "fresh.txt") == git_blob_sha1(b"new")
    assert reads == ["fresh.txt", "fresh.txt"]


def test_touched_tracked_file_uses_the_cache(repo, reads):
    p = repo.path / "tracked.txt"
    p.write_bytes(b"content\n")
    repo.commit("tracked")
    os.utime(p, (OLD, OLD))               # stat differs from git's index: hashed from disk
    assert blob_of(repo.path, "tracked.txt") == git_blob_sha1(b"content\n")
    assert blob_of(repo.path, "tracked.txt") == git_blob_sha1(b"content\n")
    assert reads == ["tracked.txt"]


def test_links_missing_and_folders_are_not_cached(repo, reads):
    write_old(repo.path / "target.txt", b"t")
    os.symlink("target.txt", repo.path / "link")
    (repo.path / "folder").mkdir()
    assert blob_of(repo.path, "link") == git_blob_sha1(b"target.txt")
    assert blob_of(repo.path, "missing") is None
    assert blob_of(repo.path, "folder") is None
    assert reads == []


def test_damaged_cache_is_ignored_and_replaced(repo, reads):
    write_old(repo.path / "d.txt", b"data")
    (repo.path / ".git" / statcache.FILENAME).write_text("{not json")
    assert blob_of(repo.path, "d.txt") == git_blob_sha1(b"data")
    assert blob_of(repo.path, "d.txt") == git_blob_sha1(b"data")
    assert reads == ["d.txt"]


def test_can_be_turned_off(repo, reads, monkeypatch):
    monkeypatch.setenv("ACCELGIT_STATCACHE", "0")
    write_old(repo.path / "d.txt", b"data")
    assert blob_of(repo.path, "d.txt") == git_blob_sha1(b"data")
    assert not (repo.path / ".git" / statcache.FILENAME).exists()


def test_build_sees_a_same_size_edit_of_an_untracked_data_file(repo):
    repo.write("methods/reader.py", """
        files = ("data/in.txt",)

        def synthesis(files):
            with open(files["data/in.txt"]) as f:
                return f.read()
    """)
    repo.write("build.py", """
        def main(urd):
            urd.build("reader")
    """)
    repo.write(".gitignore", ".accelgit/\ndata/\n")
    repo.commit("reader")
    p = repo.path / "data" / "in.txt"
    write_old(p, b"one")
    first = repo.build()["jobs"]
    assert [j["action"] for j in first] == ["built"]
    assert [j["action"] for j in repo.build()["jobs"]] == ["reused"]
    write_old(p, b"two")                   # same size, same mtime
    again = repo.build()["jobs"]
    assert [j["action"] for j in again] == ["built"] and again[0]["id"] != first[0]["id"]
    assert json.loads((repo.path / again[0]["path"] / "result.json").read_text()) == "two"
