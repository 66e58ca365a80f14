"""``accelgit trust show|add|remove``: your signing key and the keys whose
jobs you trust (store/keys.py, docs/security.md)."""
from __future__ import annotations

import os

from accelgit.commands.output import emit
from accelgit.core.errors import UsageError
from accelgit.store import keys


def _repo_keys(directory: str | None) -> tuple[list[str], str | None]:
    """The ``trusted_keys`` of the repository here (none outside one)."""
    from accelgit.commands.context import open_repo
    from accelgit.core.errors import GitError
    try:
        _, config = open_repo(directory)
    except GitError:
        return [], None
    return config.trusted_keys, config.source


def _entries(directory: str | None) -> list[dict]:
    out, seen = [], set()
    repo_keys, source = _repo_keys(directory)
    for where, texts in ((keys.trust_file(), keys.user_trusted()), (f"{source}: trusted_keys", repo_keys)):
        for t in texts:
            raw = _parse(t, where)
            kid = keys.key_id(raw)
            if kid not in seen:
                seen.add(kid)
                out.append({"key": keys.public_text(raw), "key_id": kid, "from": where})
    return out


def _parse(text: str, where: str = "KEY") -> bytes:
    try:
        return keys.parse_public(text)
    except ValueError as e:
        raise UsageError(f"{where}: {e}") from None


def show_command(*, directory: str | None, as_json: bool) -> int:
    _, pub = keys.own_key()
    doc = {"key": keys.public_text(pub), "key_id": keys.key_id(pub), "key_file": keys.key_file(),
           "trusted": _entries(directory)}
    if as_json:
        emit(doc)
        return 0
    print(f"your key  {doc['key']}  (id {doc['key_id']}; {doc['key_file']})")
    for e in doc["trusted"]:
        print(f"trusted   {e['key']}  (id {e['key_id']}; {e['from']})")
    if not doc["trusted"]:
        print("trusted   no other keys: jobs others built are not loaded (accelgit trust add KEY)")
    return 0


def add_command(*, directory: str | None, as_json: bool, key: str) -> int:
    raw = _parse(key)
    text, kid = keys.public_text(raw), keys.key_id(raw)
    own = keys.own_key(create=False)
    listed = [keys.key_id(_parse(t, keys.trust_file())) for t in keys.user_trusted()]
    if own is not None and own[1] == raw:
        action = "own"
    elif kid in listed:
        action = "unchanged"
    else:
        keys.write_user_trusted(keys.user_trusted() + [text])
        action = "added"
    if as_json:
        emit({"action": action, "key": text, "key_id": kid, "file": keys.trust_file()})
    else:
        print({"own": f"{kid} is your own key: trusted already",
               "unchanged": f"{kid} is trusted already ({keys.trust_file()})",
               "added": f"trusted {kid} ({keys.trust_file()})"}[action])
    return 0


def remove_command(*, directory: str | None, as_json: bool, key: str) -> int:
    """``key``: a public key or its key id."""
    kept, gone = [], []
    for t in keys.user_trusted():
        raw = _parse(t, keys.trust_file())
        (gone if key.strip() in (keys.key_id(raw), t.strip(), keys.public_text(raw)) else kept).append(t)
    if not gone:
        wanted = key.strip()
        try:
            wanted = keys.key_id(keys.parse_public(key))
        except ValueError:
            pass
        own = keys.own_key(create=False)
        if own is not None and keys.key_id(own[1]) == wanted:
            raise UsageError(f"{wanted} is your own key: it is always trusted")
        for e in _entries(directory):
            if e["key_id"] == wanted:
                raise UsageError(f"{wanted} is trusted by {e['from']}: remove it there")
        raise UsageError(f"{key}: not a trusted key (accelgit trust show lists them)")
    keys.write_user_trusted(kept)
    kid = keys.key_id(_parse(gone[0]))
    if as_json:
        emit({"action": "removed", "key_id": kid, "file": keys.trust_file()})
    else:
        print(f"no longer trusted: {kid} ({keys.trust_file()})")
    return 0


def sign_command(repo, config, *, cwd: str, as_json: bool, jobs: list[str], workdir: str | None) -> int:
    """Sign jobs with your key, as ``nix store sign`` does: the unsigned jobs
    of a workdir (jobs built before signatures, say), or the JOBs named
    (whoever signed them).  Only a job whose files are as its manifest says."""
    from accelgit.commands.verify.checks import whole
    from accelgit.commands.verify.select import Target
    from accelgit.store.jobdir import read_params, scan_jobs
    from accelgit.store.signing import sign, trust_problem
    from accelgit.store.workdir import Store
    store = Store(config)
    if jobs:
        if workdir:
            raise UsageError("give JOBs or --workdir, not both")
        paths = [store.resolve(j) for j in jobs]
    else:
        wd = store.workdir(workdir)
        if os.path.isdir(wd.path) and os.stat(wd.path).st_mode & 0o022:
            raise UsageError(f"workdir {wd.name} ({wd.path}) can be written by others, so its unsigned jobs "
                             f"may be anyone's: name the jobs you vouch for")
        paths = [p for p in (os.path.join(wd.path, name) for name, _ in scan_jobs(wd.path))
                 if trust_problem(p) == "unsigned"]
    done, refused = [], []
    for path in paths:
        params, err = read_params(path)
        problems: list = []
        whole(Target(path, params=params, params_error=err), problems)
        if problems:
            refused.append({"path": path, "why": "; ".join(problems)})
            continue
        sign(path)
        done.append(path)
    if as_json:
        emit({"signed": done, "refused": refused})
    else:
        for path in done:
            print(f"signed   {os.path.basename(path)}")
        for r in refused:
            print(f"refused  {os.path.basename(r['path'])}  ({r['why']})")
        print(f"{len(done)} signed, {len(refused)} refused" if paths else "nothing to sign")
    return 1 if refused else 0
