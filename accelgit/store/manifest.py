"""A job's manifest (SPEC §6): the sha256 and size of every file of the job
folder, written last (a folder without it is not a job), and the checked
read of a job's file against it: nothing from a workdir (a pickle above
all) is used without that check."""
from __future__ import annotations

import hashlib
import json
import os

from accelgit.core.errors import IntegrityError
from accelgit.core.jsontext import member_lines
from accelgit.git.filehash import feed
from accelgit.store.jobdir import read_at
from accelgit.store.layout import MANIFEST, UNSIGNED
from accelgit.store.signing import signer


def file_sha256(path: str) -> str:
    return file_digest(path)[0]


def file_digest(path: str) -> tuple[str, int]:
    """sha256 (hex) and size of the file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        size = feed(f, h, os.fstat(f.fileno()).st_size)
    return h.hexdigest(), size


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def walk_files(root: str) -> list[str]:
    """Every file below ``root`` as a relative path with ``/``, sorted.  Like
    ``os.walk``: a symbolic link to a folder is neither listed nor followed."""
    out: list = []
    _scan(root, "", out, False)
    out.sort()
    return out


def _scan(folder: str, prefix: str, out: list, entries: bool) -> None:
    """Append ``rel`` (``entries``: ``(rel, DirEntry)``) of each file below ``folder``."""
    try:
        it = os.scandir(folder)
    except OSError:
        return
    with it:
        for e in it:
            try:
                is_dir = e.is_dir()
            except OSError:
                is_dir = False
            if not is_dir:
                out.append((prefix + e.name, e) if entries else prefix + e.name)
            elif not e.is_symlink():
                _scan(e.path, prefix + e.name + "/", out, entries)


def scan(jobdir: str) -> list:
    """``(rel, DirEntry)`` of every file below ``jobdir``: one walk for both
    ``irregular_files`` and ``write_manifest`` of a job just built."""
    found: list = []
    _scan(jobdir, "", found, True)
    return found


def irregular_files(jobdir: str, found: list | None = None) -> list[str]:
    """The entries below ``jobdir`` (``found``: its ``scan``) that are neither
    regular files nor folders (FIFOs, devices, sockets, symbolic links),
    sorted: a job may not hold them (hashing a FIFO or /dev/zero never ends)."""
    if found is None:
        found = scan(jobdir)
    out = []
    for rel, entry in found:
        try:
            if not entry.is_file(follow_symlinks=False):
                out.append(rel)
        except OSError:
            out.append(rel)
    return sorted(out)


def write_manifest(jobdir: str, in_place: bool = False, written: dict | None = None, found: list | None = None,
                   stats: dict | None = None) -> bytes:
    """sha256 and size of every file but the manifest (and its signature),
    written atomically; returns the bytes written (what a signature signs)
    (``in_place``: straight into its file, for a job folder still in ``.tmp``,
    which becomes a job only by the rename that follows).  ``written``: ``rel ->
    (sha256, size)`` of files the caller wrote itself (job.json, the source
    copies): recorded as written, not read back; if the job changed one, verify
    reports it.  An empty file is not opened.  ``found``: the folder's ``scan``,
    when taken; ``stats``: given a dict, it gets ``rel -> stat result`` of each
    file this stat'ed (what the reuse check records: jobcheck.record)."""
    if found is None:
        found = scan(jobdir)
    files = {}
    for rel, entry in found:
        if rel in UNSIGNED:
            continue
        known = written.get(rel) if written else None
        if known is not None:
            sha, size = known
        else:
            try:
                st = entry.stat(follow_symlinks=True)
                empty = st.st_size == 0
                if stats is not None:
                    stats[rel] = st
            except OSError:
                empty = False
            sha, size = (EMPTY_SHA256, 0) if empty else file_digest(entry.path)
        files[rel] = {"sha256": sha, "size": size}
    manifest = {"format": 1, "files": files}
    final = os.path.join(jobdir, MANIFEST)
    tmp = final if in_place else final + ".tmp"
    if os.environ.get("ACCELGIT_TEST_FAIL_MANIFEST"):      # fault injection (tests): a full disk
        import errno
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), tmp)
    text = member_lines(manifest, ("files",)).encode("utf-8")
    with open(tmp, "wb") as f:
        f.write(text)
    if not in_place:
        os.replace(tmp, final)
    return text


def read_manifest(jobdir: str) -> dict:
    """The manifest of ``jobdir`` (its signature unchecked: ``verified_bytes``
    checks it)."""
    fd = _open_dir(jobdir)
    try:
        return _manifest_at(fd, jobdir, False)
    finally:
        os.close(fd)


def verified_bytes(jobdir: str, rel: str) -> bytes:
    """The bytes of ``rel`` in a job, after checking that a trusted key signed
    the job's manifest and the bytes match it.  Nothing from a workdir (a
    pickle above all) is used without this check.  All three files are read
    from one open folder: a forced rebuild that swaps the job meanwhile gives
    the old job's files or the new one's, never a mix."""
    fd = _open_dir(jobdir)
    try:
        entry = _manifest_at(fd, jobdir, True)["files"].get(rel)
        if entry is None:
            raise IntegrityError(f"{jobdir}: {rel} is not in the job's manifest")
        data = read_at(fd, rel)
    finally:
        os.close(fd)
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise IntegrityError(f"{jobdir}: {rel} does not match its manifest (modified after the build; "
                             f"'accelgit build' moves the job aside and builds it again)")
    return data


def _open_dir(jobdir: str) -> int:
    try:
        return os.open(jobdir, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        raise IntegrityError(f"{jobdir}: no manifest.json, so this is not a complete job") from None


def _manifest_at(fd: int, jobdir: str, trusted: bool) -> dict:
    try:
        data = read_at(fd, MANIFEST)
    except FileNotFoundError:
        raise IntegrityError(f"{jobdir}: no manifest.json, so this is not a complete job") from None
    if trusted:
        signer(jobdir, data, dir_fd=fd)
    try:
        m = json.loads(data)
    except ValueError:
        raise IntegrityError(f"{jobdir}: manifest.json is not valid JSON") from None
    if not isinstance(m, dict) or not isinstance(m.get("files"), dict):
        raise IntegrityError(f"{jobdir}: manifest.json has no 'files' table")
    return m
