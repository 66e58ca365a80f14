"""``accelgit build`` end to end: identity across clones and views, failures,
one-line errors, git metadata, the job directory (SPEC §5-§7), parallelism."""
from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import CHAIN, make_repo, write_files

from accelgit.core.identity import git_blob_sha1


def jobs_by_name(out: dict) -> dict:
    return {j["name"]: j for j in out["jobs"]}


def params_of(path) -> dict:
    return json.loads((Path(path) / "job.json").read_text())


def all_params(repo) -> dict:
    """``{dirname: job.json}`` of every complete job in the repo's workdir."""
    return {d: params_of(repo.workdir / d) for d in repo.job_dirs() if (repo.workdir / d / "manifest.json").exists()}


# ------------------------------------------------------------------ same content, same ids

def test_two_clones_give_the_same_ids(chain_repo, tmp_path):
    origin = chain_repo
    origin.build()
    ids = {}
    for name in ("clone-one", "elsewhere/clone-two"):
        dest = tmp_path / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        origin.git("clone", "-q", str(origin.path), str(dest))
        clone = make_repo.__globals__["Repo"](dest, origin.home)
        out = clone.build()
        assert {j["action"] for j in out["jobs"]} == {"built"}
        ids[name] = {j["name"]: j["id"] for j in out["jobs"]}
        # job.json agrees with the build output, and the directory names too
        for j in out["jobs"]:
            p = params_of(j["path"])
            assert p["id"] == j["id"] and os.path.basename(j["path"]) == f"{j['method']}-{j['id'][:12]}"
    original = {j["name"]: j["id"] for j in origin.build()["jobs"]}
    assert ids["clone-one"] == ids["elsewhere/clone-two"] == original
    assert set(original) == {"a", "b", "c"}


def test_branch_and_commit_do_not_enter_the_identity(chain_repo):
    first = {j["name"]: j["id"] for j in chain_repo.build()["jobs"]}
    chain_repo.git("checkout", "-q", "-b", "feature")
    chain_repo.commit("empty commit on another branch")
    out = chain_repo.build()
    assert {j["name"]: (j["id"], j["action"]) for j in out["jobs"]} == {n: (i, "reused") for n, i in first.items()}


# ------------------------------------------------------------------ views: worktree, index, commit

def ids_in_view(path: Path, staged: bool = False, at: str | None = None) -> dict:
    """Job ids the build scripts would use in one view, computed in-process
    through the same machinery as ``build`` (methods + urd), nothing run."""
    from accelgit.api.job import Job
    from accelgit.build.scripts import Session, find_scripts
    from accelgit.config import load_config
    from accelgit.git.repo import find_repo
    from accelgit.git.views import make_view

    class IdSession(Session):
        mode = "plan"

        def submit(self, spec):
            self.got[spec.name] = spec.id
            return Job(str(path / "nowhere"), id=spec.id, method=spec.method.name, name=spec.name,
                       waiter=lambda: None)

    repo = find_repo(str(path))
    config = load_config(repo.root)
    view = make_view(repo, staged=staged, at=at)
    try:
        s = IdSession(repo, config, view)
        s.got = {}
        for script in find_scripts(view, config, None):
            s.run_script(script)
        return s.got
    finally:
        view.close()


def export_and_build(src: Path, dest_base: Path, name: str, how: list[str]) -> dict:
    """Copy some state of ``src`` (``how``: a git command writing it into $DEST)
    into a fresh repo, build it there, and return ``{name: id}``."""
    dest = dest_base / name
    dest.mkdir(parents=True)
    subprocess.run(["sh", "-c", how[0].replace("$DEST", str(dest))], cwd=src, check=True, capture_output=True)
    r = make_repo.__globals__["Repo"](dest, dest_base / f"{name}-home")
    (dest_base / f"{name}-home").mkdir()
    r.git("init", "-q", "-b", "main")
    r.commit("exported")
    return {j["name"]: j["id"] for j in r.build()["jobs"]}


def test_index_and_commit_views_match_a_checkout(chain_repo, tmp_path):
    r = chain_repo
    c1 = r.git("rev-parse", "HEAD").stdout.strip()
    # stage a helper edit, then edit c only in the work tree
    r.write("methods/_helper.py", r.read("methods/_helper.py") + "# staged\n")
    r.git("add", "methods/_helper.py")
    r.write("methods/c.py", r.read("methods/c.py") + "# worktree only\n")

    wt, idx, com = ids_in_view(r.path), ids_in_view(r.path, staged=True), ids_in_view(r.path, at=c1)
    assert set(wt) == set(idx) == set(com) == {"a", "b", "c"}
    # a is untouched everywhere; b differs between commit and index; c differs in all three
    assert wt["a"] == idx["a"] == com["a"]
    assert wt["b"] == idx["b"] != com["b"]
    assert len({wt["c"], idx["c"], com["c"]}) == 3

    built_wt = {j["name"]: j["id"] for j in r.build()["jobs"]}
    assert built_wt == wt
    assert export_and_build(r.path, tmp_path, "as-index", ["git checkout-index -a --prefix=$DEST/"]) == idx
    assert export_and_build(r.path, tmp_path, "as-commit", [f"git archive {c1} | tar -x -C $DEST"]) == com
    # a branch name is a commit too
    r.git("branch", "old", c1)
    assert ids_in_view(r.path, at="old") == com


# ------------------------------------------------------------------ a failing method

FAILING = {
    "methods/boom.py": """
        jobs = ("a",)

        def synthesis(jobs):
            import sys
            print("before the failure")
            print("on stderr", file=sys.stderr)
            raise RuntimeError("kaboom " + str(jobs.a.load()))
    """,
    "methods/after.py": """
        jobs = ("boom",)

        def synthesis():
            return 1
    """,
    "build.py": """
        def main(urd):
            a = urd.build("a")
            boom = urd.build("boom", a=a)
            urd.build("after", boom=boom)
    """,
}


def test_method_exception(chain_repo):
    r = chain_repo
    write_files(r, FAILING)
    proc = r.run("build")
    assert proc.returncode == 1
    last = proc.stderr.rstrip("\n").splitlines()[-1]
    assert last.startswith("accelgit: job boom-")
    assert " (methods/boom.py) failed: RuntimeError: kaboom 5; log: " in last
    assert last.endswith(" (1 not built because an input failed)")
    log = last.split("; log: ")[1].split(" (1 not built")[0]
    assert os.path.isfile(log) and log.startswith(str(r.workdir / ".failed") + os.sep)
    text = Path(log).read_text()
    assert "before the failure" in text and "on stderr" in text
    assert "Traceback (most recent call last)" in text and "RuntimeError: kaboom 5" in text
    # the traceback is shown on stderr too, pointing at the method's line
    assert "Traceback (most recent call last)" in proc.stderr
    # the traceback names the repository's own file (the copy the job ran is its content), not
    # the gone temp folder nor the copy under .failed
    assert f'File "{r.path}/methods/boom.py", line 8, in synthesis' in proc.stderr
    assert "/.tmp/" not in proc.stderr and "/source/methods/" not in proc.stderr
    # no job directory: only the failed build under .failed; nothing downstream
    dirs = r.job_dirs()
    assert [d.split("-")[0] for d in dirs] == ["a"]
    failed = os.listdir(r.workdir / ".failed")
    assert len(failed) == 1 and failed[0].startswith("boom-")
    assert not (r.workdir / ".failed" / failed[0] / "manifest.json").exists()
    # nothing left in .tmp
    assert os.listdir(r.workdir / ".tmp") == []


def test_failed_job_is_built_again_next_time(chain_repo):
    r = chain_repo
    write_files(r, FAILING)
    assert r.run("build").returncode == 1
    r.write("methods/boom.py", FAILING["methods/boom.py"].replace("raise RuntimeError", "return"))
    out = r.build()
    assert {j["name"]: j["action"] for j in out["jobs"]} == {"a": "reused", "boom": "built", "after": "built"}


def test_json_build_failure_keeps_stdout_clean(chain_repo):
    write_files(chain_repo, FAILING)
    proc = chain_repo.run("build", "--json")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "accelgit: job boom-" in proc.stderr


# ------------------------------------------------------------------ one clear line each

ONE_LINE_ERRORS = [
    # (files to write, expected stderr line)
    ({"build.py": "def main(urd):\n    urd.build('nope')\n"},
     "build.py:2: unknown method 'nope': no nope.py or a_nope.py in methods/ (worktree)"),
    ({"build.py": "def main(urd):\n    urd.build('a', bogus=1)\n"},
     "build.py:2: method 'a' has no option or input job named 'bogus' (options: scale; jobs: none)"),
    ({"build.py": "def main(urd):\n    urd.build('a', scale={1})\n"},
     "build.py:2: option 'scale': a value of type set is not JSON-like"),
    ({"build.py": "def main(urd):\n    urd.build('a', options={'scale': object()})\n"},
     "build.py:2: option 'scale': a value of type object is not JSON-like"),
    ({"build.py": "def main(urd):\n    urd.build('a', scale='x')\n"},
     "build.py:2: option 'scale' expects int (default 1), got 'x'"),
    ({"methods/c.py": "jobs = ('b',)\n\ndef synthesis(:\n    pass\n"},
     "build.py:5: methods/c.py:3: syntax error: invalid syntax"),
    ({"methods/_helper.py": "def double(x)\n    return x\n"},
     "build.py:4: methods/_helper.py:1: syntax error: expected ':'"),
    ({"build.py": "def main(urd):\n    urd.build('a'\n"},
     "build.py:2: syntax error: '(' was never closed"),
    ({"build.py": "def mian(urd):\n    pass\n"},
     "build.py: a build script needs a 'def main(urd):' function, and this one has none"),
    ({"build.py": "def main(urd):\n    a = urd.build('a')\n    raise KeyError('oops')\n"},
     "build.py:3: KeyError: 'oops'"),
    ({"build.py": "import not_a_module_anywhere\n"},
     "build.py:1: ModuleNotFoundError: No module named 'not_a_module_anywhere'"),
    ({"build.py": "def main(urd):\n    urd.build('b', a='a-123')\n"},
     "build.py:2: input job 'a' must be a Job returned by urd.build, not str 'a-123'"),
    ({"build.py": "def main(urd):\n    urd.build('b', jobs={'a': 42})\n"},
     "build.py:2: input job 'a' must be a Job returned by urd.build, not int 42"),
    ({"build.py": "def main(urd):\n    urd.build('b', jobs={'x': None})\n"},
     "build.py:2: method 'b' has no input job 'x' (jobs: a)"),
    ({"build.py": "def main(urd):\n    urd.build('c', b=[urd.build('a')])\n"},
     "build.py:2: input job 'b' takes one job, not a list (a method declares a list of jobs as \"[b]\" in jobs)"),
    ({"build.py": "def main(urd):\n    urd.build('a', scale=1, options={'scale': 2})\n"},
     "build.py:2: 'scale' is given twice"),
    ({"build.py": "def main(urd):\n    urd.build('a', workdir='nope')\n"},
     "unknown workdir 'nope' (configured: local)"),
    ({"build.py": "def main(urd):\n    urd.build('a')\n", "methods/a_a.py": "def synthesis(): pass\n"},
     "build.py:2: method 'a' is ambiguous: methods/a.py and methods/a_a.py both define it"),
    ({"build.py": "def main(urd):\n    urd.build('a')\n", "methods/a.py": "files = ('data/gone.txt',)\ndef synthesis(): pass\n"},
     "build.py:2: data file 'data/gone.txt' declared by methods/a.py does not exist (worktree)"),
    ({"methods/b.py": "depend_extra = ('nothere.txt',)\njobs = ('a',)\ndef synthesis(): pass\n"},
     "build.py:4: methods/b.py: depend_extra: 'nothere.txt' does not exist (worktree)"),
    ({"methods/b.py": "jobs = ('a',)\noptions = {'a': 1}\ndef synthesis(): pass\n"},
     "build.py:4: methods/b.py: 'a' is declared both as an option and as an input job"),
    ({"methods/c.py": "jobs = ('b',)\n"},
     "build.py:5: methods/c.py: method 'c' defines none of prepare(), analysis(), synthesis()"),
]


@pytest.mark.parametrize("files,line", ONE_LINE_ERRORS, ids=[e[1][:50] for e in ONE_LINE_ERRORS])
def test_one_clear_line(chain_repo, files, line):
    for rel, text in files.items():
        chain_repo.write(rel, text, dedent=False)
    proc = chain_repo.run("build")
    assert (proc.returncode, proc.stderr) == (2, f"accelgit: {line}\n")
    assert proc.stdout == ""


def test_errors_after_jobs_started_still_wait_for_them(chain_repo):
    # a script error after some jobs were scheduled: they finish (or not) cleanly,
    # nothing is left half-built
    chain_repo.write("build.py", "def main(urd):\n    a = urd.build('a')\n    urd.build('nope')\n")
    proc = chain_repo.run("build")
    assert proc.returncode == 2
    assert os.listdir(chain_repo.workdir / ".tmp") == []
    for d in chain_repo.job_dirs():
        assert (chain_repo.workdir / d / "manifest.json").exists()


def test_missing_script_argument(chain_repo):
    proc = chain_repo.run("build", "nothere.py")
    assert (proc.returncode, proc.stderr) == (2, "accelgit: build script 'nothere.py' does not exist (worktree)\n")


def test_no_build_script(repo):
    proc = repo.run("build")
    assert proc.returncode == 2
    assert proc.stderr == ("accelgit: no build script found (worktree): looked for build.py, build_*.py, "
                           "methods/build_*.py\n")


def test_not_a_git_repo(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    r = make_repo.__globals__["Repo"](plain, tmp_path)
    proc = r.run("build", env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert proc.returncode == 2
    assert proc.stderr == f"accelgit: accelgit needs a git repository: {plain} is not inside one (run 'git init' first)\n"


def test_debug_shows_traceback(chain_repo):
    chain_repo.write("build.py", "def main(urd):\n    urd.build('nope')\n")
    proc = chain_repo.run("build", env={"ACCELGIT_DEBUG": "1"})
    assert proc.returncode == 2
    assert "Traceback (most recent call last)" in proc.stderr
    assert proc.stderr.rstrip().endswith("unknown method 'nope': no nope.py or a_nope.py in methods/ (worktree)")


# ------------------------------------------------------------------ git metadata in job.json

def test_commit_metadata_clean(chain_repo):
    out = chain_repo.build()
    head = chain_repo.git("rev-parse", "HEAD").stdout.strip()
    cdate = chain_repo.git("show", "-s", "--format=%cI", "HEAD").stdout.strip()
    for j in out["jobs"]:
        g = params_of(j["path"])["git"]
        assert g == {"commit": head, "branch": "main", "dirty": False, "dirty_paths": [],
                     "author": "Test Author <author@example.com>", "committed_at": cdate}


def test_dirty_paths_name_only_the_jobs_own_changes(chain_repo):
    r = chain_repo
    r.write("README.md", "tracked, then changed\n")
    r.commit("readme")
    r.write("README.md", "changed, not committed\n")          # unrelated dirty file
    r.write("methods/b.py", r.read("methods/b.py") + "# dirty\n")
    r.write("methods/_new.py", "X = 1\n")                        # untracked, imported by c
    r.write("methods/c.py", "import _new\n" + r.read("methods/c.py"))
    out = jobs_by_name(r.build())
    assert {n: j["action"] for n, j in out.items()} == {"a": "built", "b": "built", "c": "built"}
    git = {n: params_of(j["path"])["git"] for n, j in out.items()}
    assert (git["a"]["dirty"], git["a"]["dirty_paths"]) == (False, [])
    assert (git["b"]["dirty"], git["b"]["dirty_paths"]) == (True, ["methods/b.py"])
    assert (git["c"]["dirty"], git["c"]["dirty_paths"]) == (True, ["methods/_new.py", "methods/c.py"])
    # a dirty data file is named too
    r.write("data/input.txt", "x\n")
    out = jobs_by_name(r.build())
    assert params_of(out["a"]["path"])["git"]["dirty_paths"] == ["data/input.txt"]


def test_staged_but_uncommitted_is_dirty(chain_repo):
    r = chain_repo
    r.write("methods/a.py", r.read("methods/a.py") + "# staged\n")
    r.git("add", "methods/a.py")
    out = jobs_by_name(r.build())
    assert params_of(out["a"]["path"])["git"]["dirty_paths"] == ["methods/a.py"]


def test_detached_head(chain_repo):
    r = chain_repo
    head = r.commit("second")
    r.git("checkout", "-q", "--detach", "HEAD")
    out = jobs_by_name(r.build())
    g = params_of(out["a"]["path"])["git"]
    assert (g["commit"], g["branch"], g["dirty"]) == (head, None, False)


def test_unborn_branch(repo):
    write_files(repo, CHAIN)      # nothing committed yet
    out = jobs_by_name(repo.build())
    assert [n for n in out] == ["a", "b", "c"]
    g = params_of(out["b"]["path"])["git"]
    assert g["commit"] is None and g["author"] is None and g["committed_at"] is None
    assert g["branch"] == "main"
    assert g["dirty"] is True
    assert g["dirty_paths"] == ["build.py", "methods/_helper.py", "methods/b.py", "methods/notes.txt"]
    # the same content committed: same jobs, reused
    repo.commit("first")
    again = repo.build()
    assert {j["action"] for j in again["jobs"]} == {"reused"}


# ------------------------------------------------------------------ the job directory (SPEC §6)

JOBDIR_METHODS = {
    "methods/_util.py": "def plus(a, b):\n    return a + b\n",
    "methods/full.py": """
        import datetime
        import os
        import sys
        import _util
        description = "every phase"
        options = {"n": 2, "when": datetime.date(2024, 1, 2)}
        files = ("data/input.txt",)
        depend_extra = ("methods/notes.txt",)

        def prepare(options):
            print("prepare out")
            print("prepare err", file=sys.stderr)
            return options.n

        def analysis(sliceno, prepare_res, slices):
            print(f"slice {sliceno} of {slices} out")
            print(f"slice {sliceno} err", file=sys.stderr)
            return sliceno * prepare_res

        def synthesis(analysis_res, job, files):
            os.system("echo from a child process")
            print("synthesis err", file=sys.stderr)
            with job.open("sub/out.txt", "w") as f:
                f.write("written")
            job.json_save({"x": 1}, "saved.json")
            job.save({1, 2}, "saved.pickle")
            return (_util.plus(*analysis_res[:2]), "tuple")
    """,
    "methods/setty.py": """
        def synthesis():
            return {3, 1, 2}
    """,
    "methods/plain.py": """
        def synthesis():
            return {"a": [1, 2.5, None, "x"]}
    """,
    "build.py": """
        def main(urd):
            full = urd.build("full", caption="the full one", name="fully")
            assert full.load() == (2, "tuple")
            assert full.json_load("saved.json") == {"x": 1}
            assert full.load("saved.pickle") == {1, 2}
            assert full.files() == ["saved.json", "saved.pickle", "sub/out.txt"]
            assert "slice 3 of 4 out" in full.output()
            assert urd.build("setty").load() == {1, 2, 3}
            assert urd.build("plain").load() == {"a": [1, 2.5, None, "x"]}
    """,
}


def test_job_directory_contents(chain_repo):
    r = chain_repo
    write_files(r, JOBDIR_METHODS)
    out = jobs_by_name(r.build())
    path = Path(out["fully"]["path"])
    p = params_of(path)
    required = {"format", "id", "method", "options", "jobs", "files", "source", "caption", "name",
                "build_script", "git", "built_at", "host", "user", "python", "accelgit"}
    assert required <= set(p)
    assert (p["method"], p["name"], p["caption"], p["build_script"]) == ("full", "fully", "the full one", "build.py")
    assert p["options"] == {"n": 2, "when": {"$date": "2024-01-02"}}
    assert p["jobs"] == {}
    assert p["files"] == {"data/input.txt": r.git("hash-object", "data/input.txt").stdout.strip()}
    assert set(p["git"]) == {"commit", "branch", "dirty", "dirty_paths", "author", "committed_at"}
    datetime.datetime.fromisoformat(p["built_at"])
    assert path.name == f"full-{p['id'][:12]}"

    # source/: exactly the hashed sources, at the hashed content
    assert sorted(p["sources"]) == ["methods/_util.py", "methods/full.py", "methods/notes.txt"]
    copies = sorted(str(f.relative_to(path / "source")) for f in (path / "source").rglob("*") if f.is_file())
    assert copies == sorted(p["sources"])
    for rel, blob in p["sources"].items():
        assert git_blob_sha1((path / "source" / rel).read_bytes()) == blob
        assert blob == r.git("hash-object", rel).stdout.strip()
    from accelgit.core.identity import source_digest
    assert p["source"] == source_digest(p["sources"])

    # output/ and the result: a tuple is not JSON-exact, so it is pickled
    assert (path / "output" / "sub" / "out.txt").read_text() == "written"
    assert not (path / "result.json").exists() and (path / "result.pickle").exists()
    for name, result_file in (("setty", "result.pickle"), ("plain", "result.json")):
        jp = Path(out[name]["path"])
        assert sorted(f.name for f in jp.glob("result.*")) == [result_file]
    assert json.loads((Path(out["plain"]["path"]) / "result.json").read_text()) == {"a": [1, 2.5, None, "x"]}

    # log/: one file per phase and slice, stdout and stderr together
    logs = {f.name: f.read_text() for f in (path / "log").iterdir()}
    assert set(logs) == {"setup.txt", "prepare.txt", "synthesis.txt"} | {f"analysis-{i}.txt" for i in range(4)}
    assert logs["prepare.txt"] == "prepare out\nprepare err\n"
    for i in range(4):
        assert logs[f"analysis-{i}.txt"] == f"slice {i} of 4 out\nslice {i} err\n"
    assert "from a child process\n" in logs["synthesis.txt"] and "synthesis err\n" in logs["synthesis.txt"]

    # profile.json
    prof = json.loads((path / "profile.json").read_text())
    assert {"start", "end", "wall", "cpu", "peak_memory_kb", "phases"} <= set(prof)
    assert datetime.datetime.fromisoformat(prof["start"]) <= datetime.datetime.fromisoformat(prof["end"])
    assert {"prepare", "analysis", "synthesis"} <= set(prof["phases"])
    for ph in ("prepare", "synthesis"):
        assert set(prof["phases"][ph]) >= {"wall", "cpu"}
    slices = prof["phases"]["analysis"]["slices"]
    assert len(slices) == 4 and all({"wall", "cpu", "peak_memory_kb"} <= set(s) for s in slices)
    assert prof["peak_memory_kb"] > 0

    # manifest.json: every other file but the signature, with its sha256 and size; nothing else
    man = json.loads((path / "manifest.json").read_text())
    on_disk = sorted(str(f.relative_to(path)) for f in path.rglob("*") if f.is_file())
    assert sorted(man["files"]) == [f for f in on_disk if f not in ("manifest.json", "signature.json")]
    # signature.json: your key's signature of the manifest's sha256
    from accelgit.store import keys
    sig = json.loads((path / "signature.json").read_text())
    assert sig["key"] == keys.public_text(keys.own_key()[1]) and sig["key_id"] == keys.key_id(keys.own_key()[1])
    from nacl.signing import VerifyKey
    VerifyKey(keys.parse_public(sig["key"])).verify(hashlib.sha256((path / "manifest.json").read_bytes()).digest(),
                                                   base64.b64decode(sig["signature"]))
    for rel, entry in man["files"].items():
        data = (path / rel).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert not any(f.startswith(".") or "/." in f for f in on_disk), on_disk


def test_method_imports_helper_and_sees_its_folder(repo):
    write_files(repo, {
        "methods/_h.py": "VALUE = 41\n",
        "methods/m.py": """
            import os
            import _h

            def synthesis(job):
                return [_h.VALUE + 1, os.getcwd() == os.path.join(job.path, "output")]
        """,
        "build.py": "def main(urd):\n    assert urd.build('m').load() == [42, True]\n",
    })
    repo.build()


# ------------------------------------------------------------------ parallel builds

SLOW = {
    "methods/slow.py": """
        import time
        options = {"tag": ""}

        def synthesis(options):
            time.sleep(0.5)
            return options.tag
    """,
    "methods/after.py": """
        jobs = ("first",)

        def synthesis(jobs):
            return jobs.first.load() + "!"
    """,
    "build.py": """
        def main(urd):
            one = urd.build("slow", tag="one", name="one")
            urd.build("slow", tag="two", name="two")
            urd.build("after", first=one)
    """,
}


def _span(job: dict) -> tuple[datetime.datetime, datetime.datetime]:
    prof = json.loads((Path(job["path"]) / "profile.json").read_text())
    return datetime.datetime.fromisoformat(prof["start"]), datetime.datetime.fromisoformat(prof["end"])


def test_parallel_jobs_overlap_and_dependencies_wait(repo):
    write_files(repo, SLOW)
    out = jobs_by_name(repo.build("-j", "2"))
    assert {n: j["action"] for n, j in out.items()} == {"one": "built", "two": "built", "after": "built"}
    s1, e1 = _span(out["one"])
    s2, e2 = _span(out["two"])
    assert s1 < e2 and s2 < e1, "independent jobs did not run at the same time with -j 2"
    sa, _ = _span(out["after"])
    assert sa >= e1, "a job started before its input ended"


def test_j1_runs_one_at_a_time(repo):
    write_files(repo, SLOW)
    out = jobs_by_name(repo.build("-j", "1"))
    spans = sorted(_span(out[n]) for n in ("one", "two", "after"))
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end


def test_bad_j(repo):
    proc = repo.run("build", "-j", "0")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "-j" in proc.stderr


# ------------------------------------------------------------------ checkout filters

def test_crlf_checkout_filter(repo, tmp_path):
    """With eol=crlf the work tree holds other bytes than the blobs: the identity
    is the blob's (as git stores it) and the source copy is the blob content."""
    write_files(repo, CHAIN)
    repo.commit("lf")
    plain = {j["name"]: j["id"] for j in repo.build()["jobs"]}
    repo.write(".gitattributes", "*.py text eol=crlf\n")
    repo.commit("attributes")
    for rel in ("methods/a.py", "methods/b.py", "methods/_helper.py", "build.py"):
        repo.remove(rel)
    repo.git("checkout", "--", ".")
    assert b"\r\n" in (repo.path / "methods/b.py").read_bytes()
    out = repo.build()
    assert {j["name"]: (j["id"], j["action"]) for j in out["jobs"]} == {n: (i, "reused") for n, i in plain.items()}
    # a fresh build (forced by a data change) copies the blob content, which the job verifies
    repo.write("data/input.txt", "a b\n")
    out = jobs_by_name(repo.build())
    b = Path(out["b"]["path"])
    assert b"\r\n" not in (b / "source/methods/b.py").read_bytes()
    assert params_of(b)["git"]["dirty_paths"] == []


@pytest.mark.parametrize("rel,line", [
    ("methods/_helper.py", "build.py:4: source file 'methods/_helper.py' is a symbolic link; git "
                           "hashes the link, not its content, so sources must be regular files"),
    ("data/input.txt", "build.py:3: data file 'data/input.txt' declared by methods/a.py is a symbolic link; git "
                       "hashes the link, not its content, so a change of the target would go unseen"),
])
def test_symlinked_source_or_data_is_refused(chain_repo, rel, line):
    # the identity would hash the link's target *path*: a change of the content would be missed
    real = chain_repo.path / "elsewhere" / os.path.basename(rel)
    real.parent.mkdir()
    (chain_repo.path / rel).rename(real)
    (chain_repo.path / rel).symlink_to(os.path.relpath(real, (chain_repo.path / rel).parent))
    proc = chain_repo.run("build")
    assert (proc.returncode, proc.stderr) == (2, f"accelgit: {line}\n")
    chain_repo.commit("as a link")          # the same from a commit
    assert chain_repo.run("build").stderr == f"accelgit: {line}\n"
    # the commit view sees the link too
    from accelgit.core.errors import AccelgitError
    with pytest.raises(AccelgitError, match="is a symbolic link"):
        ids_in_view(chain_repo.path, at="HEAD")


def test_analysis_slice_failure(repo):
    write_files(repo, {
        "methods/an.py": """
            def analysis(sliceno):
                if sliceno == 2:
                    raise ValueError("slice two broke")
                return sliceno
        """,
        "build.py": "def main(urd):\n    urd.build('an')\n",
    })
    proc = repo.run("build")
    assert proc.returncode == 1
    assert "ValueError: slice two broke" in proc.stderr
    last = proc.stderr.splitlines()[-1]
    assert last.startswith("accelgit: job an-") and "analysis failed in slice 2: see log/analysis-2.txt" in last
    logdir = last.split("; log: ")[1]
    assert "ValueError: slice two broke" in Path(logdir, "analysis-2.txt").read_text()
    assert repo.job_dirs() == []


def test_job_folders_hold_no_bytecode_cache(chain_repo):
    # a user's environment writes bytecode: the job process must not, into its source copies
    env = {"PYTHONDONTWRITEBYTECODE": ""}
    proc = chain_repo.run("build", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    for job in json.loads(proc.stdout)["jobs"]:
        manifest = json.loads((chain_repo.path / job["path"] / "manifest.json").read_text())
        assert not [p for p in manifest["files"] if "__pycache__" in p or p.endswith(".pyc")]
        assert not list((chain_repo.path / job["path"]).rglob("__pycache__"))


def test_an_uncommitted_build_script_edit_is_provenance(chain_repo):
    """A job whose options come only from the work tree's build script: the
    script (and a repo module it imports) is recorded, marked dirty, shown,
    logged with '*', and fails verify --strict's provenance."""
    r = chain_repo
    r.write("pipeline_settings.py", "OFFSET = 1\n")
    r.write("build.py", "from pipeline_settings import OFFSET\n" + r.read("build.py").replace(
        'urd.build("c", b=b', 'urd.build("c", b=b, offset=OFFSET'))
    r.commit("settings in a module")
    clean = jobs_by_name(r.build())
    p = params_of(clean["c"]["path"])
    assert p["git"]["dirty"] is False and set(p["script_sources"]) == {"build.py", "pipeline_settings.py"}
    r.write("pipeline_settings.py", "OFFSET = 3\n")            # never committed
    out = jobs_by_name(r.build())
    assert out["c"]["action"] == "built" and out["a"]["action"] == "reused"
    git = params_of(out["c"]["path"])["git"]
    assert (git["dirty"], git["dirty_paths"]) == (True, ["pipeline_settings.py"])
    job = os.path.basename(out["c"]["path"])
    assert "DIRTY: pipeline_settings.py" in r.run("show", job, check=True).stdout
    assert any(job in line and "*" in line for line in r.run("log", check=True).stdout.splitlines())
    strict = r.json("verify", job, "--strict", check=False)
    prov = next(c for c in strict["jobs"][0]["checks"] if c["check"] == "provenance")
    assert not prov["ok"] and "pipeline_settings.py" in prov["detail"]
    relaxed = r.json("verify", job, check=False)
    assert next(c for c in relaxed["jobs"][0]["checks"] if c["check"] == "provenance")["detail"].startswith("warning")


def test_target_builds_a_job_and_what_it_needs_and_force_rebuilds_one(chain_repo):
    r = chain_repo
    r.write("build.py", '''def main(urd):
    a = urd.build("a")
    b = urd.build("b", a=a)
    c = urd.build("c", b=b)
    print("c is", c.load())
''')
    r.commit("reads c")
    out = r.build("--target", "b")
    assert {j["method"]: j["action"] for j in out["jobs"]} == {"a": "built", "b": "built"}   # nothing downstream
    assert not (r.workdir / ".runs" / "build.py.jsonl").exists()          # a partial run records nothing
    proc = r.run("build", "--target", "b")
    assert "stopped at build.py:5: it reads the result of c" in proc.stderr
    out = r.build()
    assert {j["method"]: j["action"] for j in out["jobs"]} == {"a": "reused", "b": "reused", "c": "built"}
    before = {j["method"]: j["path"] for j in out["jobs"]}
    mtime = os.stat(os.path.join(before["b"], "job.json")).st_mtime_ns
    out = r.build("--force", "b")
    assert {j["method"]: j["action"] for j in out["jobs"]} == {"a": "reused", "b": "built", "c": "reused"}
    assert os.stat(os.path.join(before["b"], "job.json")).st_mtime_ns != mtime       # the same job, built again
    proc = r.run("build", "--target", "nosuch")
    assert (proc.returncode, proc.stderr) == (2, "accelgit: --target nosuch: no job of the build scripts has "
                                                 "that name or method\n")


def test_a_failed_job_is_shown_with_the_repos_file_and_totals_whatever_the_script_does_after(repo):
    repo.write("methods/a.py", "def synthesis():\n    return 1\n")
    repo.write("methods/stats.py", 'jobs = ("a",)\n\n\ndef synthesis(jobs):\n    raise RuntimeError("boom in stats")\n')
    repo.write("methods/report.py", 'jobs = ("s",)\n\n\ndef synthesis(jobs):\n    return jobs.s.load()\n')
    repo.write("build.py", '''def main(urd):
    a = urd.build("a")
    s = urd.build("stats", a=a)
    r = urd.build("report", s=s)
    print(r.load())
''')
    repo.commit("a failing pipeline")
    proc = repo.run("build")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == f'  File "{repo.path / "methods" / "stats.py"}", line 5, in synthesis'    # the repo's file
    assert "accelgit/build/runner.py" not in proc.stderr
    assert proc.stdout.splitlines()[-1] == "1 built, 0 reused, 1 failed, 1 not built"
    assert lines[-1].startswith("accelgit: job stats-") and "RuntimeError: boom in stats; log: " in lines[-1]
    log = lines[-1].split("; log: ")[1].split(" (")[0]
    assert os.path.isfile(log) and "boom in stats" in open(log).read()                  # a path that exists
