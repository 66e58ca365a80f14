"""``accelgit verify``: checks stored jobs (SPEC §6, §7).

Per job, every check runs (none stops at the first failure):

* ``integrity``: the job's files match manifest.json; the source copies match
  the blob hashes recorded in job.json;
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

from .errors import GitError, MethodError, UsageError
from .identity import decode_value, encode_value, git_blob_sha1, job_dirname, job_id, source_digest
from .store import MANIFEST, Store, file_sha256, walk_files
from .verify_select import SHOW, Target, _names, _short, find_job, read_params, select

CHECKS = ("integrity", "identity", "currency", "provenance", "reproducible")


# --------------------------------------------------------------- integrity / identity

def check_integrity(t: Target) -> tuple[bool, str]:
    problems = []
    try:
        with open(os.path.join(t.path, MANIFEST), encoding="utf-8") as f:
            manifest = json.load(f)
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
        actual = set(walk_files(t.path)) - {MANIFEST}
        modified = []
        for rel in sorted(actual & set(files)):
            entry = files[rel] if isinstance(files[rel], dict) else {}
            p = os.path.join(t.path, *rel.split("/"))
            if os.path.getsize(p) != entry.get("size") or file_sha256(p) != entry.get("sha256"):
                modified.append(rel)
        missing = sorted(set(files) - actual)
        extra = sorted(actual - set(files))
        n = len(actual)
        for what, paths in (("modified", modified), ("missing", missing), ("extra", extra)):
            if paths:
                problems.append(f"{what}: {_names(paths)}")
    sources = (t.params or {}).get("sources")
    if t.params is None:
        problems.append(t.params_error or "job.json cannot be read")
    elif not isinstance(sources, dict):
        problems.append("job.json records no 'sources'")
    else:
        bad, gone = [], []
        for rel, blob in sorted(sources.items()):
            p = os.path.join(t.path, "source", *rel.split("/"))
            try:
                with open(p, "rb") as f:
                    if git_blob_sha1(f.read()) != blob:
                        bad.append(f"source/{rel}")
            except OSError:
                gone.append(f"source/{rel}")
        if bad:
            problems.append(f"source copies differ from their recorded blobs: {_names(bad)}")
        if gone:
            problems.append(f"source copies missing: {_names(gone)}")
    if problems:
        return False, "; ".join(problems)
    k = len(sources)
    copies = "its source copy matches its blob" if k == 1 else f"all {k} source copies match their blobs"
    return True, f"{n} files match manifest.json; {copies}"


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
        problems.append(f"recorded source digest {_short(p['source'])} is not the digest of the recorded "
                        f"sources ({_short(digest)})")
    if jid != p["id"]:
        problems.append(f"job.json's method, source, options, jobs and files give id {_short(jid)}, "
                        f"not the recorded {_short(p['id'])}")
    if t.path and os.path.basename(t.path) != job_dirname(str(p["method"]), jid):
        problems.append(f"directory name {os.path.basename(t.path)} does not match the id "
                        f"(expected {job_dirname(str(p['method']), jid)})")
    if t.id and t.id != p["id"]:
        problems.append(f"expected job {_short(t.id)}, job.json says {_short(p['id'])}")
    if problems:
        return False, "; ".join(problems)
    return True, f"id {_short(jid)} and source digest match job.json"


# --------------------------------------------------------------- currency

class Currency:
    """Is a job what the view gives today?  Inputs count: a job whose input is
    not current is not current either (a build would give it a new id)."""

    def __init__(self, repo, config, store: Store, at: str | None):
        from .gitrepo import make_view
        from .methods import Methods
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
        from .methods import coerce_option
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
        if m.digest != recorded:
            if recorded in m.equivalent:
                note = " (through equivalent_hashes)"
            else:
                diff = [f"source {q}: {_short(rec.get(q))} → {_short(m.sources.get(q))}"
                        for q in sorted(set(rec) | set(m.sources)) if rec.get(q) != m.sources.get(q)]
                changes.extend(diff or [f"source digest {_short(recorded)} → {_short(m.digest)}"])
        files = p["files"]
        for q in sorted(set(files) | set(m.files)):
            if q not in m.files:
                changes.append(f"file {q} is no longer declared")
            elif q not in files:
                changes.append(f"file {q} is newly declared")
            else:
                new = self.view.blob(q)
                if new != files[q]:
                    changes.append(f"file {q}: {_short(files[q])} → {_short(new) if new else 'deleted'}")
        opts = p["options"]
        for k in sorted(set(opts) - set(m.options)):
            changes.append(f"option '{k}' was removed")
        for k in sorted(set(m.options) - set(opts)):
            changes.append(f"option '{k}' was added")
        for k in sorted(set(opts) & set(m.options)):
            try:
                now = encode_value(coerce_option(k, m.options[k], decode_value(opts[k]), m.path))
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
        for k, v in sorted(jobs.items()):
            for jid in (v if isinstance(v, list) else [] if v is None else [v]):
                path = find_job(self.store, jid, listing=self._listing)
                params = read_params(path)[0] if path else None
                if params is None:
                    note += f" (input {k} {_short(jid)} is not in the workdirs: not checked)"
                elif not self.check(params)[0]:
                    changes.append(f"input {k}: {os.path.basename(path)} is not current")
        return changes, note


# --------------------------------------------------------------- provenance

class Provenance:
    def __init__(self, repo, strict: bool):
        self.repo, self.strict = repo, strict
        self._views: dict = {}

    def _view(self, commit: str):
        from .gitrepo import CommitView
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
        blobs = {**(p.get("files") or {}), **(p.get("sources") or {})}
        dirty_paths = list(g.get("dirty_paths") or [])
        commit = g.get("commit")
        if commit is None:
            uncommitted = sorted(blobs)
            what = "built before the first commit, from uncommitted "
        else:
            view = self._view(commit)
            if isinstance(view, Exception):
                extra = " (this is a shallow clone)" if self.repo.shallow else ""
                return False, f"commit {_short(commit)} is not in this repository{extra}"
            differ = sorted(q for q, b in blobs.items() if view.blob(q) != b)
            unexplained = [q for q in differ if q not in dirty_paths]
            if unexplained:
                return False, "; ".join(f"commit {_short(commit)} holds {q} at {_short(view.blob(q))}, "
                                        f"the job recorded {_short(blobs[q])} and does not mark it uncommitted"
                                        for q in unexplained[:SHOW])
            wrong = [q for q in dirty_paths if q in blobs and q not in differ]
            if wrong or bool(g.get("dirty")) != bool(dirty_paths):
                return False, (f"job.json's git record is inconsistent: dirty={g.get('dirty')!r}, "
                               f"dirty_paths={dirty_paths!r}, but commit {_short(commit)} differs in {differ!r}")
            uncommitted = differ
            what = "built from uncommitted "
        if uncommitted:
            msg = what + _names(uncommitted)
            return (False, msg + " (--strict)") if self.strict else (True, "warning: " + msg)
        branch = f" on {g['branch']}" if g.get("branch") else ""
        return True, f"commit {_short(commit)}{branch} holds {'the recorded blob' if len(blobs) == 1 else f'all {len(blobs)} recorded blobs'}"


# --------------------------------------------------------------- the command

def verify_jobs(repo, config, targets: list[Target], *, at=None, rerun=False, strict=False) -> list[Target]:
    store = Store(config)
    currency = Currency(repo, config, store, at)
    provenance = Provenance(repo, strict)
    rerunner = None
    if rerun:
        from .rerun import Rerunner
        rerunner = Rerunner(repo, config, store)
    try:
        for t in targets:
            if t.path is None:
                t.add("integrity", False, f"job {t.dirname} is not in any workdir (removed?)")
                for c in CHECKS[1:] if rerun else CHECKS[1:-1]:
                    t.add(c, False, "not checked: the job is missing")
                continue
            t.params, t.params_error = read_params(t.path)
            t.add("integrity", *check_integrity(t))
            t.add("identity", *check_identity(t))
            if t.params is None:
                for c in CHECKS[2:] if rerun else CHECKS[2:-1]:
                    t.add(c, False, f"not checked: {t.params_error}")
                continue
            t.add("currency", *currency.check(t.params))
            t.add("provenance", *provenance.check(t.params))
            if rerunner is not None:
                t.add("reproducible", *rerunner.check(t))
    finally:
        currency.close()
        provenance.close()
        if rerunner is not None:
            rerunner.close()
    return targets


def verify_command(repo, config, jobs: list[str], *, all_jobs: bool, scripts: list[str], at: str | None,
                   rerun: bool, strict: bool, as_json: bool, cwd: str) -> int:
    from .output import emit, stdout_to_stderr, table
    store = Store(config)
    targets = select(repo, store, jobs, all_jobs=all_jobs, scripts=scripts, cwd=cwd)
    with stdout_to_stderr(as_json):
        verify_jobs(repo, config, targets, at=at, rerun=rerun, strict=strict)
    ok = all(c["ok"] for t in targets for c in t.checks)
    if as_json:
        emit({"ok": ok, "jobs": [{"id": (t.params or {}).get("id") or t.id or t.dirname, "checks": t.checks}
                                 for t in targets]})
        return 0 if ok else 1
    if not targets:
        print("no jobs to verify")
        return 0
    rows = [[t.dirname, c["check"], ("warn" if c["detail"].startswith("warning:") else "ok") if c["ok"] else "FAIL",
             c["detail"]] for t in targets for c in t.checks]
    print(table(rows, ["job", "check", "ok", "detail"]))
    bad = [t for t in targets if not all(c["ok"] for c in t.checks)]
    print(f"{len(targets)} jobs verified: " + (f"{len(bad)} failed a check" if bad else "all checks passed"))
    return 0 if ok else 1
