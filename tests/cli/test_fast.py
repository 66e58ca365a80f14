"""The command line is declared once (accelgit/cli/spec.py); the fast parser
(accelgit/cli/fast.py) and the Typer app (accelgit/cli/app.py) are both made
from it.  These tests hold them to each other: every option of every fast
command, parsed both ways, gives the same keyword arguments; every command
and option of the table reaches its function through Typer; and the whole
command, fast and through Typer, gives the same stdout, stderr and exit code
(ACCELGIT_FASTPATH=0 forces Typer)."""
from __future__ import annotations

import itertools

import pytest

from accelgit.cli import app, spec
from accelgit.cli.fast import hoist_global_options, parse


def typer_kwargs(args: list[str], monkeypatch) -> tuple[str, dict] | int:
    """What Typer hands to dispatch for ``args``, or the exit code when it hands nothing."""
    got = []
    monkeypatch.setattr(app, "dispatch", lambda cmd, kw: got.append((cmd.name, kw)) or 0)
    code = app.run(args)
    return got[0] if got else code


def fast_kwargs(args: list[str]):
    hit = parse(args)
    return None if hit is None else (hit[0].name, hit[1])


def sample_values(o: spec.Opt) -> list[str]:
    return {"int": ["3"], "str": ["x.py"], "strs": ["a", "b"], "flag": []}[o.kind]


def option_lines(cmd: spec.Cmd):
    """Command lines using each option of ``cmd``, in each of its spellings, alone and after an argument."""
    for o in spec.options(cmd):
        for flag in o.flags:
            values = sample_values(o)
            if o.kind == "flag":
                yield [*cmd.words, flag]
            else:
                yield [*cmd.words, flag, values[0]]
                if flag.startswith("--"):
                    yield [*cmd.words, f"{flag}={values[0]}"]
                else:
                    yield [*cmd.words, f"{flag}{values[0]}"]


FAST = [c for c in spec.COMMANDS if c.fast]


@pytest.mark.parametrize("cmd", FAST, ids=[c.name for c in FAST])
def test_every_option_of_a_fast_command_parses_the_same_both_ways(cmd, monkeypatch):
    positional = ["pre-commit"] if cmd.name == "hook run" else ["one.py"]
    lines = list(option_lines(cmd))
    assert lines, cmd.name
    checked = 0
    for line in lines:
        for args in (line, line[:len(cmd.words)] + positional + line[len(cmd.words):]):
            if cmd.name == "hook run" and args == line:
                continue                # hook run needs its NAME
            fast = fast_kwargs(args)
            if fast is None:
                continue                # left to Typer: nothing to compare
            assert fast == typer_kwargs(args, monkeypatch), args
            checked += 1
    # every option of the command was taken by the fast parser at least once
    assert checked >= len(spec.options(cmd)), checked


@pytest.mark.parametrize("cmd", FAST, ids=[c.name for c in FAST])
def test_options_combined_parse_the_same_both_ways(cmd, monkeypatch):
    opts = [o for o in spec.options(cmd) if o.kind != "strs"]
    positional = ["pre-commit", "a", "b"] if cmd.name == "hook run" else ["x.py", "y.py"]
    for k in (2, 3):
        for combo in itertools.combinations(opts, k):
            args = list(cmd.words) + positional[:1]
            for o in combo:
                args += [o.flags[-1]] + sample_values(o)[:1]
            args += positional[1:]
            fast = fast_kwargs(args)
            assert fast is not None, args
            assert fast == typer_kwargs(args, monkeypatch), args


@pytest.mark.parametrize("cmd", spec.COMMANDS, ids=[c.name for c in spec.COMMANDS])
def test_every_command_and_option_reaches_its_function_through_typer(cmd, monkeypatch):
    args = list(cmd.words) + [a.metavar.lower() for a in spec.arguments(cmd) if a.required]
    for o in spec.options(cmd):
        args += [o.flags[0]] + sample_values(o)[:1]
    name, kw = typer_kwargs(args, monkeypatch)
    assert name == cmd.name
    assert set(kw) == set(spec.defaults(cmd))           # exactly the declared keywords
    for o in spec.options(cmd):
        expected = {"flag": True, "int": 3, "str": "x.py", "strs": ["a"]}[o.kind]
        assert kw[o.dest] == expected, (o.dest, kw)


@pytest.mark.parametrize("cmd", spec.COMMANDS, ids=[c.name for c in spec.COMMANDS])
def test_help_reads_like_git(cmd, capsys):
    assert app.run([*cmd.words, "--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: accelgit {cmd.name}")
    for o in spec.options(cmd):
        assert o.spelling in text
    for junk in ("<bool>", "<list", "<str>", "<int", "]...]", "[x>=1]", "╭"):
        assert junk not in text, (junk, text)


def test_top_level_help_shows_the_global_options_and_every_command(capsys):
    assert app.run(["--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: accelgit [--version] [-C DIR] [--json] COMMAND")
    for cmd in spec.COMMANDS:
        assert f"    {cmd.words[0]} " in text
    assert "-C DIR" in text and "--json" in text


@pytest.mark.parametrize("args, message", [
    (["build", "-j", "0"], "accelgit: build: invalid value for '-j' / '--jobs'"),
    (["report"], "accelgit: report: missing option '--base'"),
    (["nosuch"], "accelgit: no such command 'nosuch'"),
    (["log", "--bogus"], "accelgit: log: no such option: --bogus"),
])
def test_argument_errors_are_one_line(args, message, capsys):
    assert app.run(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err


@pytest.mark.parametrize("args, expected", [
    (["build"], ("build", {"scripts": [], "jobs": None, "target": [], "force": [], "quiet": False, "verbose": False, "executor": None, "scheduler": None, "directory": None, "as_json": False})),
    (["build", "a.py", "--json", "-j", "3", "b.py"],
     ("build", {"scripts": ["a.py", "b.py"], "jobs": 3, "target": [], "force": [], "quiet": False, "verbose": False, "executor": None, "scheduler": None, "directory": None, "as_json": True})),
    (["build", "--jobs=2", "-Cdir"], ("build", {"scripts": [], "jobs": 2, "target": [], "force": [], "quiet": False, "verbose": False, "executor": None, "scheduler": None, "directory": "dir", "as_json": False})),
    (["build", "-j4", "-C", ""], ("build", {"scripts": [], "jobs": 4, "target": [], "force": [], "quiet": False, "verbose": False, "executor": None, "scheduler": None, "directory": "", "as_json": False})),
    (["build", "--scheduler", "tcp://h:8786", "--executor=dask"],
     ("build", {"scripts": [], "jobs": None, "target": [], "force": [], "quiet": False, "verbose": False, "executor": "dask",
                "scheduler": "tcp://h:8786", "directory": None, "as_json": False})),
    (["build", "-j", "2", "-j", "3"], ("build", {"scripts": [], "jobs": 3, "target": [], "force": [], "quiet": False, "verbose": False, "executor": None, "scheduler": None, "directory": None, "as_json": False})),
    (["plan", "--staged", "--exit-code", "--json"],
     ("plan", {"scripts": [], "staged": True, "at": None, "exit_code": True, "verbose": False, "directory": None, "as_json": True})),
    (["plan", "--at", "HEAD~1", "x.py"],
     ("plan", {"scripts": ["x.py"], "staged": False, "at": "HEAD~1", "exit_code": False, "verbose": False, "directory": None,
               "as_json": False})),
    (["hook", "run", "post-checkout", "a", "b", "1", "-C", "d"],
     ("hook run", {"name": "post-checkout", "args": ["a", "b", "1"], "directory": "d", "as_json": False})),
])
def test_simple_command_lines_are_parsed(args, expected, monkeypatch):
    assert fast_kwargs(args) == expected
    assert typer_kwargs(args, monkeypatch) == expected


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


def test_version(chain_repo):
    from accelgit import __version__
    for args in (["--version"], ["--version", "-C", "x"]):
        proc = chain_repo.run(*args)
        assert (proc.returncode, proc.stdout) == (0, f"accelgit {__version__}\n"), proc.stderr


def test_log_takes_zero_for_all(monkeypatch):
    assert typer_kwargs(["log", "-n", "0"], monkeypatch)[1]["limit"] == 0
    assert app.run(["log", "-n", "-1"]) == 2


def test_a_group_alone_prints_its_help_with_a_final_newline(capsys):
    assert app.run(["hooks"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: accelgit hooks") and out.endswith("\n") and not out.endswith("\n\n\n")


def test_installs_from_before_the_layered_package_still_work(chain_repo):
    """An older install's console script imports accelgit.entry, and its git
    hooks accelgit.hook_run: both still run the command line."""
    import subprocess
    import sys
    for code, args in (("from accelgit.entry import main; raise SystemExit(main())", ["--version"]),
                       ("from accelgit.hook_run import main; raise SystemExit(main())", ["bogus"])):
        proc = subprocess.run([sys.executable, "-c", code, *args], cwd=chain_repo.path, env=chain_repo.env,
                              capture_output=True, text=True)
        if args == ["--version"]:
            assert proc.returncode == 0 and proc.stdout.startswith("accelgit ")
        else:
            assert (proc.returncode, proc.stderr) == (
                2, "accelgit: unknown hook 'bogus' (accelgit has: pre-commit, post-merge, post-checkout)\n")
    hook = chain_repo.path / ".git" / "hooks" / "pre-commit"
    chain_repo.run("hooks", "install", check=True)
    hook.write_text(hook.read_text().replace("from accelgit.cli.main import main", "from accelgit.hook_run import main"))
    status = chain_repo.run("hooks", "status", check=True).stdout
    assert "written by another accelgit version: run 'accelgit hooks install'" in status
