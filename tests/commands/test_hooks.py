"""Git hooks: ``accelgit hooks install|uninstall|status`` and ``accelgit hook
run``, exercised through real ``git commit / merge / pull / checkout`` in temp
repos, reading what the hooks print (git passes hook output on to stderr)."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, Repo, make_repo

HOOKS = ("pre-commit", "post-merge", "post-checkout")
TRIPLE = "def double(x):\n    return x * 3\n"


def hooks_dir(r: Repo) -> Path:
    return r.path / ".git" / "hooks"


def count(r: Repo) -> int:
    return int(r.git("rev-list", "--count", "HEAD").stdout)


def install(r: Repo, *args: str, cwd: Path | None = None) -> dict:
    proc = r.run("hooks", "install", *args, "--json", check=True, cwd=cwd)
    return json.loads(proc.stdout)


def set_policy(r: Repo, commit: bool = True, **policies: str) -> None:
    lines = ["[hooks]"] + [f'{k} = "{v}"' for k, v in policies.items()]
    r.write("accelgit.toml", "\n".join(lines) + "\n")
    if commit:
        r.git("add", "accelgit.toml")
        r.git("commit", "-q", "--no-verify", "-m", "policy")


def foreign_hook(path: Path, text: bytes, mode: int = 0o750) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text)
    os.chmod(path, mode)


def accel_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("accelgit", "  build", "  reuse"))]


@pytest.fixture
def built(chain_repo: Repo) -> Repo:
    """The chain pipeline, committed and built, with accelgit's hooks installed."""
    chain_repo.build()
    install(chain_repo)
    return chain_repo


# --------------------------------------------------------------- install / uninstall / status

def test_install_writes_three_marked_hooks_calling_this_python(repo: Repo):
    res = install(repo)
    assert [h["name"] for h in res["hooks"]] == list(HOOKS)
    assert [h["action"] for h in res["hooks"]] == ["installed"] * 3
    assert res["hooks_dir"] == str(hooks_dir(repo))
    for name in HOOKS:
        p = hooks_dir(repo) / name
        text = p.read_text()
        assert text.splitlines()[1].startswith(f"# accelgit-hook: {name} ")
        assert f"hook={name}\n" in text and f"python={sys.executable}\n" in text
        assert "@HOOK@" not in text and "@PYTHON@" not in text
        assert os.access(p, os.X_OK)
    st = repo.json("hooks", "status")
    assert [(h["name"], h["state"], h["chained"], h["policy"]) for h in st["hooks"]] == \
        [("pre-commit", "installed", None, "warn"), ("post-merge", "installed", None, "warn"),
         ("post-checkout", "installed", None, "warn")]
    assert all(h["python"] == sys.executable and h["python_ok"] for h in st["hooks"])


def test_install_only_the_named_hook_and_status_text(repo: Repo):
    res = install(repo, "--hook", "post-merge")
    assert [h["name"] for h in res["hooks"]] == ["post-merge"]
    assert sorted(p.name for p in hooks_dir(repo).iterdir() if not p.name.endswith(".sample")) == ["post-merge"]
    out = repo.run("hooks", "status", check=True).stdout
    assert f"hooks folder: {hooks_dir(repo)}" in out
    assert "  post-merge     policy warn   installed\n" in out
    assert "  pre-commit     policy warn   not installed\n" in out


def test_install_twice_is_installed_once(chain_repo: Repo):
    foreign_hook(hooks_dir(chain_repo) / "pre-commit", b"#!/bin/sh\necho FOREIGN-RAN\n")
    install(chain_repo)
    first = {n: (hooks_dir(chain_repo) / n).read_bytes() for n in HOOKS}
    again = install(chain_repo)
    assert [h["action"] for h in again["hooks"]] == ["unchanged"] * 3
    assert {n: (hooks_dir(chain_repo) / n).read_bytes() for n in HOOKS} == first
    names = sorted(p.name for p in hooks_dir(chain_repo).iterdir() if not p.name.endswith(".sample"))
    assert names == ["post-checkout", "post-merge", "pre-commit", "pre-commit.accelgit-orig"]
    chain_repo.write("methods/_helper.py", TRIPLE)
    proc = chain_repo.git("commit", "-qam", "triple")
    assert proc.stderr.count("FOREIGN-RAN") == 1
    assert proc.stderr.count("invalidated by this commit") == 1


def test_foreign_hook_survives_install_uninstall_byte_for_byte_and_runs_first(chain_repo: Repo):
    original = b"#!/bin/sh\n# a user's own hook \xe9\t\r\necho \"FOREIGN-RAN $*\"\nexit 0"   # odd bytes on purpose
    hook = hooks_dir(chain_repo) / "pre-commit"
    foreign_hook(hook, original, 0o750)
    res = install(chain_repo)
    assert res["hooks"][0]["chained"] == str(hook) + ".accelgit-orig"
    assert (hooks_dir(chain_repo) / "pre-commit.accelgit-orig").read_bytes() == original
    chain_repo.write("methods/_helper.py", TRIPLE)
    proc = chain_repo.git("commit", "-qam", "triple")
    err = proc.stderr
    assert "FOREIGN-RAN" in err and "2 jobs invalidated by this commit" in err
    assert err.index("FOREIGN-RAN") < err.index("invalidated")
    status = chain_repo.json("hooks", "status")["hooks"][0]
    assert status["state"] == "installed" and status["chained"].endswith("pre-commit.accelgit-orig")
    out = chain_repo.json("hooks", "uninstall")
    assert [(h["name"], h["action"], h["restored"]) for h in out["hooks"]] == [
        ("pre-commit", "removed", str(hook)), ("post-merge", "removed", None), ("post-checkout", "removed", None)]
    assert hook.read_bytes() == original
    assert stat.S_IMODE(hook.stat().st_mode) == 0o750
    assert sorted(p.name for p in hooks_dir(chain_repo).iterdir() if not p.name.endswith(".sample")) == ["pre-commit"]
    chain_repo.write("methods/_helper.py", "def double(x):\n    return x * 4\n")
    proc = chain_repo.git("commit", "-qam", "quad")
    assert "FOREIGN-RAN" in proc.stderr and "accelgit" not in proc.stderr


def test_foreign_hook_failure_stops_the_commit_and_accelgit_does_not_run(chain_repo: Repo):
    foreign_hook(hooks_dir(chain_repo) / "pre-commit", b"#!/bin/sh\necho FOREIGN-SAYS-NO\nexit 3\n")
    install(chain_repo)
    before = count(chain_repo)
    chain_repo.write("methods/_helper.py", TRIPLE)
    proc = chain_repo.git("commit", "-qam", "triple", check=False)
    assert proc.returncode != 0 and "FOREIGN-SAYS-NO" in proc.stderr
    assert "invalidated" not in proc.stderr
    assert count(chain_repo) == before


def test_install_refuses_a_foreign_hook_when_a_kept_one_exists_already(repo: Repo):
    foreign_hook(hooks_dir(repo) / "post-merge", b"#!/bin/sh\necho one\n")
    foreign_hook(hooks_dir(repo) / "post-merge.accelgit-orig", b"#!/bin/sh\necho two\n")
    proc = repo.run("hooks", "install")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"accelgit: cannot install the post-merge hook: {hooks_dir(repo) / 'post-merge'} is not accelgit's and "
        f"{hooks_dir(repo) / 'post-merge.accelgit-orig'} exists too; move one of them away first"]
    assert not (hooks_dir(repo) / "pre-commit").exists()     # nothing changed


def test_uninstall_leaves_another_hook_alone_and_unknown_names_are_usage_errors(repo: Repo):
    foreign_hook(hooks_dir(repo) / "post-checkout", b"#!/bin/sh\n")
    out = repo.json("hooks", "uninstall")
    assert [h["action"] for h in out["hooks"]] == ["not installed", "not installed", "not accelgit's: left alone"]
    assert (hooks_dir(repo) / "post-checkout").read_bytes() == b"#!/bin/sh\n"
    proc = repo.run("hooks", "install", "--hook", "pre-push")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "accelgit: unknown hook 'pre-push' (accelgit has: pre-commit, post-merge, post-checkout)"
    proc = repo.run("hook", "run", "pre-push")
    assert proc.returncode == 2 and "unknown hook 'pre-push'" in proc.stderr


def test_core_hooks_path_is_honoured(chain_repo: Repo):
    chain_repo.git("config", "core.hooksPath", ".githooks")
    res = install(chain_repo)
    assert res["hooks_dir"] == str(chain_repo.path / ".githooks")
    assert (chain_repo.path / ".githooks" / "pre-commit").exists()
    assert not (hooks_dir(chain_repo) / "pre-commit").exists()
    st = chain_repo.json("hooks", "status")
    assert st["core_hooks_path"] == ".githooks" and st["hooks"][0]["state"] == "installed"
    chain_repo.write("methods/_helper.py", TRIPLE)
    proc = chain_repo.git("commit", "-qm", "triple", "methods/_helper.py")
    assert "2 jobs invalidated by this commit" in proc.stderr


def test_linked_worktree_installs_in_the_common_dir_and_plans_its_own_index(chain_repo: Repo, tmp_path: Path):
    wt = tmp_path / "wt"
    chain_repo.git("worktree", "add", "-q", "-b", "side", str(wt))
    res = install(chain_repo, cwd=wt)
    assert res["hooks_dir"] == str(hooks_dir(chain_repo))
    (wt / "methods" / "_helper.py").write_text(TRIPLE)
    proc = subprocess.run(["git", "commit", "-qam", "triple"], cwd=wt, env=chain_repo.env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "2 jobs invalidated by this commit (2 not built yet for the staged content):" in proc.stderr
    proc = chain_repo.git("commit", "-q", "--allow-empty", "-m", "main side")
    assert "accelgit" not in proc.stderr


def test_submodule_hooks_go_to_its_git_dir(chain_repo: Repo, tmp_path: Path):
    sup = make_repo(tmp_path, "super")
    sup.write("README.md", "super\n")
    sup.commit("super")
    sup.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(chain_repo.path), "sub")
    sup.commit("add sub")
    sub = sup.path / "sub"
    res = install(sup, cwd=sub)
    assert res["hooks_dir"] == str(sup.path / ".git" / "modules" / "sub" / "hooks")
    (sub / "methods" / "_helper.py").write_text(TRIPLE)
    proc = subprocess.run(["git", "commit", "-qam", "triple"], cwd=sub, env=sup.env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "2 jobs invalidated by this commit" in proc.stderr


# --------------------------------------------------------------- pre-commit

def test_pre_commit_warn_lists_invalidated_jobs_with_reasons_and_commits(built: Repo):
    before = count(built)
    built.write("methods/_helper.py", TRIPLE)
    built.git("add", "methods/_helper.py")
    proc = built.git("commit", "-q", "-m", "triple")
    lines = accel_lines(proc.stderr)
    assert lines[0] == "accelgit: 2 jobs invalidated by this commit (2 not built yet for the staged content):"
    assert lines[1].startswith("  build  b  source: methods/_helper.py")
    assert lines[2].startswith("  build  c  input: b")
    assert lines[3] == "accelgit: 'accelgit build' builds them"
    assert len(lines) == 4
    assert count(built) == before + 1


def test_pre_commit_block_prevents_the_commit_until_built(built: Repo):
    set_policy(built, pre_commit="block")
    before = count(built)
    built.write("methods/_helper.py", TRIPLE)
    built.git("add", "methods/_helper.py")
    proc = built.git("commit", "-q", "-m", "triple", check=False)
    assert proc.returncode == 1
    assert "2 jobs invalidated by this commit (2 not built yet" in proc.stderr
    assert ("accelgit: commit blocked (hooks.pre_commit = \"block\"): run 'accelgit build' first, "
            "or commit with --no-verify") in proc.stderr
    assert count(built) == before
    built.build()
    proc = built.git("commit", "-q", "-m", "triple")
    assert accel_lines(proc.stderr) == ["accelgit: 2 jobs invalidated by this commit, all built already: b, c"]
    assert "blocked" not in proc.stderr
    assert count(built) == before + 1


def test_pre_commit_block_skipped_with_no_verify_and_env(built: Repo):
    set_policy(built, pre_commit="block")
    before = count(built)
    built.write("methods/_helper.py", TRIPLE)
    proc = built.git("commit", "-q", "--no-verify", "-am", "triple")
    assert "accelgit" not in proc.stderr
    built.write("methods/notes.txt", "changed\n")
    proc = subprocess.run(["git", "commit", "-qam", "notes"], cwd=built.path, capture_output=True, text=True,
                          env={**built.env, "ACCELGIT_SKIP_HOOKS": "1"})
    assert proc.returncode == 0 and "accelgit" not in proc.stderr
    assert count(built) == before + 2


def test_commit_touching_nothing_methods_depend_on_prints_nothing(built: Repo):
    built.write("README.md", "docs only\n")
    built.write("data/other.txt", "not declared by any method\n")
    built.git("add", "-A")
    proc = built.git("commit", "-q", "-m", "docs")
    assert proc.stderr == ""
    proc = built.git("commit", "-q", "--allow-empty", "-m", "empty")
    assert proc.stderr == ""


def test_pre_commit_data_file_change_invalidates_the_chain(built: Repo):
    built.write("data/input.txt", "just two\n")
    proc = built.git("commit", "-qam", "data")
    lines = accel_lines(proc.stderr)
    assert lines[0] == "accelgit: 3 jobs invalidated by this commit (3 not built yet for the staged content):"
    assert [ln.split()[1] for ln in lines[1:4]] == ["a", "b", "c"]
    assert lines[1].startswith("  build  a  file: data/input.txt")


def test_pre_commit_plans_gits_temporary_index(built: Repo):
    # The helper change is staged, but `git commit README.md` commits only
    # README.md (through a temporary index): nothing is invalidated.
    built.write("methods/_helper.py", TRIPLE)
    built.git("add", "methods/_helper.py")
    built.write("README.md", "readme\n")
    built.git("add", "README.md")
    built.write("README.md", "readme, edited\n")
    proc = built.git("commit", "-q", "-m", "readme only", "README.md")
    assert proc.stderr == ""
    assert built.git("show", "--name-only", "--format=", "HEAD").stdout.split() == ["README.md"]
    # ... and `git commit -a` commits an unstaged method change.
    built.git("reset", "-q")
    built.write("methods/notes.txt", "unstaged but committed by -a\n")
    proc = built.git("commit", "-qam", "all")
    assert "accelgit: 2 jobs invalidated by this commit" in proc.stderr
    assert "  build  b  source: methods/_helper.py" in proc.stderr


def test_pre_commit_policy_off_prints_nothing(built: Repo):
    set_policy(built, pre_commit="off")
    built.write("methods/_helper.py", TRIPLE)
    proc = built.git("commit", "-qam", "triple")
    assert proc.stderr == ""


def test_internal_error_exits_0_under_warn_and_blocks_under_block(built: Repo):
    env = {**built.env, "ACCELGIT_TEST_HOOK_FAIL": "pre-commit"}
    before = count(built)
    built.write("methods/_helper.py", TRIPLE)
    proc = subprocess.run(["git", "commit", "-qam", "triple"], cwd=built.path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stderr.strip().splitlines() == [
        "accelgit: pre-commit hook: internal error: RuntimeError: injected failure; git goes on"]
    assert count(built) == before + 1
    set_policy(built, pre_commit="block")
    built.write("methods/_helper.py", "def double(x):\n    return x * 4\n")
    proc = subprocess.run(["git", "commit", "-qam", "quad"], cwd=built.path, env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        "accelgit: pre-commit hook: internal error: RuntimeError: injected failure; the commit is blocked "
        "(hooks.pre_commit = \"block\"; --no-verify skips the hook)"]
    assert count(built) == before + 2     # + the policy commit


def test_a_broken_build_script_in_the_commit_is_one_line_and_does_not_stop_warn(built: Repo):
    built.write("build.py", "def main(urd):\n    urd.build('nosuch')\n")
    proc = built.git("commit", "-qam", "broken")
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("accelgit: pre-commit hook: build.py:2: unknown method 'nosuch'")
    assert lines[0].endswith("; git goes on")


def test_hook_without_accelgit_prints_one_line_and_git_goes_on(built: Repo):
    hook = hooks_dir(built) / "pre-commit"
    text = hook.read_text().replace(f"python={sys.executable}", "python=/nonexistent/python3")
    hook.write_text(text)
    st = built.json("hooks", "status")["hooks"][0]
    assert (st["state"], st["python"], st["python_ok"]) == ("installed", "/nonexistent/python3", False)
    env = {**built.env, "PATH": "/usr/bin:/bin"}
    built.write("methods/_helper.py", TRIPLE)
    proc = subprocess.run(["git", "commit", "-qam", "triple"], cwd=built.path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stderr.strip() == ("accelgit: pre-commit hook skipped: accelgit is not installed "
                                   "(/nonexistent/python3 has no accelgit, none on PATH)")
    # A Python without accelgit falls through to the same line (exit 201 of the bootstrap).
    py = shutil.which("python3", path="/usr/bin:/bin")
    if py:
        hook.write_text(text.replace("python=/nonexistent/python3", f"python={py}"))
        env.pop("PYTHONPATH", None)
        built.write("methods/_helper.py", "def double(x):\n    return x * 4\n")
        proc = subprocess.run(["git", "commit", "-qam", "quad"], cwd=built.path, env=env, capture_output=True,
                              text=True)
        assert proc.returncode == 0
        assert proc.stderr.strip() == (f"accelgit: pre-commit hook skipped: accelgit is not installed "
                                       f"({py} has no accelgit, none on PATH)")


def test_hook_run_json(built: Repo):
    built.write("methods/c.py", built.read("methods/c.py") + "\n# comment\n")
    built.git("add", "methods/c.py")
    doc = built.json("hook", "run", "pre-commit")
    assert doc["hook"] == "pre-commit" and doc["policy"] == "warn" and doc["exit"] == 0
    assert [(j["name"], j["action"], [r["kind"] for r in j["reasons"]]) for j in doc["invalidated"]] == \
        [("c", "build", ["source"])]
    assert doc["unbuilt"] == [doc["invalidated"][0]["id"]] and doc["complete"] is True


# --------------------------------------------------------------- post-merge

def test_merge_lists_what_it_invalidated(built: Repo):
    built.git("checkout", "-q", "-b", "feature")
    built.write("methods/notes.txt", "feature notes\n")
    built.git("commit", "-qam", "notes", "--no-verify")
    built.git("checkout", "-q", "main")
    built.write("README.md", "main moves on\n")
    built.git("add", "README.md")
    built.git("commit", "-qm", "readme")
    proc = built.git("merge", "-q", "--no-edit", "feature")
    lines = accel_lines(proc.stderr)
    assert lines[0] == "accelgit: 2 jobs invalidated by this merge (2 not built yet):"
    assert lines[1].startswith("  build  b  source: methods/notes.txt")
    assert lines[2].startswith("  build  c  input: b")
    assert lines[3:] == ["accelgit: 'accelgit build' builds them"]


def test_squash_merge_compares_head_with_the_staged_merge(built: Repo):
    built.git("checkout", "-q", "-b", "feature")
    built.write("data/input.txt", "feature data\n")
    built.git("commit", "-qam", "data", "--no-verify")
    built.git("checkout", "-q", "main")
    proc = built.git("merge", "-q", "--squash", "feature")
    lines = accel_lines(proc.stderr)
    assert lines[0] == "accelgit: 3 jobs invalidated by this merge (3 not built yet):"
    assert lines[1].startswith("  build  a  file: data/input.txt")


def test_pull_from_a_second_clone_with_post_merge_build_builds(built: Repo, tmp_path: Path):
    set_policy(built, post_merge="build")
    clone = Repo(tmp_path / "clone", built.home)
    subprocess.run(["git", "clone", "-q", str(built.path), str(clone.path)], env=built.env, check=True)
    clone.build()
    install(clone)
    built.write("methods/_helper.py", TRIPLE)
    built.git("commit", "-qam", "triple")
    before = set(clone.job_dirs())
    proc = clone.git("pull", "-q", "--no-rebase")
    lines = accel_lines(proc.stderr)
    assert lines[0] == "accelgit: 2 jobs invalidated by this merge (2 not built yet):"
    assert 'accelgit: building (hooks.post_merge = "build")' in lines
    assert lines[-1] == "accelgit: 2 built, 1 reused (3 jobs)"
    new = set(clone.job_dirs()) - before
    assert sorted(d.split("-")[0] for d in new) == ["b", "c"]
    plan = clone.json("plan")
    assert [j["action"] for j in plan["jobs"]] == ["reuse"] * 3


def test_pull_that_changes_nothing_relevant_is_quiet(built: Repo, tmp_path: Path):
    clone = Repo(tmp_path / "clone", built.home)
    subprocess.run(["git", "clone", "-q", str(built.path), str(clone.path)], env=built.env, check=True)
    install(clone)
    built.write("README.md", "docs\n")
    built.git("add", "README.md")
    built.git("commit", "-qm", "docs")
    proc = clone.git("pull", "-q", "--no-rebase")
    assert "accelgit" not in proc.stderr


# --------------------------------------------------------------- post-checkout

def test_branch_switch_says_what_is_missing_and_switching_back_is_free(built: Repo):
    built.git("checkout", "-q", "-b", "feature")
    built.write("methods/c.py", built.read("methods/c.py").replace('"offset": 0', '"offset": 1'))
    built.git("commit", "-qam", "offset", "--no-verify")
    built.git("checkout", "-q", "main")
    proc = built.git("checkout", "-q", "feature")
    lines = accel_lines(proc.stderr)
    assert lines[0] == "accelgit: 1 of 3 jobs not built for this commit (2 built already); 'accelgit build' builds them:"
    assert lines[1].startswith("  build  c  ")
    assert len(lines) == 2
    built.build()
    proc = built.git("checkout", "-q", "main")
    assert accel_lines(proc.stderr) == ["accelgit: all 3 jobs of this commit are built already"]
    # A file checkout (third argument 0) and a new branch at the same commit say nothing.
    built.write("README.md", "x\n")
    proc = built.git("checkout", "-q", "--", "methods/c.py")
    assert proc.stderr == ""
    proc = built.git("checkout", "-q", "-b", "another")
    assert proc.stderr == ""


def test_post_checkout_policy_off(built: Repo):
    set_policy(built, post_checkout="off")
    built.git("checkout", "-q", "-b", "feature")
    built.write("methods/_helper.py", TRIPLE)
    built.git("commit", "-qam", "x", "--no-verify")
    built.git("checkout", "-q", "main")
    proc = built.git("checkout", "-q", "feature")
    assert proc.stderr == ""


# --------------------------------------------------------------- the pre-commit framework

def _pre_commit():
    exe = shutil.which("pre-commit", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    if exe is None:
        pytest.skip("the pre-commit package is not installed (pip install -e '.[test]')")
    return exe


def test_pre_commit_hooks_yaml_is_a_valid_manifest():
    exe = _pre_commit()
    proc = subprocess.run([exe, "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


NETWORK_SIGNS = ("Could not find a version", "No matching distribution", "Failed to establish a new connection",
                 "Temporary failure in name resolution", "Network is unreachable", "ConnectionError",
                 "Max retries exceeded")


def test_pre_commit_framework_runs_accelgit_hooks(chain_repo: Repo, tmp_path: Path):
    """The real pre-commit framework installs accelgit from a clone of this
    repository (its work tree as it is now) and runs its hooks in git."""
    exe = _pre_commit()
    src = tmp_path / "accelgit-src"
    env = {**chain_repo.env, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "PIP_CACHE_DIR": os.path.join(os.path.expanduser("~"), ".cache", "pip")}
    env.pop("PYTHONPATH")           # the framework's own environment must provide accelgit
    junk = shutil.ignore_patterns(".git", ".accelgit", ".venv", "*.egg-info", "__pycache__", ".pytest_cache",
                                  ".hypothesis")

    def ignore(folder, names):          # build/ only at the top: accelgit/build is source
        return set(junk(folder, names)) | ({"build"} if os.path.samefile(folder, ROOT) else set())
    shutil.copytree(ROOT, src, ignore=ignore)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "snapshot"]):
        subprocess.run(["git", *args], cwd=src, env=env, check=True, capture_output=True)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=src, env=env, capture_output=True, text=True).stdout.strip()
    chain_repo.write(".pre-commit-config.yaml", f"""
        repos:
          - repo: {src}
            rev: {rev}
            hooks:
              - id: accelgit-pre-commit
              - id: accelgit-post-checkout
              - id: accelgit-post-merge
    """)
    chain_repo.git("add", ".pre-commit-config.yaml")
    chain_repo.git("commit", "-qm", "pre-commit config")
    chain_repo.build()
    proc = subprocess.run([exe, "install", "-t", "pre-commit", "-t", "post-checkout", "-t", "post-merge",
                           "--install-hooks"], cwd=chain_repo.path, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        out = proc.stdout + proc.stderr
        log = tmp_path / "pre-commit-home" / "pre-commit.log"
        out += log.read_text() if log.exists() else ""
        if any(sign in out for sign in NETWORK_SIGNS):
            pytest.skip("the pre-commit framework could not install accelgit's dependencies from the package "
                        "index (no network?): " + next(s for s in NETWORK_SIGNS if s in out))
        raise AssertionError(out)
    chain_repo.write("methods/_helper.py", TRIPLE)
    proc = subprocess.run(["git", "commit", "-qam", "triple"], cwd=chain_repo.path, env=env,
                          capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "accelgit (jobs this commit invalidates)" in out and "Passed" in out
    assert "accelgit: 2 jobs invalidated by this commit (2 not built yet for the staged content):" in out
    proc = subprocess.run(["git", "checkout", "-q", "HEAD~1"], cwd=chain_repo.path, env=env,
                          capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert "accelgit: all 3 jobs of this commit are built already" in out, out
    subprocess.run(["git", "checkout", "-q", "main"], cwd=chain_repo.path, env=env, check=True, capture_output=True)
    set_policy(chain_repo, commit=False, pre_commit="block")
    chain_repo.write("methods/_helper.py", "def double(x):\n    return x * 4\n")
    before = count(chain_repo)
    proc = subprocess.run(["git", "commit", "-qam", "quad"], cwd=chain_repo.path, env=env,
                          capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Failed" in out and "commit blocked" in out, out
    assert count(chain_repo) == before


def test_what_the_build_scripts_print_is_kept_out_of_hooks_and_reports_unless_they_fail(repo: Repo):
    """A build script's own prints belong to builds: a hook, a report or a
    verify that runs the script to plan it keeps them, and shows them only
    when the script fails."""
    repo.write("methods/a.py", "options = {'n': 0}\n\ndef synthesis(options):\n    return options.n\n")
    repo.write("build.py", "def main(urd):\n    print('HELLO FROM THE SCRIPT')\n    urd.build('a')\n")
    repo.commit("a")
    repo.build()
    repo.run("hooks", "install", check=True)
    repo.write("build.py", "def main(urd):\n    print('HELLO FROM THE SCRIPT')\n    urd.build('a', n=1)\n")
    repo.git("add", "-A")
    commit = repo.git("commit", "-q", "-m", "n=1")
    assert "HELLO" not in commit.stdout + commit.stderr and "accelgit" in commit.stderr
    for args in (["report", "--base", "HEAD~1"], ["verify"], ["plan", "--staged", "--json"]):
        proc = repo.run(*args)
        if args[0] != "plan":
            assert "HELLO" not in proc.stdout + proc.stderr, args
    assert "HELLO FROM THE SCRIPT" in repo.run("plan").stderr      # plan runs the scripts for you: shown
    repo.write("build.py", "def main(urd):\n    print('HELLO BEFORE FAILING')\n    raise RuntimeError('no')\n")
    repo.git("add", "-A")
    commit = repo.git("commit", "-q", "-m", "broken", check=False)
    assert "HELLO BEFORE FAILING" in commit.stderr and "RuntimeError: no" in commit.stderr, commit.stderr
