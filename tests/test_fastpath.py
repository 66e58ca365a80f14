"""The CLI fast path (accelgit/fastargs.py): simple ``build``/``plan``/``hook
run`` command lines skip Typer's parsing, and must behave exactly as through
Typer: same stdout, stderr and exit code (ACCELGIT_FASTPATH=0 forces Typer)."""
from __future__ import annotations

import pytest

from accelgit.fastargs import hoist_global_options, parse


@pytest.mark.parametrize("args, expected", [
    (["build"], ("build", {"scripts": None, "jobs": None, "directory": None, "as_json": False})),
    (["build", "a.py", "--json", "-j", "3", "b.py"],
     ("build", {"scripts": ["a.py", "b.py"], "jobs": 3, "directory": None, "as_json": True})),
    (["build", "--jobs=2", "-Cdir"], ("build", {"scripts": None, "jobs": 2, "directory": "dir", "as_json": False})),
    (["build", "-j4", "-C", ""], ("build", {"scripts": None, "jobs": 4, "directory": "", "as_json": False})),
    (["build", "-j", "2", "-j", "3"], ("build", {"scripts": None, "jobs": 3, "directory": None, "as_json": False})),
    (["plan", "--staged", "--exit-code", "--json"],
     ("plan", {"scripts": None, "staged": True, "at": None, "exit_code": True, "directory": None, "as_json": True})),
    (["plan", "--at", "HEAD~1", "x.py"],
     ("plan", {"scripts": ["x.py"], "staged": False, "at": "HEAD~1", "exit_code": False, "directory": None,
               "as_json": False})),
    (["plan", "--at=v1"], ("plan", {"scripts": None, "staged": False, "at": "v1", "exit_code": False,
                                     "directory": None, "as_json": False})),
    (["hook", "run", "post-checkout", "a", "b", "1", "-C", "d"],
     ("hook run", {"name": "post-checkout", "extra": ["a", "b", "1"], "directory": "d", "as_json": False})),
])
def test_simple_command_lines_are_parsed(args, expected):
    assert parse(args) == expected


@pytest.mark.parametrize("args", [
    [], ["--help"], ["build", "--help"], ["build", "-j", "0"], ["build", "-j", "+3"], ["build", "-j", "x"],
    ["build", "-j"], ["build", "--", "-a"], ["build", "-"], ["build", "--unknown"], ["build", "-C", "-x"],
    ["build", "--json=1"], ["plan", "--at"], ["plan", "--at", "--staged"], ["plan", "-j", "2"],
    ["hook", "run"], ["hook", "run", "x", "--foo"], ["hook", "--json", "run", "x"], ["hooks", "status"],
    ["verify"], ["show", "x"],
])
def test_anything_else_is_left_to_typer(args):
    assert parse(args) is None


def test_global_options_move_behind_the_command():
    assert hoist_global_options(["-C", "d", "--json", "plan", "x"]) == ["plan", "x", "-C", "d", "--json"]
    assert hoist_global_options(["-Cd", "build"]) == ["build", "-Cd"]
    assert hoist_global_options(["build", "-C", "d"]) == ["build", "-C", "d"]


def test_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("ACCELGIT_FASTPATH", "0")
    assert parse(["build"]) is None


@pytest.mark.parametrize("args", [
    ["build"], ["build", "--json"], ["build", "-j", "1", "build.py"], ["build", "nope.py"], ["build", "-j", "0"],
    ["plan"], ["plan", "--json"], ["plan", "--exit-code"], ["plan", "--at", "nope"], ["plan", "--staged", "--at", "HEAD"],
    ["--json", "build"], ["build", "-C", "missing-dir"], ["hook", "run", "pre-commit"], ["hook", "run", "bogus"],
])
def test_fast_and_typer_paths_agree(chain_repo, args):
    chain_repo.build()
    if "build" not in args:      # a build must find nothing to do, or the second run would differ
        chain_repo.write("methods/notes.txt", "changed\n")      # something for plan to report
    fast = chain_repo.run(*args)
    slow = chain_repo.run(*args, env={"ACCELGIT_FASTPATH": "0"})
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
