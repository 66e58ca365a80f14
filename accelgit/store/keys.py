"""The builder's signing key and the public keys it trusts (docs/security.md).

Outside every repository and workdir, in the user's config folder
(``$XDG_CONFIG_HOME/accelgit``, else ``~/.config/accelgit``):

* ``signing-key``: this user's ed25519 secret key and (second line) its
  public key, made on the first build (mode 0600; refused when others may
  read it or it is not yours, as ssh does).
  ``ACCELGIT_KEY_FILE`` names another file (a CI secret, say);
* ``trusted-keys``: public keys (besides your own) whose jobs may be loaded,
  one a line, as ``accelgit trust add`` writes them.

A public key is written ``ed25519:<base64 of its 32 bytes>``; its *key id* is
the first 16 hex digits of the key's sha256.  The trusted keys are your own,
those in ``trusted-keys``, and those of the repository's ``trusted_keys``
(config), which a command hands its child processes in the environment
(``ACCELGIT_TRUSTED_KEYS``).  The signature library (PyNaCl) is imported only
to sign or verify.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat

from accelgit.core.errors import ConfigError

PREFIX = "ed25519:"
_SECRET_PREFIX = "ed25519-secret:"
KEY_FILE, TRUST_FILE = "signing-key", "trusted-keys"
ENV_KEY_FILE, ENV_TRUSTED = "ACCELGIT_KEY_FILE", "ACCELGIT_TRUSTED_KEYS"


def config_dir() -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "accelgit")


def key_file() -> str:
    return os.environ.get(ENV_KEY_FILE) or os.path.join(config_dir(), KEY_FILE)


def trust_file() -> str:
    return os.path.join(config_dir(), TRUST_FILE)


# -- public keys as text
def parse_public(text: str) -> bytes:
    """The 32 bytes of a public key written ``ed25519:BASE64`` (or bare base64)."""
    body = text.strip()
    if body.startswith(PREFIX):
        body = body[len(PREFIX):]
    raw = _key_bytes(body)
    if raw is None:
        raise ValueError(f"{text.strip()!r} is not an ed25519 public key (want ed25519:BASE64 of 32 bytes)")
    return raw


def _key_bytes(b64: str) -> bytes | None:
    """The 32 bytes a key's base64 text stands for, else None."""
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def public_text(raw: bytes) -> str:
    return PREFIX + base64.b64encode(raw).decode("ascii")


def key_id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


# -- your own key
_own = None          # (nacl SigningKey, public bytes), once read


def own_key(create: bool = True):
    """``(SigningKey, public key bytes)`` of this user, made on first use
    (``create``); None when there is none and ``create`` is false."""
    global _own, _trusted
    if _own is not None:
        return _own
    path = key_file()
    try:
        seed, pub = _read_key(path)
    except FileNotFoundError:
        if not create:
            return None
        seed, pub = _make_key(path)
    from nacl.signing import SigningKey
    sk = SigningKey(seed)
    if pub is not None and pub != bytes(sk.verify_key):
        raise ConfigError(f"{path}: its public key line is not the secret key's; remove that line")
    _own = (sk, bytes(sk.verify_key))
    _trusted = None             # now with this key
    return _own


def own_public() -> bytes | None:
    """Your public key, if you have a key: from the key file's second line
    (the same private file as the secret), so that checking a signature needs
    no signature library; derived from the secret where that line is missing."""
    if _own is not None:
        return _own[1]
    try:
        _, pub = _read_key(key_file())
    except FileNotFoundError:
        return None
    if pub is None:
        return own_key(create=False)[1]
    return pub


def _read_key(path: str) -> tuple[bytes, bytes | None]:
    """``(secret seed, public key or None)`` of a key file: line 1
    ``ed25519-secret:BASE64``, line 2 (optional) ``ed25519:BASE64``.  Refused
    unless it is yours and private (as ssh does)."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        data = f.read(4096)
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path}: permissions {stat.S_IMODE(st.st_mode):04o} are too open for a signing key "
                          f"(others may read it); run: chmod 600 {path}")
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise ConfigError(f"{path}: a signing key must belong to you (it belongs to uid {st.st_uid})")
    lines = data.decode("ascii", "replace").split()
    first = lines[0] if lines else ""
    seed = _key_bytes(first[len(_SECRET_PREFIX):]) if first.startswith(_SECRET_PREFIX) else None
    if seed is None:
        raise ConfigError(f"{path}: not an accelgit signing key (want one line {_SECRET_PREFIX}BASE64)")
    pub = None
    if len(lines) > 1:
        try:
            pub = parse_public(lines[1])
        except ValueError:
            raise ConfigError(f"{path}: its second line is not a public key (ed25519:BASE64)") from None
    return seed, pub


def _make_key(path: str) -> tuple[bytes, bytes]:
    """A new key in ``path`` (0600: the secret, then its public key), made
    whole before it appears; if another process made one first, that one."""
    from nacl.signing import SigningKey
    sk = SigningKey.generate()
    seed, pub = bytes(sk), bytes(sk.verify_key)
    text = _SECRET_PREFIX + base64.b64encode(seed).decode("ascii") + "\n" + public_text(pub) + "\n"
    folder = os.path.dirname(path) or "."
    tmp = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"      # threads of one build may race here
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)          # never replaces a key another process made meanwhile
        except FileExistsError:
            return _read_key(path)
        except OSError:                 # no hard links here: the name, made exclusively
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return _read_key(path)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(text)
    except OSError as e:
        raise ConfigError(f"{path}: cannot create the signing key: {e.strerror or e}") from None
    finally:
        try:
            os.remove(tmp)
        except OSError:
            pass
    return seed, pub


# -- the keys you trust
def user_trusted() -> list[str]:
    """The keys of ``trusted-keys``, as written there."""
    try:
        with open(trust_file(), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{trust_file()}: cannot be read: {e}") from None
    return [ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip()]


def write_user_trusted(keys: list[str]) -> None:
    path = trust_file()
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("# public keys whose accelgit jobs you trust (accelgit trust add|remove)\n")
        f.writelines(k + "\n" for k in keys)
    os.replace(tmp, path)


def hand_down(config) -> None:
    """The repository's ``trusted_keys`` (config), for this process and its
    children (build scripts, the fork server, job processes)."""
    global _trusted
    for t in config.trusted_keys:
        try:
            parse_public(t)
        except ValueError as e:
            raise ConfigError(f"{config.source or 'config'}: 'trusted_keys': {e}") from None
    text = " ".join(config.trusted_keys)
    if os.environ.get(ENV_TRUSTED, "") != text:
        os.environ[ENV_TRUSTED] = text
        _trusted = None


def also_trust(texts: list[str]) -> None:
    """Trust these public keys too, in this process and its children: a job run
    on a Dask worker trusts the keys its build trusts (build/daskexec.py)."""
    global _trusted
    have = os.environ.get(ENV_TRUSTED, "").split()
    extra = [t for t in texts if t not in have]
    if extra:
        os.environ[ENV_TRUSTED] = " ".join(have + extra)
        _trusted = None


def trusted_texts() -> list[str]:
    """Every trusted public key (your own first), written ``ed25519:BASE64``."""
    return [public_text(raw) for raw in trusted().values()]


_trusted: dict | None = None


def trusted() -> dict[str, bytes]:
    """``{key id: public key bytes}`` of every trusted key."""
    global _trusted
    if _trusted is None:
        out = {}
        own = own_public()
        if own is not None:
            out[key_id(own)] = own
        for where, texts in ((trust_file(), user_trusted()),
                             (ENV_TRUSTED, os.environ.get(ENV_TRUSTED, "").split())):
            for t in texts:
                try:
                    raw = parse_public(t)
                except ValueError as e:
                    raise ConfigError(f"{where}: {e}") from None
                out[key_id(raw)] = raw
        _trusted = out
    return _trusted
