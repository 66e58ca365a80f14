"""Work-tree files are hashed as git would store them (accelgit/git/convert.py):
with ``core.autocrlf``, ``.gitattributes`` ``text``/``eol`` and clean filters,
a file whose content is the index's gives the index's blob, however it was
touched, and a job built from an uncommitted edit is the job of the commit
that holds the edit."""
from __future__ import annotations

import os
import time

import pytest
from conftest import Repo

from accelgit.git.repo import find_repo
from accelgit.git.views import WorktreeView

METHOD = "options = {'k': 1}\n\ndef synthesis(options):\n    return options.k * 2\n"
SCRIPT = "def main(urd):\n    urd.build('a')\n"


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def touch_later(path) -> None:
    t = time.time() + 5
    os.utime(path, (t, t))              # stat data no longer git's: git diff-files lists it


def staged_blob(repo: Repo, rel: str) -> str:
    """The blob ``git add`` makes of ``rel`` now (on a copy of the index)."""
    env = dict(repo.env, GIT_INDEX_FILE=str(repo.path / ".git" / "probe-index"))
    import shutil
    import subprocess
    shutil.copyfile(repo.path / ".git" / "index", env["GIT_INDEX_FILE"])
    subprocess.run(["git", "add", rel], cwd=repo.path, env=env, check=True)
    out = subprocess.run(["git", "ls-files", "-s", rel], cwd=repo.path, env=env, check=True,
                         capture_output=True, text=True).stdout
    os.unlink(env["GIT_INDEX_FILE"])
    return out.split()[1]


def view_blob(repo: Repo, rel: str) -> str | None:
    view = WorktreeView(find_repo(str(repo.path)))
    try:
        return view.blob(rel)
    finally:
        view.close()


def commit_and_check_out(repo: Repo) -> None:
    """Commit the pipeline, then check its method out again: with CRLF line ends."""
    repo.write("methods/a.py", METHOD)
    repo.write("build.py", SCRIPT)
    repo.commit("pipeline")
    os.unlink(repo.path / "methods" / "a.py")
    repo.git("checkout", "--", "methods/a.py")
    assert (repo.path / "methods" / "a.py").read_bytes() == crlf(METHOD)


@pytest.fixture
def autocrlf(repo: Repo) -> Repo:
    """A method committed with LF and checked out with CRLF (core.autocrlf=true), built."""
    repo.git("config", "core.autocrlf", "true")
    commit_and_check_out(repo)
    repo.build()
    return repo


def test_a_touched_crlf_checkout_is_the_index_blob(autocrlf: Repo):
    repo = autocrlf
    index_blob = repo.git("ls-files", "-s", "methods/a.py").stdout.split()[1]
    touch_later(repo.path / "methods" / "a.py")
    assert "methods/a.py" in repo.git("diff-files", "--name-only").stdout
    assert view_blob(repo, "methods/a.py") == index_blob
    doc = repo.json("plan")
    assert doc["summary"] == {"build": 0, "reuse": 1}, doc["jobs"]
    assert [j["action"] for j in repo.build()["jobs"]] == ["reused"]
    assert len(repo.job_dirs()) == 1                       # no duplicate job


def test_an_edited_crlf_file_is_hashed_as_git_add_stores_it(autocrlf: Repo):
    repo = autocrlf
    (repo.path / "methods" / "a.py").write_bytes(crlf(METHOD.replace("* 2", "* 3")))
    touch_later(repo.path / "methods" / "a.py")            # (same size, maybe the same second)
    want = staged_blob(repo, "methods/a.py")
    assert view_blob(repo, "methods/a.py") == want
    job = repo.build()["jobs"][0]
    assert job["action"] == "built"
    repo.commit("times three")                            # the commit holds the edit: the same job
    assert repo.json("plan")["summary"] == {"build": 0, "reuse": 1}
    assert repo.build()["jobs"][0] == dict(job, action="reused", seconds=0.0)
    source = os.path.join(job["path"], "source", "methods", "a.py")
    assert open(source, "rb").read() == METHOD.replace("* 2", "* 3").encode()    # the content git stores


def test_a_committed_crlf_file_keeps_its_crlf_blob(repo: Repo):
    """git's "safer autocrlf": a file committed with CRLF stays CRLF in git."""
    repo.write("methods/a.py", "")
    (repo.path / "methods" / "a.py").write_bytes(crlf(METHOD))
    repo.write("build.py", SCRIPT)
    repo.commit("crlf in the repository")
    repo.git("config", "core.autocrlf", "true")
    blob = repo.git("ls-files", "-s", "methods/a.py").stdout.split()[1]
    repo.build()
    touch_later(repo.path / "methods" / "a.py")
    assert view_blob(repo, "methods/a.py") == blob
    assert repo.json("plan")["summary"] == {"build": 0, "reuse": 1}
    (repo.path / "methods" / "a.py").write_bytes(crlf(METHOD + "# more\n"))
    touch_later(repo.path / "methods" / "a.py")
    assert view_blob(repo, "methods/a.py") == staged_blob(repo, "methods/a.py")


def test_gitattributes_eol_and_a_clean_filter(repo: Repo):
    repo.git("config", "filter.upper.clean", "tr a-z A-Z")
    repo.git("config", "filter.upper.smudge", "cat")
    repo.write(".gitattributes", "*.py text eol=crlf\n*.dat filter=upper\n")
    commit_and_check_out(repo)
    touch_later(repo.path / "methods" / "a.py")
    assert view_blob(repo, "methods/a.py") == repo.git("ls-files", "-s", "methods/a.py").stdout.split()[1]
    repo.write("data/x.dat", "some data\n")                 # untracked: what git add would store
    assert view_blob(repo, "data/x.dat") == staged_blob(repo, "data/x.dat")
    assert view_blob(repo, "data/x.dat") == repo.git("hash-object", "--stdin", input="SOME DATA\n").stdout.strip()


def test_without_conversion_nothing_more_runs(repo: Repo, tmp_path):
    """No attributes, no autocrlf: a file whose bytes are the index's asks git
    nothing; an edited one is hashed by accelgit itself, as before."""
    repo.write("methods/a.py", METHOD)
    repo.write("build.py", SCRIPT)
    repo.commit("plain")
    trace = tmp_path / "trace"
    touch_later(repo.path / "methods" / "a.py")
    repo.run("plan", check=True, env={"GIT_TRACE": str(trace)})
    assert "check-attr" not in trace.read_text() and "update-index" not in trace.read_text()
    repo.write("methods/a.py", METHOD + "# edit\n")
    trace.unlink()
    repo.run("plan", check=True, env={"GIT_TRACE": str(trace)})
    assert "update-index" not in trace.read_text()
    assert view_blob(repo, "methods/a.py") == staged_blob(repo, "methods/a.py")
