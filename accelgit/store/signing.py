"""A job's signature (SPEC §6, docs/security.md): ``signature.json`` holds the
builder's public key and its ed25519 signature of the sha256 of the job's
``manifest.json``.  It is written after the manifest, before the rename that
publishes the job; the manifest does not list it.

A job is *trusted* when its signature verifies with a trusted key (keys.py).
Nothing of an untrusted job is loaded, unpickled, imported or executed: every
checked read of a job's file (``manifest.verified_bytes``) asks ``signer``
first, and reuse skips untrusted jobs (workdir.py).  The signature proves who
built the job, not that its code was benign.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os

from accelgit.core.errors import IntegrityError
from accelgit.core.jsontext import member_lines
from accelgit.store import keys
from accelgit.store.jobdir import read_at
from accelgit.store.layout import MANIFEST, SIGNATURE


class Untrusted(IntegrityError):
    """A job that is not signed by a trusted key.  ``short``: why, in a few
    words (``unsigned``, ``signed by KEYID``, ...)."""

    def __init__(self, jobdir: str, short: str):
        super().__init__(f"{jobdir}: not loaded: {short}, not a key you trust (see accelgit trust)")
        self.short = short


def sign(jobdir: str, manifest: bytes | None = None) -> str:
    """Sign ``jobdir``'s manifest (``manifest``: its bytes, when known) with
    your key; its key id."""
    sk, pub = keys.own_key()
    if manifest is None:
        with open(os.path.join(jobdir, MANIFEST), "rb") as f:
            manifest = f.read()
    digest = hashlib.sha256(manifest).digest()
    doc = {"format": 1, "key": keys.public_text(pub), "key_id": keys.key_id(pub),
           "signature": base64.b64encode(sk.sign(digest).signature).decode("ascii")}
    with open(os.path.join(jobdir, SIGNATURE), "wb") as f:
        f.write(member_lines(doc).encode("ascii"))      # json.dumps(indent=1)'s bytes, by the C encoder
    _verified[jobdir] = (digest, doc["key_id"])
    return doc["key_id"]


_verified: dict[str, tuple] = {}    # jobdir -> (manifest digest, key id), checked by this process


def signer(jobdir: str, manifest: bytes | None = None, dir_fd: int | None = None) -> str:
    """The id of the trusted key whose signature of ``jobdir``'s manifest
    (``manifest``: its bytes, when read already; ``dir_fd``: the job folder,
    open) verifies; else ``Untrusted``."""
    def read(name: str) -> bytes:
        return read_at(dir_fd, name if dir_fd is not None else os.path.join(jobdir, name))
    if manifest is None:
        manifest = read(MANIFEST)
    digest = hashlib.sha256(manifest).digest()
    known = _verified.get(jobdir)
    if known is not None and known[0] == digest and known[1] in keys.trusted():
        return known[1]
    try:
        doc = json.loads(read(SIGNATURE))
        pub = keys.parse_public(doc["key"])
        sig = base64.b64decode(doc["signature"], validate=True)
    except FileNotFoundError:
        raise Untrusted(jobdir, "unsigned") from None
    except (OSError, ValueError, KeyError, TypeError, binascii.Error):
        raise Untrusted(jobdir, f"{SIGNATURE} cannot be read") from None
    kid = keys.key_id(pub)
    if keys.trusted().get(kid) != pub:          # the whole key, not only its 64-bit id
        raise Untrusted(jobdir, f"signed by {kid}")
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey
    try:
        VerifyKey(pub).verify(digest, sig)
    except (BadSignatureError, ValueError):
        raise Untrusted(jobdir, f"its signature by {kid} does not match its manifest") from None
    _verified[jobdir] = (digest, kid)
    return kid


def is_damage(short: str) -> bool:
    """Whether ``Untrusted.short`` says the signature is there but broken
    (unreadable, or not matching the manifest: the folder changed after it was
    signed), rather than missing or made by a key you do not trust."""
    return short == f"{SIGNATURE} cannot be read" or short.endswith(" does not match its manifest")


def trust_problem(jobdir: str) -> str | None:
    """Why ``jobdir`` is not trusted (``Untrusted.short``), or None if it is."""
    try:
        signer(jobdir)
    except Untrusted as e:
        return e.short
    except OSError:
        return "no manifest.json"
    return None
