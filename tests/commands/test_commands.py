"""The core commands as a user runs them: init, build output (text, --json,
progress on a terminal), show, log, -C."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_files

# ------------------------------------------------------------------ init

def test_init_then_build(repo):
    repo.remove(".gitignore")
    proc = repo.run("init", check=True)
    assert proc.stdout.splitlines() == ["wrote accelgit.toml", "wrote methods/hello.py", "wrote build.py",
                                        "wrote .gitignore"]
    assert repo.read(".gitignore") == ".accelgit/\n"
    from accelgit.config import load_config
    cfg = load_config(str(repo.path))
    assert (cfg.source, cfg.methods, cfg.target_workdir) == ("accelgit.toml", ["methods"], "local")
    repo.commit("init")
    assert repo.git("status", "--porcelain").stdout == ""
    proc = repo.run("build", check=True)
    assert "result: hello hello" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "1 built, 0 reused (1 job)"
    # everything the build wrote is ignored by git
    assert repo.git("status", "--porcelain").stdout == ""


def test_init_twice_writes_nothing(repo):
    first = repo.json("init")
    assert first == {"root": str(repo.path), "written": ["accelgit.toml", "methods/hello.py", "build.py"]}
    before = {p: p.read_bytes() for p in repo.path.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert repo.json("init") == {"root": str(repo.path), "written": []}
    proc = repo.run("init", check=True)
    assert proc.stdout == "nothing to do: accelgit is already set up here\n"
    after = {p: p.read_bytes() for p in repo.path.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert before == after


def test_init_keeps_existing_files_and_appends_gitignore(repo):
    repo.write(".gitignore", "*.pyc")          # no trailing newline
    repo.write("build.py", "def main(urd):\n    pass\n")
    assert repo.json("init")["written"] == ["accelgit.toml", "methods/hello.py", ".gitignore"]
    assert repo.read(".gitignore") == "*.pyc\n.accelgit/\n"
    assert repo.read("build.py") == "def main(urd):\n    pass\n"


def test_init_on_a_project_set_up_already_changes_nothing(repo):
    assert repo.json("init")["written"] == ["accelgit.toml", "methods/hello.py", "build.py"]
    repo.remove("methods/hello.py")                    # the user removed the example
    assert repo.json("init")["written"] == []
    assert not (repo.path / "methods" / "hello.py").exists()
    assert repo.run("init", check=True).stdout == "nothing to do: accelgit is already set up here\n"


def test_log_of_an_unknown_method_and_show_names_inputs_by_folder(chain_repo):
    out = {j["method"]: j for j in chain_repo.build()["jobs"]}
    assert chain_repo.run("log", "--method", "nosuch", check=True).stdout == "no jobs of method 'nosuch'\n"
    text = chain_repo.run("show", out["c"]["path"].rsplit("/", 1)[-1], check=True).stdout
    assert f"input    b = {out['b']['path'].rsplit('/', 1)[-1]}" in text.splitlines()


def test_init_in_a_subfolder_writes_at_the_root(repo):
    (repo.path / "sub").mkdir()
    out = repo.json("init", cwd=repo.path / "sub")
    assert out["root"] == str(repo.path) and (repo.path / "accelgit.toml").exists()


# ------------------------------------------------------------------ build output

def test_build_text_output(chain_repo):
    proc = chain_repo.run("build", check=True)
    lines = proc.stdout.splitlines()
    assert [ln.split()[0:2][0] for ln in lines[:3]] == ["built"] * 3
    assert [ln.split()[1].split("-")[0] for ln in lines[:3]] == ["a", "b", "c"]
    assert lines[3] == "3 built, 0 reused (3 jobs)"
    assert chain_repo.run("build", check=True).stdout == "0 built, 3 reused (3 jobs)\n"


def test_build_json_is_only_json_even_when_things_print(chain_repo):
    r = chain_repo
    r.write("build.py", """
        import os
        import sys
        print("printed at import")

        def main(urd):
            print("printed by main")
            a = urd.build("a")
            print("a is", a.load())
            sys.stdout.write("no newline")
            os.system("echo from a subprocess")
            os.write(1, b"straight to fd 1\\n")
            b = urd.build("b", a=a)
            urd.build("c", b=b)
    """)
    r.write("methods/a.py", r.read("methods/a.py").replace("def synthesis(files, options):",
                                                            "def synthesis(files, options):\n    print('from the job')"))
    proc = r.run("build", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [(j["name"], j["action"]) for j in out["jobs"]] == [("a", "built"), ("b", "built"), ("c", "built")]
    for j in out["jobs"]:
        assert set(j) == {"id", "method", "name", "action", "path", "seconds"}
        assert os.path.isabs(j["path"]) and os.path.basename(j["path"]) == f"{j['method']}-{j['id'][:12]}"
        assert isinstance(j["seconds"], (int, float)) and j["seconds"] >= 0
    assert "printed at import" in proc.stderr and "printed by main" in proc.stderr and "a is 5" in proc.stderr
    assert "from a subprocess\n" in proc.stderr and "straight to fd 1\n" in proc.stderr
    # a job's own output goes to its log, not to our stdout
    a = Path(out["jobs"][0]["path"])
    assert (a / "log" / "synthesis.txt").read_text() == "from the job\n"
    again = r.json("build")
    assert [(j["name"], j["action"], j["seconds"]) for j in again["jobs"]] == \
        [("a", "reused", 0.0), ("b", "reused", 0.0), ("c", "reused", 0.0)]


def test_same_job_twice_is_listed_once(chain_repo):
    chain_repo.write("build.py", "def main(urd):\n    x = urd.build('a')\n    y = urd.build('a', scale='1')\n"
                                 "    assert x.id == y.id\n")
    out = chain_repo.build()
    assert [(j["name"], j["action"]) for j in out["jobs"]] == [("a", "built")]


def run_with_tty_stderr(repo, *args) -> tuple[int, str, str]:
    """Run accelgit with stderr on a pseudo-terminal; (code, stdout, terminal text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "accelgit", *args], cwd=repo.path, env=repo.env,
                            stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    out = proc.stdout.read()
    code = proc.wait(timeout=60)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:       # EIO: the other side is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return code, out.decode(), b"".join(chunks).decode("utf-8", "replace")


def test_progress_on_a_terminal_only(chain_repo):
    code, out, term = run_with_tty_stderr(chain_repo, "build", "--json")
    assert code == 0
    assert [j["action"] for j in json.loads(out)["jobs"]] == ["built"] * 3     # stdout stays clean JSON
    assert "\r\x1b[K[ 3/3 100% ]" in term      # (tests/commands/test_progress.py: the line itself)
    assert term.endswith("\r\x1b[K")         # the progress line is cleared at the end
    code, out, term = run_with_tty_stderr(chain_repo, "build")
    assert code == 0 and out == "0 built, 3 reused (3 jobs)\n"
    # not a terminal: no progress, no escape codes
    proc = chain_repo.run("build")
    assert proc.stderr == "" and "\x1b" not in proc.stdout


def test_j_option_values(chain_repo):
    for args in (("-j", "1"), ("--jobs", "3"), ("-j1",)):
        assert chain_repo.run("build", *args).returncode == 0
    for bad in ("0", "-2", "x"):
        proc = chain_repo.run("build", "-j", bad)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr


MEET = """
import os
import time

options = {"me": "", "other": "", "run": 0}


def synthesis(options):
    # say "I run", then wait for the other job to say so: two jobs that run at
    # once meet; a job that runs alone gives up after a second and takes its word back
    here = os.path.join(os.environ["T_DIR"], options.me)
    open(here, "w").close()
    deadline = time.monotonic() + (30 if os.environ["T_EXPECT"] == "together" else 1)
    while time.monotonic() < deadline:
        if os.path.exists(os.path.join(os.environ["T_DIR"], options.other)):
            return "together"
        time.sleep(0.01)
    os.remove(here)
    return "alone"
"""


def test_j_caps_the_jobs_that_run_at_once(repo, tmp_path):
    repo.write("methods/meet.py", MEET)
    repo.write("build.py", """
        import os

        def main(urd):
            run = int(os.environ["T_RUN"])
            urd.build("meet", me="a", other="b", run=run, name="a")
            urd.build("meet", me="b", other="a", run=run, name="b")
    """)
    repo.commit("two independent jobs")
    for run, j, expect in ((1, "1", "alone"), (2, "2", "together")):
        (tmp_path / j).mkdir()
        env = {"T_DIR": str(tmp_path / j), "T_RUN": str(run), "T_EXPECT": expect}
        out = json.loads(repo.run("build", "-j", j, "--json", env=env, check=True).stdout)
        results = [json.loads((repo.path / job["path"] / "result.json").read_text()) for job in out["jobs"]]
        assert results == [expect, expect], (j, results)


# ------------------------------------------------------------------ show

@pytest.fixture
def built(chain_repo):
    out = chain_repo.build()
    return chain_repo, {j["name"]: j for j in out["jobs"]}


def test_show_by_prefix_dirname_and_path(built):
    r, jobs = built
    a = jobs["a"]
    dirname = os.path.basename(a["path"])
    rel = os.path.relpath(a["path"], r.path)
    for spec in (a["id"], a["id"][:8], a["id"][:20], dirname, a["path"], rel, "./" + rel,
                 a["path"] + "/output", a["id"].upper()[:10]):
        out = r.json("show", spec)
        assert out["job"]["id"] == a["id"], spec
        assert out["path"] == a["path"]
    # from a subfolder, a relative path is relative to it (and -C acts like cd)
    (r.path / "sub").mkdir()
    assert r.json("show", os.path.join("..", rel), cwd=r.path / "sub")["job"]["id"] == a["id"]
    assert r.json("show", "-C", str(r.path / "sub"), os.path.join("..", rel), cwd=Path("/"))["job"]["id"] == a["id"]


def test_show_json_content(built):
    r, jobs = built
    out = r.json("show", jobs["c"]["id"][:12])
    assert set(out) >= {"path", "complete", "job", "result", "output", "profile"}
    assert out["complete"] is True
    assert out["result"] == 10 and out["output"] == ["value.txt"]
    assert out["job"]["jobs"] == {"b": jobs["b"]["id"]}
    assert out["job"]["options"] == {"offset": 0, "label": "c"}
    assert {"start", "end", "wall"} <= set(out["profile"])


def test_show_text(built):
    r, jobs = built
    proc = r.run("show", jobs["b"]["id"][:6], check=True)
    lines = proc.stdout.splitlines()
    head = r.git("rev-parse", "HEAD").stdout.strip()
    assert lines[0] == f"job      {os.path.basename(jobs['b']['path'])}"
    assert lines[1] == f"id       {jobs['b']['id']}"
    assert f"git      {head} on main" in lines
    assert f"input    a = a-{jobs['a']['id'][:12]}" in lines         # by folder name, not 64 hex
    assert "result   10" in lines
    assert any(ln.startswith("source   methods/_helper.py ") for ln in lines)


def test_show_errors(built):
    r, jobs = built
    proc = r.run("show", "0000000")
    assert (proc.returncode, proc.stderr) == (2, "accelgit: no job matches '0000000' in the workdirs (local)\n")
    proc = r.run("show", "not/a/job")
    assert (proc.returncode, proc.stderr) == (2, "accelgit: no job matches 'not/a/job' in the workdirs (local)\n")
    proc = r.run("show", "-C", str(r.path / "nothere"), "x")
    assert proc.returncode == 2 and proc.stderr.startswith("accelgit: -C ")


def test_show_ambiguous_prefix(repo):
    # 40 jobs: two of them surely share their first hex digit
    write_files(repo, {"methods/m.py": "options = {'i': 0}\n\ndef synthesis(options):\n    return options.i\n",
                       "build.py": "def main(urd):\n    for i in range(40):\n        urd.build('m', i=i)\n"})
    ids = [j["id"] for j in repo.build()["jobs"]]
    firsts = [i[0] for i in ids]
    digit = max(set(firsts), key=firsts.count)
    proc = repo.run("show", digit)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"accelgit: '{digit}' is ambiguous: it matches {firsts.count(digit)} jobs (m-")


# ------------------------------------------------------------------ log

def test_log_table_and_json(built):
    r, jobs = built
    r.write("methods/c.py", r.read("methods/c.py") + "# dirty\n")
    newest = {j["name"]: j for j in r.build()["jobs"]}["c"]
    out = r.json("log")
    rows = out["jobs"]
    assert [row["dirname"] for row in rows][0] == os.path.basename(newest["path"])
    assert sorted(row["id"] for row in rows) == sorted([j["id"] for j in jobs.values()] + [newest["id"]])
    head = r.git("rev-parse", "HEAD").stdout.strip()
    for row in rows:
        assert {"id", "dirname", "method", "name", "git_commit", "git_branch", "dirty", "built_at", "workdir",
                "path"} <= set(row)
        assert row["git_commit"] == head and row["workdir"] == "local"
        assert row["dirty"] is (row["id"] == newest["id"])
    built_at = [row["built_at"] for row in rows]
    assert built_at == sorted(built_at, reverse=True)

    assert [row["method"] for row in r.json("log", "--method", "c")["jobs"]] == ["c", "c"]
    assert len(r.json("log", "-n", "2")["jobs"]) == 2

    text = r.run("log", check=True).stdout.splitlines()
    assert text[0].split() == ["built", "job", "name", "commit", "workdir"]
    assert os.path.basename(newest["path"]) in text[2] and f"{head[:10]}*" in text[2]
    assert len(text) == 2 + 4


def test_log_empty_and_without_index(chain_repo):
    assert chain_repo.run("log", check=True).stdout == "no jobs yet\n"
    assert chain_repo.json("log") == {"jobs": []}
    chain_repo.build()
    (chain_repo.workdir / "index.sqlite").unlink()
    assert sorted(row["method"] for row in chain_repo.json("log")["jobs"]) == ["a", "b", "c"]


def test_dash_c_runs_as_if_started_there(chain_repo, tmp_path):
    out = json.loads(chain_repo.run("build", "-C", "repo", "build.py", "--json", cwd=chain_repo.path.parent).stdout)
    assert [j["name"] for j in out["jobs"]] == ["a", "b", "c"]
    proc = chain_repo.run("log", "-C", str(chain_repo.path), "--json", cwd=tmp_path)
    assert len(json.loads(proc.stdout)["jobs"]) == 3


def test_json_output_is_exactly_the_indented_document(chain_repo):
    # emit streams the document: the bytes must be json.dumps(doc, indent=1) + newline
    for args in (["build", "--json"], ["plan", "--json"]):
        proc = chain_repo.run(*args)
        assert proc.stdout == json.dumps(json.loads(proc.stdout), indent=1) + "\n"


def test_show_by_job_name_and_which_traces_a_copy_by_content(chain_repo, tmp_path):
    r = chain_repo
    r.write("build.py", r.read("build.py").replace('urd.build("c", b=b)', 'urd.build("c", b=b, name="evaluate")'))
    r.commit("a named job")
    out = {j["method"]: j for j in r.build()["jobs"]}
    text = r.run("show", "evaluate", check=True).stdout
    assert text.splitlines()[0] == f"job      {os.path.basename(out['c']['path'])}"
    assert r.run("show", "nosuchname").returncode == 2
    copy = tmp_path / "shared-drive" / "value.txt"
    copy.parent.mkdir()
    copy.write_bytes((Path(out["c"]["path"]) / "output" / "value.txt").read_bytes())
    doc = r.json("which", str(copy))
    (m,) = [x for x in doc["copy_of"] if x["path_in_job"] == "output/value.txt"]   # (result.json may hold it too)
    assert (m["job"], m["build_script"]) == (os.path.basename(out["c"]["path"]), "build.py")
    assert m["commit"] == r.git("rev-parse", "HEAD").stdout.strip()
    copy.write_text("something else\n")
    proc = r.run("which", str(copy))
    assert proc.returncode == 2 and "no job's manifest holds a file with its content" in proc.stderr
