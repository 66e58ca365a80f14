"""Bad input, table-driven: every item of the method and build-script API
(SPEC §3, §4) misused, bad configuration, and repositories accelgit cannot
(or can) work in.  Each row: what is set up, the command, the exit code, and
the one ``accelgit: ...`` line it must print (what and where).  No traceback
unless ACCELGIT_DEBUG=1, which must then show one."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import git_env, make_repo, write_files

BASE = {
    "methods/a.py": """
        options = {"scale": 1, "cfg": {}}

        def synthesis(options):
            return options.scale
    """,
    "methods/b.py": """
        jobs = ("a",)

        def synthesis(jobs):
            return jobs.a.load() + 1
    """,
    "build.py": """
        def main(urd):
            a = urd.build("a")
            urd.build("b", a=a)
    """,
}


def script(*calls: str) -> dict:
    """A build.py whose main() makes ``calls`` (``a`` is built first, line 3)."""
    body = "\n".join("    " + c for c in calls)
    return {"build.py": f"def main(urd):\n    a = urd.build(\"a\")\n{body}\n"}


@dataclass
class Case:
    name: str
    files: dict = field(default_factory=dict)        # on top of BASE (None removes a file)
    args: tuple = ("build",)
    code: int = 2
    line: str = ""                                   # regex for the one "accelgit: ..." line (or stdout's last line on success)
    where: str = "repo"                              # repo | plain | bare | shallow | odd-path
    method_traceback: bool = False                   # a method's own exception: its traceback is shown (SPEC §7)


JOB = r"[0-9a-f]{12}"
ONLY_A = {"build.py": 'def main(urd):\n    urd.build("a")\n'}
CASES = [
    # ---- methods (SPEC §3)
    Case("unknown method", script('urd.build("nope")'),
         line=r"build\.py:3: unknown method 'nope': no nope\.py or a_nope\.py in methods/ \(worktree\)$"),
    Case("x.py and a_x.py", {"methods/a_a.py": BASE["methods/a.py"]},
         line=r"method 'a' is ambiguous: methods/a\.py and methods/a_a\.py both define it$"),
    Case("unknown option (keyword)", script('urd.build("a", scael=2)'),
         line=r"build\.py:3: method 'a' has no option or input job named 'scael' \(options: scale, cfg; jobs: none\)$"),
    Case("unknown option (options=)", script('urd.build("a", options={"scael": 2})'),
         line=r"build\.py:3: method 'a' has no option 'scael' \(options: scale, cfg\)$"),
    Case("mistyped option", script('urd.build("a", scale="two")'),
         line=r"build\.py:3: option 'scale' expects int \(default 1\), got 'two'$"),
    Case("non-JSON option value", script('urd.build("a", cfg={"k": {1, 2}})'),
         line=r"build\.py:3: option 'cfg'\['k'\]: a value of type set is not JSON-like$"),
    Case("lone surrogate in an option string", script('urd.build("a", cfg={"k": "x\\ud800"})'),
         line=r"build\.py:3: option 'cfg'\['k'\]: 'x\\ud800' is not valid unicode text \(it holds a lone surrogate\)$"),
    Case("NaN option value", script('urd.build("a", scale=float("nan"))'),
         line=r"build\.py:3: option 'scale': nan is not a finite number"),
    Case("non-literal option default", {"methods/a.py": "options = {'scale': len('x')}\ndef synthesis():\n    pass\n"},
         line=r"methods/a\.py:1: options: must be a literal value"),
    Case("method without prepare/analysis/synthesis", {"methods/a.py": "options = {}\n"},
         line=r"methods/a\.py: method 'a' defines none of prepare\(\), analysis\(\), synthesis\(\)$"),
    Case("method with a syntax error", {"methods/a.py": "options = {}\ndef synthesis(:\n    pass\n"},
         line=r"methods/a\.py:2: syntax error: "),
    Case("missing declared data file",
         {"methods/a.py": 'files = ("data/missing.txt",)\ndef synthesis():\n    pass\n'},
         line=r"build\.py:3: data file 'data/missing\.txt' declared by methods/a\.py does not exist \(worktree\)$"),
    Case("depend_extra outside the repo",
         {"methods/a.py": 'depend_extra = ("../../etc/passwd",)\ndef synthesis():\n    pass\n'},
         line=r"methods/a\.py: depend_extra: file '\.\./\.\./etc/passwd' is outside the repository$"),
    Case("depend_extra missing",
         {"methods/a.py": 'depend_extra = ("methods/nothere.txt",)\ndef synthesis():\n    pass\n'},
         line=r"methods/a\.py: depend_extra: 'methods/nothere\.txt' does not exist \(worktree\)$"),
    Case("job.open escaping the job (../../etc/x)",
         {"methods/a.py": 'def synthesis(job):\n    with job.open("../../etc/x", "w") as f:\n        f.write("x")\n', **ONLY_A},
         code=1, method_traceback=True,
         line=rf"job a-{JOB} \(methods/a\.py\) failed: ValueError: '\.\./\.\./etc/x' is outside the job's output folder; "
              rf"refused; log: .*/\.failed/a-{JOB}\.[^/]+/log/synthesis\.txt$"),
    Case("method raising", {"methods/a.py": 'def synthesis():\n    raise RuntimeError("bad data in row 7")\n', **ONLY_A},
         code=1, method_traceback=True,
         line=rf"job a-{JOB} \(methods/a\.py\) failed: RuntimeError: bad data in row 7; log: .*/log/synthesis\.txt$"),
    # ---- build scripts (SPEC §4)
    Case("jobs given a non-job", script('urd.build("b", a="a-123")'),
         line=r"build\.py:3: input job 'a' must be a Job returned by urd\.build, not str 'a-123'$"),
    Case("a list input given one job",
         {"methods/b.py": 'jobs = ("[srcs]",)\ndef synthesis():\n    pass\n', **script('urd.build("b", srcs=a)')},
         line=r"build\.py:3: input 'srcs' of 'b' is a list of jobs; give a list$"),
    Case("name= not a string", script('urd.build("b", a=a, name=3)'),
         line=r"build\.py:3: name= must be a string, not int 3$"),
    Case("build script raising", script("1 / 0"),
         line=r"build\.py:3: ZeroDivisionError: division by zero$"),
    Case("build script syntax error", {"build.py": "def main(urd)\n    pass\n"},
         line=r"build\.py:1: syntax error: "),
    Case("build script without main()", {"build.py": "x = 1\n"},
         line=r"build\.py: a build script needs a 'def main\(urd\):' function, and this one has none$"),
    Case("unknown build script", args=("build", "nosuch.py"),
         line=r"build script 'nosuch\.py' does not exist \(worktree\)$"),
    Case("unknown job on the command line", args=("show", "nosuchjob"),
         line=r"no job matches 'nosuchjob' in the workdirs \(local\)$"),
    # ---- configuration (SPEC §2)
    Case("malformed accelgit.toml", {"accelgit.toml": "methods = [\n"},
         line=r"accelgit\.toml: not valid TOML: "),
    Case("unknown key in accelgit.toml", {"accelgit.toml": 'method = ["methods"]\n'},
         line=r"accelgit\.toml: unknown key 'method' \(known: "),
    Case("wrong type in accelgit.toml", {"accelgit.toml": 'slices = "four"\n'},
         line=r"accelgit\.toml: 'slices' must be an integer, not str$"),
    # ---- repositories
    Case("not a git repository", where="plain",
         line=r"accelgit needs a git repository: .* is not inside one \(run 'git init' first\)$"),
    Case("a bare repository", where="bare", line=r"accelgit needs a work tree: .* is a bare git repository$"),
    Case("a shallow clone builds", where="shallow", code=0, line=r"^2 built, 0 reused \(2 jobs\)$"),
    Case("a shallow clone, --at an absent old commit", where="shallow", args=("plan", "--at", "HEAD~1"),
         line=r"unknown revision 'HEAD~1' in .* \(this is a shallow clone: older commits are not here\)$"),
    Case("a path with spaces and non-ASCII names", where="odd-path", code=0,
         line=r"^3 built, 0 reused \(3 jobs\)$"),
]


def _repo(tmp_path: Path, case: Case) -> tuple[Path, dict]:
    """The folder to run in and its environment."""
    if case.where == "plain":
        d = tmp_path / "plain"
        d.mkdir()
        return d, git_env(tmp_path)
    if case.where == "bare":
        d = tmp_path / "bare.git"
        subprocess.run(["git", "init", "-q", "--bare", str(d)], check=True, env=git_env(tmp_path))
        return d, git_env(tmp_path)
    name = "dir with spaces ü é" if case.where == "odd-path" else "repo"
    r = make_repo(tmp_path, name)
    files = {**BASE, **case.files}
    if case.where == "odd-path":
        files["data/my file ü.txt"] = "grüße\n"
        files["methods/größe.py"] = ('files = ("data/my file ü.txt",)\njobs = ("a",)\n'
                                     "def synthesis(files, job):\n"
                                     '    with job.open("ausgabe ü.txt", "w") as f:\n'
                                     '        f.write(open(files["data/my file ü.txt"]).read())\n'
                                     '    return job.open("ausgabe ü.txt").read()\n')
        files["build.py"] = ('def main(urd):\n    a = urd.build("a")\n    urd.build("b", a=a)\n'
                             '    g = urd.build("größe", a=a)\n    assert g.load() == "grüße\\n", g.load()\n')
    write_files(r, {k: v for k, v in files.items() if v is not None})
    r.commit("one")
    if case.where == "shallow":
        r.write("data/second.txt", "second commit\n")
        r.commit("two")
        clone = tmp_path / "shallow"
        subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{r.path}", str(clone)],
                       check=True, env=r.env, capture_output=True)
        return clone, r.env
    return r.path, r.env


def _run(where: Path, env: dict, args: tuple, debug: bool = False) -> subprocess.CompletedProcess:
    e = dict(env)
    if debug:
        e["ACCELGIT_DEBUG"] = "1"
    return subprocess.run([sys.executable, "-m", "accelgit", *args], cwd=where, env=e,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(tmp_path: Path, case: Case):
    where, env = _repo(tmp_path, case)
    proc = _run(where, env, case.args)
    assert proc.returncode == case.code, f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    if case.code == 0:
        assert re.search(case.line, proc.stdout.strip().splitlines()[-1]), proc.stdout
        assert "Traceback" not in proc.stderr
        return
    ours = [ln for ln in proc.stderr.splitlines() if ln.startswith("accelgit: ")]
    assert len(ours) == 1, f"expected one 'accelgit:' line, got:\n{proc.stderr}"
    assert ours[0] == proc.stderr.strip().splitlines()[-1]           # the last thing printed
    assert re.search(case.line, ours[0][len("accelgit: "):]), ours[0]
    if case.method_traceback:
        # the method's own traceback (from its job log), not accelgit's
        assert "Traceback" in proc.stderr and "accelgit/cli.py" not in proc.stderr
        assert re.search(r'File ".*/repo/methods/a\.py", line \d+, in synthesis', proc.stderr)
    else:
        assert "Traceback" not in proc.stderr
        debug = _run(where, env, case.args, debug=True)
        assert debug.returncode == case.code
        assert "Traceback (most recent call last)" in debug.stderr
        assert debug.stderr.strip().splitlines()[-1] == ours[0]


def test_a_build_script_that_calls_sys_exit(tmp_path):
    """A failing exit is a failed script, exit 1, one line naming it; exit 0
    ends the script like a return, and its run is still recorded."""
    r = make_repo(tmp_path)
    r.write("methods/a.py", "def synthesis():\n    return 1\n")
    r.write("build.py", "import sys\n\ndef main(urd):\n    urd.build('a')\n    sys.exit(3)\n")
    r.commit("exit 3")
    proc = r.run("build")
    assert proc.returncode == 1 and proc.stderr == "accelgit: build.py:5: the build script called sys.exit(3)\n"
    for args in (["plan"], ["verify"]):
        proc = r.run(*args)
        assert proc.returncode in (1, 2) and "the build script called sys.exit(3)" in proc.stderr, proc
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    r.write("build.py", "import sys\n\ndef main(urd):\n    urd.build('a')\n    sys.exit(0)\n    urd.build('nope')\n")
    r.commit("exit 0")
    proc = r.run("build", "--json", check=True)
    assert (r.workdir / ".runs" / "build.py.jsonl").exists()
    assert r.run("verify", check=True).stdout.splitlines()[-1] == "1 job verified: all checks passed"


def test_bad_name_or_caption_and_an_unreadable_config_are_one_line(tmp_path):
    r = make_repo(tmp_path)
    r.write("methods/a.py", "def synthesis():\n    return 1\n")
    r.commit("a")
    for call, msg in (("urd.build('a', caption={1})", "caption= must be a string, not set {1}"),
                      ("urd.build('a', name=7)", "name= must be a string, not int 7"),
                      ("urd.build('a', caption='x\\udcff')", "caption= 'x\\udcff' is not valid unicode text"),
                      ("urd.build('a', name='')", "name= must not be empty")):
        r.write("build.py", f"def main(urd):\n    {call}\n")
        proc = r.run("build")
        assert proc.returncode == 2 and proc.stderr.startswith(f"accelgit: build.py:2: {msg}"), proc.stderr
        assert proc.stderr.count("\n") == 1 and r.job_dirs() == []
    r.write("build.py", "def main(urd):\n    urd.build('a')\n")
    (r.path / "accelgit.toml").write_bytes(b"methods = ['\xff']\n")
    proc = r.run("build")
    assert (proc.returncode, proc.stderr) == (2, "accelgit: accelgit.toml: not UTF-8 text (byte 12: invalid start byte)\n")
    (r.path / "accelgit.toml").unlink()
    (r.path / "accelgit.toml").mkdir()
    proc = r.run("plan")
    assert (proc.returncode, proc.stderr) == (2, "accelgit: accelgit.toml: is a folder, not a file\n")


def test_ctrl_c_while_starting_is_one_line_and_exit_130(tmp_path):
    """Ctrl-C at any moment of start-up: once accelgit's first line has run,
    exit 130 and ``accelgit: interrupted``, never a traceback of accelgit's
    modules.  (Earlier, while the interpreter itself starts, the signal is
    Python's: it kills the process, or interrupts its own site imports.)"""
    import signal
    import time
    r = make_repo(tmp_path)
    r.write("methods/a.py", "def synthesis():\n    return 1\n")
    r.write("build.py", "def main(urd):\n    urd.build('a')\n")
    r.commit("a")
    pkg = str(Path(__file__).resolve().parents[2] / "accelgit") + "/"
    t0 = time.monotonic()
    r.run("plan", check=True)
    whole = time.monotonic() - t0           # the moments to try: across the whole run, however busy the machine
    codes = []
    for i in range(40):
        p = subprocess.Popen([sys.executable, "-m", "accelgit", "plan"], cwd=r.path, env=r.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep((i % 20) / 20 * whole)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        codes.append(p.returncode)
        # no frame of accelgit's own code, but for a signal that arrived while Python loaded
        # accelgit/__init__.py and is raised as its first line starts (before it ran)
        ours = re.findall(r'File "([^"]*)", line (\d+), in (\S+)', err)
        ours = [f for f in ours if f[0].startswith(pkg)]
        assert ours in ([], [(pkg + "__init__.py", "1", "<module>")]), err
        if p.returncode == 130:
            assert err == "accelgit: interrupted\n"
    assert 130 in codes, codes


def test_the_early_ctrl_c_handler_is_only_for_accelgit_itself(tmp_path):
    """Another program that imports accelgit keeps its Ctrl-C (a KeyboardInterrupt,
    its finally blocks and atexit handlers), even when its own arguments hold
    ``-m accelgit`` (pytest's ``-m`` marker option, say) or it runs with ``-m``."""
    probe = ("import accelgit, signal\n"
             "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n")
    (tmp_path / "s.py").write_text(probe)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "__init__.py").write_text("import accelgit\n")
    (tmp_path / "other" / "__main__.py").write_text(probe)
    (tmp_path / "t.py").write_text("import threading\n"             # imported by a thread: no signal to set
                                   "t = threading.Thread(target=__import__, args=('accelgit',))\n"
                                   "t.start()\nt.join()\n" + probe.replace("import accelgit, ", "import accelgit, threading, "))
    for args in (["s.py", "--x", "-m", "accelgit"], ["-c", probe, "-m", "accelgit"], ["-m", "other", "-m", "accelgit"],
                 ["t.py"]):
        proc = subprocess.run([sys.executable, *args], cwd=tmp_path, capture_output=True, text=True)
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, "True\n", ""), args


def test_a_build_script_name_that_is_not_utf8_is_refused_and_poisons_nothing(tmp_path):
    r = make_repo(tmp_path)
    r.write("methods/a.py", "def synthesis():\n    return 1\n")
    script = os.fsencode(r.path) + b"/build_\xff.py"
    with open(script, "wb") as f:
        f.write(b"def main(urd):\n    urd.build('a')\n")
    r.commit("odd name")
    for args in (["build"], ["plan"], ["plan", "--staged"], ["build"]):
        proc = r.run(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr == "accelgit: build_\\xff.py: a build script's file name must be UTF-8 text; rename it\n"
    assert r.job_dirs() == []
    # a job.json with such a name (written by an older accelgit) does not poison the index either
    os.remove(script)
    r.write("build.py", "def main(urd):\n    urd.build('a')\n")
    r.commit("renamed")
    job = r.workdir / r.build()["jobs"][0]["path"]
    params = json.loads((job / "job.json").read_text())
    params["build_script"] = "build_\udcff.py"
    (job / "job.json").write_text(json.dumps(params))
    (r.workdir / "index.sqlite").unlink()
    assert r.run("log", check=True).stdout.count("\n") == 3
    assert r.run("build", "--json", check=True)


def test_a_build_script_that_forks_does_not_run_the_build_twice(tmp_path):
    """A child of os.fork() that goes on into the build stops with one line;
    the parent's build goes on; nothing hangs."""
    r = make_repo(tmp_path)
    r.write("methods/a.py", "def synthesis():\n    return 1\n")
    r.write("methods/b.py", "jobs = ('a',)\n\ndef synthesis(jobs):\n    return jobs.a.load() + 1\n")
    r.write("build.py", """
        import os

        def main(urd):
            a = urd.build("a")
            if os.fork() == 0:
                print("child", a.load())           # waits for a job of the parent's build
            b = urd.build("b", a=a)
            print("b gives", b.load())
    """)
    r.commit("fork")
    proc = r.run("build", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [j["method"] for j in json.loads(proc.stdout)["jobs"]] == ["a", "b"]
    assert proc.stderr.count("b gives 2") == 1 and "child" not in proc.stderr
    assert proc.stderr.count("went on into the build; it stops here") == 1
    assert "accelgit: a build script: a process the build script forked (os.fork)" in proc.stderr
