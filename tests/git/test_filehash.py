"""filehash.feed: the hash of a whole file, whatever its size, and whatever the
stat said (a file that grew between the stat and the read is read to its end)."""
from __future__ import annotations

import hashlib
import json
import os

import pytest

from accelgit.core.identity import git_blob_sha1
from accelgit.git.filehash import CHUNK, feed
from accelgit.git.statcache import _stream_sha1
from accelgit.store.manifest import file_digest, write_manifest


@pytest.mark.parametrize("size", [0, 1, 4095, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 5])
def test_feed_hashes_every_byte(tmp_path, size):
    data = os.urandom(size)
    p = tmp_path / "f"
    p.write_bytes(data)
    h = hashlib.sha256()
    with open(p, "rb", buffering=0) as f:
        assert feed(f, h, size) == size
    assert h.hexdigest() == hashlib.sha256(data).hexdigest()
    assert file_digest(str(p)) == (hashlib.sha256(data).hexdigest(), size)


@pytest.mark.parametrize("told", [0, 10, CHUNK - 1])
def test_a_file_larger_than_its_stat_said_is_read_to_the_end(tmp_path, told):
    data = os.urandom(CHUNK + 123)
    p = tmp_path / "f"
    p.write_bytes(data)
    h = hashlib.sha256()
    with open(p, "rb", buffering=0) as f:
        assert feed(f, h, told) == len(data)
    assert h.hexdigest() == hashlib.sha256(data).hexdigest()


def test_git_blob_sha1_of_a_stream_refuses_a_size_mismatch(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"hello\n")
    with open(p, "rb", buffering=0) as f:
        assert _stream_sha1(f, 6) == ("ce013625030ba8dba906f756967f9e9ca394464a", False)    # git hash-object
    with open(p, "rb", buffering=0) as f:
        assert _stream_sha1(f, 5)[0] is None


@pytest.mark.parametrize("at", [0, 100, CHUNK - 1, CHUNK, CHUNK + 5])
def test_a_cr_byte_is_noted_wherever_it_is(tmp_path, at):
    """(Only files with a CR byte can change under git's line-end conversion: convert.py.)"""
    data = bytearray(b"x" * (CHUNK + 10))
    data[at] = 13
    p = tmp_path / "f"
    p.write_bytes(bytes(data))
    with open(p, "rb", buffering=0) as f:
        assert _stream_sha1(f, len(data)) == (git_blob_sha1(bytes(data)), True)
    p.write_bytes(b"no cr\n")
    with open(p, "rb", buffering=0) as f:
        assert _stream_sha1(f, 6)[1] is False


def test_the_manifest_records_empty_files_without_opening_them_and_as_read(tmp_path):
    """write_manifest takes a shortcut for empty files: its entry must be what
    reading the file gives (verify compares the two)."""
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "empty").write_bytes(b"")
    (tmp_path / "output" / "one").write_bytes(b"x")
    os.chmod(tmp_path / "output" / "empty", 0)          # not readable: the shortcut must not open it
    try:
        files = json.loads(write_manifest(str(tmp_path)))["files"]
    finally:
        os.chmod(tmp_path / "output" / "empty", 0o644)
    assert files["output/empty"] == {"sha256": file_digest(str(tmp_path / "output" / "empty"))[0], "size": 0}
    assert files["output/one"] == {"sha256": hashlib.sha256(b"x").hexdigest(), "size": 1}
