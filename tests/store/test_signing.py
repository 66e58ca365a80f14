"""Signatures and keys (store/signing.py, store/keys.py), in this process:
a job is trusted only when a trusted key's signature of its manifest
verifies; keys are made once, private, and never replaced."""
from __future__ import annotations

import base64
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from accelgit.core.errors import ConfigError
from accelgit.store import keys, signing
from accelgit.store.manifest import read_manifest, verified_bytes, write_manifest


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    """A user of their own: a config folder with no key yet, nothing trusted."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv(keys.ENV_TRUSTED, raising=False)
    monkeypatch.setattr(keys, "_own", None)
    monkeypatch.setattr(keys, "_trusted", None)
    monkeypatch.setattr(signing, "_verified", {})
    return tmp_path / "cfg" / "accelgit"


def a_job(folder: Path) -> Path:
    (folder / "output").mkdir(parents=True)
    (folder / "result.json").write_text('{"n": 1}')
    (folder / "output" / "x.txt").write_text("x")
    write_manifest(str(folder))
    return folder


def other_user(tmp: Path, monkeypatch) -> str:
    """Sign as someone else: returns their public key text; back to you after."""
    monkeypatch.setenv(keys.ENV_KEY_FILE, str(tmp / "other-key"))
    monkeypatch.setattr(keys, "_own", None)
    pub = keys.public_text(keys.own_key()[1])
    return pub


def test_the_key_is_made_once_private_and_not_replaced(home: Path):
    assert keys.own_key(create=False) is None and keys.trusted() == {}
    sk, pub = keys.own_key()
    path = home / "signing-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys._own = None
    assert keys.own_public() == pub                        # the file's second line: no signature library
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and lines[1] == keys.public_text(pub)
    path.write_text(lines[0] + "\n")
    assert keys.own_public() == pub                        # derived from the secret without it
    keys._own = None
    assert keys.own_key()[1] == pub                        # read back, not made again
    # a public key line that is not the secret's (someone else's key, say) is refused
    keys._own = None
    other = keys.public_text(b"\1" * 32)
    path.write_text(lines[0] + "\n" + other + "\n")
    with pytest.raises(ConfigError, match="its public key line is not the secret key's"):
        keys.own_key()
    path.write_text("\n".join(lines) + "\n")
    assert keys.trusted() == {keys.key_id(pub): pub}


def test_racing_threads_make_one_key(home: Path):
    got = []
    ts = [threading.Thread(target=lambda: got.append(keys._make_key(str(home / "signing-key")))) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(set(got)) == 1 and sorted(os.listdir(home)) == ["signing-key"]


def test_a_key_others_can_read_is_refused(home: Path):
    keys.own_key()
    os.chmod(home / "signing-key", 0o644)
    keys._own = None
    with pytest.raises(ConfigError, match=r"signing-key: permissions 0644 are too open .* chmod 600"):
        keys.own_key()


def test_a_damaged_key_file_is_one_clear_error(home: Path):
    home.mkdir(parents=True)
    (home / "signing-key").write_text("hello\n")
    os.chmod(home / "signing-key", 0o600)
    with pytest.raises(ConfigError, match=r"signing-key: not an accelgit signing key"):
        keys.own_key()


def test_signed_jobs_load_and_tampered_signatures_do_not(home: Path, tmp_path: Path):
    job = a_job(tmp_path / "j")
    kid = signing.sign(str(job))
    signing._verified.clear()
    assert signing.signer(str(job)) == kid
    assert verified_bytes(str(job), "result.json") == b'{"n": 1}'
    # the manifest rewritten (as an attacker would, to list a file of theirs): the signature no longer matches
    m = read_manifest(str(job))
    m["files"]["output/y.txt"] = {"sha256": "0" * 64, "size": 0}
    (job / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(signing.Untrusted, match=rf"not loaded: its signature by {kid} does not match its manifest"):
        verified_bytes(str(job), "result.json")
    # a signature of other bytes (a process that checked these manifest bytes once need not again: a new one)
    write_manifest(str(job))
    signing._verified.clear()
    doc = json.loads((job / "signature.json").read_text())
    doc["signature"] = base64.b64encode(b"\0" * 64).decode()
    (job / "signature.json").write_text(json.dumps(doc))
    assert signing.trust_problem(str(job)) == f"its signature by {kid} does not match its manifest"
    (job / "signature.json").unlink()
    signing._verified.clear()
    assert signing.trust_problem(str(job)) == "unsigned"
    (job / "signature.json").write_text("{")
    assert signing.trust_problem(str(job)) == "signature.json cannot be read"


def test_only_trusted_keys_count(home: Path, tmp_path: Path, monkeypatch):
    mine = keys.own_key()[1]
    theirs = other_user(tmp_path, monkeypatch)
    job = a_job(tmp_path / "j")
    kid = signing.sign(str(job))
    monkeypatch.delenv(keys.ENV_KEY_FILE)
    monkeypatch.setattr(keys, "_own", None)
    monkeypatch.setattr(keys, "_trusted", None)
    monkeypatch.setattr(signing, "_verified", {})
    assert keys.own_key()[1] == mine
    assert kid == keys.key_id(keys.parse_public(theirs)) != keys.key_id(mine)
    with pytest.raises(signing.Untrusted, match=rf"not loaded: signed by {kid}, not a key you trust"):
        verified_bytes(str(job), "result.json")
    # trusted through the user's file ...
    keys.write_user_trusted([theirs])
    keys._trusted = None
    assert signing.signer(str(job)) == kid
    # ... or the repository's trusted_keys, handed down to child processes in the environment
    keys.write_user_trusted([])
    signing._verified.clear()

    class Config:
        trusted_keys, source = [theirs], "accelgit.toml"
    keys.hand_down(Config)
    assert os.environ[keys.ENV_TRUSTED] == theirs and signing.signer(str(job)) == kid
    Config.trusted_keys = ["ed25519:nope"]
    with pytest.raises(ConfigError, match=r"accelgit.toml: 'trusted_keys': 'ed25519:nope' is not an ed25519 public key"):
        keys.hand_down(Config)
