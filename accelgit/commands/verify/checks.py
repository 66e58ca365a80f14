"""``accelgit verify``: checks stored jobs (SPEC §6, §7).

Per job, every check runs (none stops at the first failure):

* ``integrity``: the job's files match manifest.json, which a trusted key
  signed (signature.json); the source copies match the blob hashes recorded
  in job.json;
* ``identity``: job.json's recorded components give the job's id and its
  directory name, and its sources give its recorded source digest;
* ``currency``: the job is what the work tree (or ``--at REV``) gives today;
* ``provenance``: the recorded commit exists here and holds the recorded
  blobs; uncommitted content is a warning (a failure with ``--strict``);
* ``reproducible`` (``--rerun``): see rerun.py.

Which jobs a command checks is verify_select.py's job.

Verify only reads workdirs: it never opens their index, never writes into a
job, and never unpickles anything from a job whose integrity check failed.
"""
from __future__ import annotations

import json
import os

from accelgit.commands.verify.select import (
    SHOW,
    Target,
    names,
    short,
)
from accelgit.core.errors import GitError, MethodError, UsageError
from accelgit.core.identity import (
    decode_value,
    encode_value,
    git_blob_sha1,
    job_dirname,
    job_id,
    source_digest,
)
from accelgit.plan.diff import MISSING, diff, identity
from accelgit.store.jobdir import read_at, read_params, used_ids
from accelgit.store.layout import MANIFEST, SOURCE, UNSIGNED
from accelgit.store.manifest import file_sha256, irregular_files, walk_files
from accelgit.store.signing import Untrusted, signer
from accelgit.store.workdir import Store

CHECKS = ("integrity", "identity", "currency", "provenance", "reproducible")

# --------------------------------------------------------------- integrity / identity


def check_integrity(t: Target) -> tuple[bool, str]:
    problems, signed = [], None
    n, k = whole(t, problems)
    if os.path.isfile(os.path.join(t.path, MANIFEST)):
        try:
            signed = signer(t.path)
        except Untrusted as e:
            problems.append(f"not trusted: {e.short}")
        except OSError as e:
            problems.append(f"manifest.json cannot be read: {e}")
    if problems:
        return False, "; ".join(problems)
    copies = "its source copy matches its blob" if k == 1 else f"all {k} source copies match their blobs"
    return True, f"{n} files match manifest.json, signed by {signed}; {copies}"


def whole(t: Target, problems: list) -> tuple[int, int]:
    """Whether the job's files are as its manifest and job.json record them
    (its signature aside): appends what is not to ``problems``; the number of
    files and of source copies."""
    try:
        manifest = json.loads(read_at(None, os.path.join(t.path, MANIFEST)))     # (a FIFO: refused, not waited on)
        files = manifest.get("files") if isinstance(manifest, dict) else None
        if not isinstance(files, dict):
            raise ValueError("it has no 'files' table")
    except FileNotFoundError:
        files = None
        problems.append("manifest.json is missing, so this is not a complete job")
    except (OSError, ValueError) as e:
        files = None
        problems.append(f"manifest.json cannot be read: {e}")
    n = 0
    if files is not None:
        actual = set(walk_files(t.path)) - set(UNSIGNED)
        odd = irregular_files(t.path)           # never opened: reading a FIFO or /dev/zero never ends
        if odd:
            problems.append(f"not regular files: {names(odd)}")
        modified = []
        for rel in sorted(actual & set(files) - set(odd)):
            entry = files[rel] if isinstance(files[rel], dict) else {}
            p = os.path.join(t.path, *rel.split("/"))
            if os.path.getsize(p) != entry.get("size") or file_sha256(p) != entry.get("sha256"):
                modified.append(rel)
        missing = sorted(set(files) - actual)
        extra = sorted(actual - set(files))
        n = len(actual)
        for what, paths in (("modified", modified), ("missing", missing), ("extra", extra)):
            if paths:
                problems.append(f"{what}: {names(paths)}")
    sources = (t.params or {}).get("sources")
    if t.params is None:
        problems.append(t.params_error or "job.json cannot be read")
    elif not isinstance(sources, dict):
        problems.append("job.json records no 'sources'")
    else:
        bad, gone = [], []
        for rel, blob in sorted(sources.items()):
            p = os.path.join(t.path, SOURCE, *rel.split("/"))
            try:
                with open(p, "rb") as f:
                    if git_blob_sha1(f.read()) != blob:
                        bad.append(f"source/{rel}")
            except OSError:
                gone.append(f"source/{rel}")
        if bad:
            problems.append(f"source copies differ from their recorded blobs: {names(bad)}")
        if gone:
            problems.append(f"source copies missing: {names(gone)}")
    return n, len(sources) if isinstance(sources, dict) else 0


def check_identity(t: Target) -> tuple[bool, str]:
    p = t.params
    if p is None:
        return False, t.params_error or "job.json cannot be read"
    missing = [k for k in ("id", "method", "source", "options", "jobs", "files", "sources") if k not in p]
    if missing:
        return False, f"job.json lacks {', '.join(missing)}"
    problems = []
    try:
        digest = source_digest(p["sources"])
        jid = job_id(p["method"], p["source"], p["options"], p["jobs"], p["files"])
    except (TypeError, ValueError, AttributeError) as e:
        return False, f"job.json's recorded components cannot be hashed: {e}"
    if digest != p["source"]:
        problems.append(f"recorded source digest {short(p['source'])} is not the digest of the recorded "
                        f"sources ({short(digest)})")
    if jid != p["id"]:
        problems.append(f"job.json's method, source, options, jobs and files give id {short(jid)}, "
                        f"not the recorded {short(p['id'])}")
    if t.path and os.path.basename(t.path) != job_dirname(str(p["method"]), jid):
        problems.append(f"directory name {os.path.basename(t.path)} does not match the id "
                        f"(expected {job_dirname(str(p['method']), jid)})")
    if t.id and t.id != p["id"]:
        problems.append(f"expected job {short(t.id)}, job.json says {short(p['id'])}")
    if problems:
        return False, "; ".join(problems)
    return True, f"id {short(jid)} and source digest match job.json"

# --------------------------------------------------------------- currency


class Currency:
    """Is a job what the view gives today?  Inputs count: a job whose input is
    not current is not current either (a build would give it a new id)."""

    def __init__(self, repo, config, store: Store, at: str | None):
        from accelgit.git.views import make_view
        from accelgit.methods.registry import Methods
        self.store = store
        self.view = make_view(repo, at=at)
        self.methods = Methods(self.view, config.methods)
        self.where = "the work tree" if self.view.kind == "worktree" else f"commit {self.view.label[:12]}"
        self._memo: dict[str, tuple[bool, str]] = {}
        self._listing: dict = {}

    def close(self) -> None:
        self.view.close()

    def check(self, params: dict) -> tuple[bool, str]:
        jid = params.get("id")
        if jid in self._memo:
            return self._memo[jid]
        self._memo[jid] = (False, "input cycle")
        try:
            changes, note = self._changes(params)
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            changes, note = [f"job.json is malformed: {type(e).__name__}: {e}"], ""
        if changes:
            res = (False, f"not current in {self.where}: " + "; ".join(changes))
        else:
            res = (True, f"current in {self.where}{note}")
        self._memo[jid] = res
        return res

    def _changes(self, p: dict) -> tuple[list[str], str]:
        from accelgit.methods.options import coerce_value
        name = p["method"]
        try:
            m = self.methods.get(name)
        except MethodError as e:
            if str(e).startswith("unknown method"):
                return [f"method '{name}' no longer exists"], ""
            return [f"method '{name}' cannot be read: {e}"], ""
        changes, note = [], ""
        rec = p["sources"]
        recorded = source_digest(rec)      # identity checks that it is p["source"]
        equivalent = m.digest != recorded and recorded in m.equivalent
        if equivalent:
            note = " (through equivalent_hashes)"
        was = identity(rec, recorded, {}, p["files"])
        now = identity(m.sources, m.digest, {}, {q: self.view.blob(q) for q in m.files})
        for kind, q, a, b in diff(was, now, ("source", "file")):
            a, b = (None if a is MISSING else a), (None if b is MISSING else b)
            if kind == "source":
                if not equivalent:
                    changes.append(f"source {q}: {short(a)} → {short(b)}")
            elif q not in m.files:
                changes.append(f"file {q} is no longer declared")
            elif q not in p["files"]:
                changes.append(f"file {q} is newly declared")
            else:
                changes.append(f"file {q}: {short(a)} → {short(b) if b else 'deleted'}")
        opts = p["options"]
        for k in sorted(set(opts) - set(m.options)):
            changes.append(f"option '{k}' was removed")
        for k in sorted(set(m.options) - set(opts)):
            changes.append(f"option '{k}' was added")
        for k in sorted(set(opts) & set(m.options)):
            try:
                now = encode_value(coerce_value(m.name, k, m.options[k], decode_value(opts[k]), m.path))
            except (UsageError, TypeError, ValueError):
                changes.append(f"option '{k}': {opts[k]!r} no longer fits its default {m.options[k]!r}")
                continue
            if now != opts[k]:
                changes.append(f"option '{k}': {opts[k]!r} → {now!r} (its default's type changed)")
        jobs = p["jobs"]
        for k in sorted(set(jobs) - set(m.jobs)):
            changes.append(f"input job '{k}' was removed")
        for k in sorted(set(m.jobs) - set(jobs)):
            changes.append(f"input job '{k}' was added")
        for k in sorted(set(jobs) & set(m.jobs)):
            v = jobs[k]
            if v is not None and m.jobs[k] != isinstance(v, list):
                changes.append(f"input job '{k}' is {'now' if m.jobs[k] else 'no longer'} a list")
        option_jobs = used_ids({"options": opts, "option_types": p.get("option_types")})
        for k, v in [*sorted(jobs.items()), *(("of a JobWithFile option", jid) for jid in option_jobs)]:
            for jid in (v if isinstance(v, list) else [] if v is None else [v]):
                path = self.store.find_by_id(jid)
                params = read_params(path)[0] if path else None
                if params is None:
                    note += f" (input {k} {short(jid)} is not in the workdirs: not checked)"
                elif not self.check(params)[0]:
                    changes.append(f"input {k}: {os.path.basename(path)} is not current")
        return changes, note

# --------------------------------------------------------------- provenance


class Provenance:
    def __init__(self, repo, strict: bool):
        self.repo, self.strict = repo, strict
        self._views: dict = {}

    def _view(self, commit: str):
        from accelgit.git.views import CommitView
        if commit not in self._views:
            try:
                self._views[commit] = CommitView(self.repo, commit)
            except GitError as e:
                self._views[commit] = e
        return self._views[commit]

    def close(self) -> None:
        for v in self._views.values():
            if not isinstance(v, Exception):
                v.close()

    def check(self, p: dict) -> tuple[bool, str]:
        g = p.get("git")
        if not isinstance(g, dict):
            return False, "job.json has no git record"
        # the job's own content, and the build script (with what it imports) that made the call
        blobs = {**(p.get("script_sources") or {}), **(p.get("files") or {}), **(p.get("sources") or {})}
        dirty_paths = list(g.get("dirty_paths") or [])
        commit = g.get("commit")
        if commit is None:
            uncommitted = sorted(blobs)
            what = "built before the first commit, from uncommitted "
        else:
            view = self._view(commit)
            if isinstance(view, Exception):
                extra = " (this is a shallow clone)" if self.repo.shallow else ""
                return False, f"commit {short(commit)} is not in this repository{extra}"
            differ = sorted(q for q, b in blobs.items() if view.blob(q) != b)
            unexplained = [q for q in differ if q not in dirty_paths]
            if unexplained:
                return False, "; ".join(f"commit {short(commit)} holds {q} at {short(view.blob(q))}, "
                                        f"the job recorded {short(blobs[q])} and does not mark it uncommitted"
                                        for q in unexplained[:SHOW])
            wrong = [q for q in dirty_paths if q in blobs and q not in differ]
            if wrong or bool(g.get("dirty")) != bool(dirty_paths):
                return False, (f"job.json's git record is inconsistent: dirty={g.get('dirty')!r}, "
                               f"dirty_paths={dirty_paths!r}, but commit {short(commit)} differs in {differ!r}")
            uncommitted = differ
            what = "built from uncommitted "
        if uncommitted:
            msg = what + names(uncommitted)
            return (False, msg + " (--strict)") if self.strict else (True, "warning: " + msg)
        branch = f" on {g['branch']}" if g.get("branch") else ""
        return True, f"commit {short(commit)}{branch} holds {'the recorded blob' if len(blobs) == 1 else f'all {len(blobs)} recorded blobs'}"
