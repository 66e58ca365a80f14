"""``accelgit verify --rerun``: the ``reproducible`` check.

A stored job signed by a trusted key is built again in a scratch folder
outside every workdir (a ``tempfile`` folder, removed afterwards), from the
repository's content at the blobs the job records (git's object store, or
the work tree where it holds that blob; never the job's ``source/`` copy)
and its job.json, with its input jobs found by their recorded ids and
its data files at their recorded blobs (from git's object store, or the work
tree when it still holds that blob).  It runs through the same runner and
fork server as ``accelgit build``.  Then every file of ``output/`` and the
result are compared with the sha256 the stored job's manifest recorded at
build time.  The stored job is never touched.
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile

from accelgit.api.job import load_pickle
from accelgit.commands.verify.select import names
from accelgit.core.errors import AccelgitError
from accelgit.core.identity import git_blob_sha1
from accelgit.store.jobdir import used_ids
from accelgit.store.layout import (
    ERROR_FILE,
    JOB_JSON,
    LOG,
    MANIFEST,
    OUTPUT,
    RESULT_FILES,
    RESULT_PICKLE,
    SOURCE,
)
from accelgit.store.manifest import file_sha256, verified_bytes, walk_files
from accelgit.store.signing import trust_problem


def compared(rel: str) -> bool:
    """The files a rerun must reproduce: the outputs and the result."""
    return rel.startswith("output/") or rel in RESULT_FILES


class NotRerun(Exception):
    pass


class Rerunner:
    def __init__(self, repo, config, store):
        self.repo, self.config, self.store = repo, config, store
        self._launcher = None
        self._cat = None

    def close(self) -> None:
        if self._launcher is not None:
            self._launcher.close()
        if self._cat is not None:
            self._cat.close()

    # -- preparing the scratch job
    def _launch(self, jobdir: str, run: dict) -> int:
        if self._launcher is None:
            from accelgit.build.launcher import Launcher
            self._launcher = Launcher()
        return self._launcher.run(jobdir, None, run)

    def _blob(self, sha: str) -> bytes | None:
        from accelgit.core.errors import GitError
        from accelgit.git.repo import CatFile
        if self._cat is None:
            self._cat = CatFile(self.repo)
        try:
            data = self._cat.read(sha)
        except GitError:
            return None
        return data if git_blob_sha1(data) == sha else None

    def _repo_file(self, rel: str, blob: str, what: str) -> bytes:
        """The content of blob ``blob`` (of ``rel``) from git, or the work tree."""
        data = self._blob(blob)
        if data is None:
            p = os.path.join(self.repo.root, *rel.split("/"))
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except OSError:
                data = None
            if data is None or git_blob_sha1(data) != blob:
                raise NotRerun(f"{what} {rel} at blob {blob[:12]} is neither in git's object store nor in the work tree")
        return data

    def _input_paths(self, jobs: dict) -> dict:
        out = {}
        for k, v in jobs.items():
            ids = [] if v is None else v if isinstance(v, list) else [v]
            paths = []
            for jid in ids:
                p = self.store.find_by_id(jid)
                if p is None or not os.path.isfile(os.path.join(p, MANIFEST)):
                    raise NotRerun(f"input job {k} ({jid[:12]}) is not in any workdir")
                untrusted = trust_problem(p)
                if untrusted:
                    raise NotRerun(f"input job {k} ({os.path.basename(p)}) is not trusted ({untrusted})")
                paths.append(p)
            out[k] = None if v is None else paths if isinstance(v, list) else paths[0]
        return out

    def _subjobs(self, params: dict) -> list:
        """``[[method, name, path]]`` of the subjobs the job built: a rerun is given them again."""
        subs = params.get("subjobs") or {}
        paths = self._input_paths({f"subjob {n}": s["id"] for n, s in subs.items()})
        return [[s["method"], s["name"], paths[f"subjob {n}"]] for n, s in subs.items()]

    def _option_jobs(self, params: dict) -> dict:
        """``{id: path}`` of the jobs the job's JobWithFile options name."""
        ids = used_ids({"options": params["options"], "option_types": params.get("option_types")})
        paths = self._input_paths({f"option {n}": jid for n, jid in enumerate(ids)})
        return {jid: paths[f"option {n}"] for n, jid in enumerate(ids)}

    def _prepare(self, t, scratch: str) -> tuple[str, dict]:
        jobdir = os.path.join(scratch, t.dirname)
        os.makedirs(os.path.join(jobdir, OUTPUT))
        os.makedirs(os.path.join(jobdir, LOG))
        try:
            raw = verified_bytes(t.path, JOB_JSON)
            params = json.loads(raw)         # these bytes, checked: not what an earlier read saw
        except (AccelgitError, ValueError):
            raise NotRerun("job.json does not match manifest.json") from None
        for rel in list(params["sources"]) + list(params["files"]):
            if not _inside(rel):
                raise NotRerun(f"job.json names a file outside the repository: {rel!r}")
        with open(os.path.join(jobdir, JOB_JSON), "wb") as f:
            f.write(raw)
        for rel, blob in params["sources"].items():     # the repository's code, never the job's copy
            dest = os.path.join(jobdir, SOURCE, *rel.split("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as f:
                f.write(self._repo_file(rel, blob, "source"))
        root = os.path.join(scratch, "root")
        os.makedirs(root)
        for rel, blob in params["files"].items():
            dest = os.path.join(root, *rel.split("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as f:
                f.write(self._repo_file(rel, blob, "data file"))
        run = {"inputs": self._input_paths(params["jobs"]), "root": root,
               "slices": params.get("slices") or self.config.slices,
               "option_jobs": self._option_jobs(params), "recorded_subjobs": self._subjobs(params)}
        return jobdir, run

    def _scratch(self) -> str:
        scratch = os.path.realpath(tempfile.mkdtemp(prefix="accelgit-verify-"))
        for wd in self.store.workdirs.values():
            w = os.path.realpath(wd.path)
            if scratch == w or scratch.startswith(w + os.sep):
                shutil.rmtree(scratch, ignore_errors=True)
                raise NotRerun(f"the temp folder {scratch} is inside workdir {wd.name}; set TMPDIR elsewhere")
        return scratch

    # -- the check
    def check(self, t) -> tuple[bool, str]:
        if not t.ok("integrity") and not os.path.isfile(os.path.join(t.path, MANIFEST)):
            return False, "not rerun: the job has no manifest.json to compare with"
        if not t.ok("identity"):
            return False, "not rerun: the identity check failed, so job.json cannot be trusted"
        untrusted = trust_problem(t.path)
        if untrusted:
            return False, f"not rerun: the job is not signed by a key you trust ({untrusted})"
        scratch = None
        try:
            scratch = self._scratch()
            jobdir, run = self._prepare(t, scratch)
            code = self._launch(jobdir, run)
            if code != 0:
                return False, f"the rerun failed: {_error(jobdir, code)}"
            return self._compare(t, jobdir)
        except NotRerun as e:
            return False, f"not rerun: {e}"
        except OSError as e:
            return False, f"not rerun: {e}"
        except BaseException:       # Ctrl-C: the rerun must not outlive verify
            if self._launcher is not None:
                self._launcher.kill_all()
            raise
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)

    def _compare(self, t, jobdir: str) -> tuple[bool, str]:
        try:
            with open(os.path.join(t.path, MANIFEST), encoding="utf-8") as f:
                stored = {rel: e for rel, e in json.load(f)["files"].items() if compared(rel)}
        except (OSError, ValueError, KeyError, AttributeError) as e:
            return False, f"not rerun: manifest.json cannot be read: {e}"
        new = {rel for rel in walk_files(jobdir) if compared(rel)}
        differ = []
        for rel in sorted(set(stored) & new):
            want = stored[rel].get("sha256") if isinstance(stored[rel], dict) else None
            if file_sha256(os.path.join(jobdir, *rel.split("/"))) != want and not _same_pickle(t, jobdir, rel):
                differ.append(rel)
        problems = []
        for what, paths in (("differ", differ), ("only in the stored job", sorted(set(stored) - new)),
                            ("only in the rerun", sorted(new - set(stored)))):
            if paths:
                problems.append(f"{what}: {names(paths)}")
        if problems:
            return False, "not reproducible: " + "; ".join(problems)
        return True, f"rerun gave the same {len(new)} files (output/ and result)"


def _inside(rel) -> bool:
    """A repo path that stays inside the folder it is joined to."""
    parts = rel.split("/") if isinstance(rel, str) else [""]
    return not rel.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def _same_pickle(t, jobdir: str, rel: str) -> bool:
    """result.pickle bytes can differ for equal values (set order under hash
    randomisation): compare the values, the stored one only after its bytes
    passed the manifest (verified_bytes) and the job's integrity check."""
    if rel != RESULT_PICKLE or not t.ok("integrity"):
        return False
    try:
        old = load_pickle(verified_bytes(t.path, rel))
        with open(os.path.join(jobdir, rel), "rb") as f:
            new = pickle.loads(f.read())
        return type(old) is type(new) and bool(old == new)
    except Exception:  # noqa: BLE001 - unpicklable here (a class of the method): say they differ
        return False


def _error(jobdir: str, code: int) -> str:
    try:
        with open(os.path.join(jobdir, ERROR_FILE), encoding="utf-8") as f:
            err = json.load(f)
        return f"{err.get('error')} (in {err.get('phase')})"
    except (OSError, ValueError):
        return f"the job process died (exit {code})"
