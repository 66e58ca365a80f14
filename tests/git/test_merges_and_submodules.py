"""Real git states accelgit must not misread: an index with conflicts (a
merge in progress) and methods inside a git submodule.  Each gives one clear
line, never a plan of the wrong content."""
from __future__ import annotations

from conftest import Repo, make_repo


def conflicted(chain_repo: Repo) -> Repo:
    r = chain_repo
    r.git("checkout", "-q", "-b", "feature")
    r.write("methods/b.py", r.read("methods/b.py") + "\n# theirs\nX = 2\n")
    r.commit("feature edit")
    r.git("checkout", "-q", "main")
    r.write("methods/b.py", r.read("methods/b.py") + "\n# ours\nX = 1\n")
    r.commit("main edit")
    merge = r.git("merge", "feature", check=False)
    assert merge.returncode != 0 and "CONFLICT" in merge.stdout + merge.stderr
    return r


def test_plan_staged_during_a_conflicted_merge_says_so(chain_repo):
    r = conflicted(chain_repo)
    for args in (["plan", "--staged"], ["report", "--base", "HEAD", "--staged"]):
        proc = r.run(*args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr == "accelgit: the index has conflicts (a merge in progress: methods/b.py unmerged): " \
                              "resolve them and 'git add' them first\n"
        assert proc.stdout == ""


def test_the_pre_commit_hook_during_a_conflicted_merge_is_one_line_and_git_goes_on(chain_repo):
    r = conflicted(chain_repo)
    proc = r.run("hook", "run", "pre-commit")
    assert proc.returncode == 0
    assert proc.stderr == "accelgit: pre-commit hook: the index has conflicts (a merge in progress: methods/b.py " \
                          "unmerged): resolve them and 'git add' them first; git goes on\n"
    r.write("methods/b.py", r.read("methods/b.py").replace("<<<<<<< HEAD\n", "").split("=======")[0])
    r.git("add", "methods/b.py")
    assert r.run("plan", "--staged").returncode == 0      # resolved: planned again


def with_method_submodule(tmp_path, chain_repo: Repo) -> Repo:
    lib = make_repo(tmp_path, "lib")
    lib.write("shared.py", "def synthesis():\n    return 'shared'\n")
    lib.commit("a method")
    r = chain_repo
    r.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.path), "vendor")
    r.write("accelgit.toml", 'methods = ["methods", "vendor"]\n')
    r.write("build.py", "def main(urd):\n    urd.build('shared')\n")
    r.commit("a method folder that is a submodule")
    return r


def test_a_method_in_a_submodule_is_refused_with_one_line_in_every_view(tmp_path, chain_repo):
    r = with_method_submodule(tmp_path, chain_repo)
    line = ("accelgit: build.py:2: method 'shared': vendor/shared.py is inside git submodule 'vendor'; accelgit "
            "reads methods and their sources from this repository only (a submodule holds another repository's "
            "commit): move the method out of 'vendor'\n")
    for args in (["build"], ["plan"], ["plan", "--staged"], ["plan", "--at", "HEAD"]):
        proc = r.run(*args)
        assert (proc.returncode, proc.stderr) == (2, line), (args, proc.stderr)
    assert r.job_dirs() == []
