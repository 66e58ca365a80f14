"""``accelgit plan``: reuse/build, reasons and hop counts, views, read-only
workdirs, stopping where a script reads a to-be-built job, --exit-code, and
plan == build (a seeded random property test).  Real git repos, real CLI."""
from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import textwrap

import pytest
from conftest import CHAIN, Repo, built_template, copy_of

FAN = {
    "methods/src.py": """
        options = {"n": 3}

        def synthesis(options):
            return list(range(options.n))
    """,
    "methods/left.py": """
        jobs = ("src",)
        options = {"k": 1}

        def synthesis(jobs, options):
            return [x * options.k for x in jobs.src.load()]
    """,
    "methods/leftsum.py": """
        jobs = ("left",)

        def synthesis(jobs):
            return sum(jobs.left.load())
    """,
    "methods/right.py": """
        jobs = ("src",)
        options = {"k": 2}

        def synthesis(jobs, options):
            return [x + options.k for x in jobs.src.load()]
    """,
    "build_fan.py": """
        def main(urd):
            src = urd.build("src")
            left = urd.build("left", src=src)
            urd.build("leftsum", left=left)
            urd.build("right", src=src, k=RIGHT_K)

        RIGHT_K = 2
    """,
}


def src(rel):
    """A pipeline file's text as written to disk."""
    return textwrap.dedent({**CHAIN, **FAN}[rel])


def plan(r, *args, code=0):
    proc = r.run("plan", *args, "--json")
    assert proc.returncode == code, f"exit {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout)


def by_name(doc):
    out = {}
    for j in doc["jobs"]:
        assert j["name"] not in out, f"job {j['name']} listed twice"
        out[j["name"]] = j
    return out


def builds(doc):
    return {j["name"] for j in doc["jobs"] if j["action"] == "build"}


def kinds(job):
    return [r["kind"] for r in job["reasons"]]


def blob(r, rel):
    return r.git("hash-object", rel).stdout.strip()


def head_blob(r, rel):
    return r.git("rev-parse", f"HEAD:{rel}").stdout.strip()


def short_log(r, rel):
    return r.git("log", "-1", "--format=%h", "--", rel).stdout.strip()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The chain and the fan, committed and built once per module."""
    return built_template(tmp_path_factory.mktemp("template"), {**CHAIN, **FAN}, "chain and fan pipelines")


@pytest.fixture
def built(template, tmp_path):
    return copy_of(template, tmp_path)


# ------------------------------------------------------------------ basics

def test_nothing_changed_everything_is_reused(built):
    doc = plan(built, "--exit-code")
    assert doc["complete"] is True and doc["view"] == "worktree"
    assert doc["scripts"] == ["build.py", "build_fan.py"]
    assert [(j["name"], j["action"], j["reasons"]) for j in doc["jobs"]] == [
        (n, "reuse", []) for n in ("a", "b", "c", "src", "left", "leftsum", "right")]
    ids = {j["name"]: j["id"] for j in doc["jobs"]}
    assert by_name(doc)["b"]["inputs"] == [ids["a"]]
    assert by_name(doc)["c"]["inputs"] == [ids["b"]]
    text = built.run("plan", check=True).stdout
    assert text.rstrip().splitlines()[-1] == "0 to build, 7 to reuse"


def test_table_grouped_by_script_and_exit_code(built):
    built.write("methods/_helper.py", "def double(x):\n    return x * 3\n")
    proc = built.run("plan", "--exit-code")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.rstrip().splitlines()
    assert lines[-1] == "2 to build, 5 to reuse"
    i, k = lines.index("build.py:"), lines.index("build_fan.py:")
    assert i < k
    first = "\n".join(lines[i:k])
    assert "job" in first and "action" in first and "reasons" in first
    row_b = next(line for line in lines[i:k] if line.startswith("b-"))
    assert " build " in row_b and "source: methods/_helper.py:" in row_b
    assert all(" reuse" in line for line in lines[k:] if line.startswith(("src-", "left", "right")))
    assert built.run("plan").returncode == 0          # without --exit-code: 0


# ------------------------------------------------------------------ reasons

def test_source_edit_of_a_rebuilds_the_chain_with_hops(built):
    old = head_blob(built, "methods/a.py")
    built.write("methods/a.py", src("methods/a.py") + "\n# tweak\n")
    new = blob(built, "methods/a.py")
    doc = plan(built)
    jobs = by_name(doc)
    assert builds(doc) == {"a", "b", "c"}
    (ra,) = jobs["a"]["reasons"]
    assert ra["kind"] == "source" and ra["path"] == "methods/a.py" and (ra["old"], ra["new"]) == (old, new)
    assert ra["detail"] == f"methods/a.py: {old[:7]} → {new[:7]}, not committed"
    (rb,) = jobs["b"]["reasons"]
    assert (rb["kind"], rb["input"], rb["hops"], rb["root"], rb["new"]) == ("input", "a", 1, jobs["a"]["id"], jobs["a"]["id"])
    assert f"a: a-{rb['old'][:12]} → a-{jobs['a']['id'][:12]}, 1 hop from the change in a-" in rb["detail"]
    (rc,) = jobs["c"]["reasons"]
    assert (rc["kind"], rc["input"], rc["hops"], rc["root"]) == ("input", "b", 2, jobs["a"]["id"])
    assert "2 hops" in rc["detail"]
    # committed: the work tree is HEAD now, and the reasons compare with HEAD: nothing differs,
    # and HEAD's job is not built
    sha = built.commit("tweak a")
    (ra,) = by_name(plan(built))["a"]["reasons"]
    assert (ra["kind"], ra["detail"]) == ("new", f"its job at HEAD ({sha[:7]}) is not built either")
    # the commit itself, against its parent: the reason names the commit that last changed the file
    (ra,) = by_name(plan(built, "--at", "HEAD"))["a"]["reasons"]
    assert ra["commit"] == short_log(built, "methods/a.py") and sha.startswith(ra["commit"])
    assert ra["detail"].endswith(f", last changed in {ra['commit']}")


def test_helper_module_edit_rebuilds_b_and_c_only(built):
    old = head_blob(built, "methods/_helper.py")
    built.write("methods/_helper.py", "def double(x):\n    return x + x\n")
    doc = plan(built)
    jobs = by_name(doc)
    assert builds(doc) == {"b", "c"}
    assert jobs["a"]["action"] == "reuse" and jobs["a"]["reasons"] == []
    (rb,) = jobs["b"]["reasons"]
    assert (rb["kind"], rb["path"], rb["old"], rb["new"]) == ("source", "methods/_helper.py", old,
                                                             blob(built, "methods/_helper.py"))
    (rc,) = jobs["c"]["reasons"]
    assert (rc["kind"], rc["input"], rc["hops"], rc["root"]) == ("input", "b", 1, jobs["b"]["id"])


def test_depend_extra_and_added_source_file(built):
    built.write("methods/notes.txt", "changed\n")
    built.write("methods/_extra.py", "X = 1\n")
    built.write("methods/b.py", "import _extra\n" + built.read("methods/b.py"))
    jobs = by_name(plan(built))
    paths = {r["path"]: r for r in jobs["b"]["reasons"]}
    assert kinds(jobs["b"]) == ["source", "source", "source"]
    assert set(paths) == {"methods/_extra.py", "methods/b.py", "methods/notes.txt"}
    assert paths["methods/_extra.py"]["old"] is None
    assert paths["methods/_extra.py"]["detail"].startswith("methods/_extra.py: added (")
    assert [r["hops"] for r in jobs["c"]["reasons"]] == [1]


def test_option_of_c_rebuilds_c_only(built):
    built.write("build.py", src("build.py").replace('urd.build("c", b=b)', 'urd.build("c", b=b, offset=5)'))
    doc = plan(built)
    assert builds(doc) == {"c"}
    (r,) = by_name(doc)["c"]["reasons"]
    assert (r["kind"], r["detail"], r["option"], r["old"], r["new"]) == ("option", "offset: 0 → 5", "offset", 0, 5)
    built.write("build.py", src("build.py").replace('urd.build("c", b=b)', 'urd.build("c", b=b, label="x", offset=5)'))
    assert [r["detail"] for r in by_name(plan(built))["c"]["reasons"]] == ['label: "c" → "x"', "offset: 0 → 5"]


def test_data_file_edit(built):
    old = head_blob(built, "data/input.txt")
    built.write("data/input.txt", "just one line\n")
    doc = plan(built)
    jobs = by_name(doc)
    assert builds(doc) == {"a", "b", "c"}
    (ra,) = jobs["a"]["reasons"]
    new = blob(built, "data/input.txt")
    assert (ra["kind"], ra["path"], ra["old"], ra["new"]) == ("file", "data/input.txt", old, new)
    assert ra["detail"] == f"data/input.txt: {old[:7]} → {new[:7]}, not committed"
    assert [(r["kind"], r["hops"]) for r in jobs["b"]["reasons"]] == [("input", 1)]
    assert [(r["kind"], r["hops"]) for r in jobs["c"]["reasons"]] == [("input", 2)]


def test_fan_source_edit_reaches_both_branches(built):
    built.write("methods/src.py", src("methods/src.py").replace("range(options.n)", "range(1, options.n)"))
    doc = plan(built)
    jobs = by_name(doc)
    assert builds(doc) == {"src", "left", "leftsum", "right"}
    assert kinds(jobs["src"]) == ["source"]
    hops = {n: [(r["input"], r["hops"], r["root"]) for r in jobs[n]["reasons"]] for n in ("left", "leftsum", "right")}
    sid = jobs["src"]["id"]
    assert hops == {"left": [("src", 1, sid)], "leftsum": [("left", 2, sid)], "right": [("src", 1, sid)]}


def test_fan_branch_option_edit_and_option_plus_input(built):
    built.write("build_fan.py", src("build_fan.py").replace("RIGHT_K = 2", "RIGHT_K = 7"))
    doc = plan(built)
    assert builds(doc) == {"right"}
    assert [r["detail"] for r in by_name(doc)["right"]["reasons"]] == ["k: 2 → 7"]
    # own change and a changed input together: both reasons; the job itself is hop 0 for what follows
    built.write("methods/src.py", src("methods/src.py") + "# edit\n")
    r = by_name(plan(built))["right"]
    assert kinds(r) == ["option", "input"] and r["reasons"][1]["hops"] == 1


def test_new_call_forced_and_duplicate_use(built):
    built.write("build.py", """
        def main(urd):
            a = urd.build("a")
            b = urd.build("b", a=a)
            urd.build("c", b=b)
            urd.build("c", b=b, offset=1, name="c2")
            urd.build("a", force_build=True)
            urd.build("b", a=a)
    """)
    doc = plan(built)
    jobs = by_name(doc)
    assert [j["name"] for j in doc["jobs"] if j["script"] == "build.py"] == ["a", "b", "c", "c2"]
    assert builds(doc) == {"c2"}          # the forced call is the same job as the first 'a': listed once
    (r,) = jobs["c2"]["reasons"]
    assert r["kind"] == "new" and r["detail"].startswith("no such call at HEAD (")
    built.write("build.py", """
        def main(urd):
            a = urd.build("a", force_build=True)
            b = urd.build("b", a=a)
            urd.build("c", b=b)
    """)
    doc = plan(built)
    assert builds(doc) == {"a"} and by_name(doc)["a"]["reasons"] == [{"kind": "forced", "detail": "force_build=True"}]


def test_without_run_record_newest_job_of_method_and_name(built):
    old_a = by_name(plan(built))["a"]["id"]
    for f in (built.workdir / ".runs").iterdir():
        f.unlink()
    built.write("methods/a.py", src("methods/a.py").replace("options.scale", "options.scale * 1"))
    jobs = by_name(plan(built))
    (ra,) = jobs["a"]["reasons"]
    assert ra["kind"] == "source" and ra["path"] == "methods/a.py"
    assert jobs["b"]["reasons"][0]["old"] == old_a and jobs["b"]["reasons"][0]["hops"] == 1


def test_equivalent_hashes_reuse_the_old_job(built):
    old = by_name(plan(built))["a"]["id"]
    digest = json.loads((built.workdir / f"a-{old[:12]}" / "job.json").read_text())["source"]
    text = src("methods/a.py") + "\n# a cosmetic edit\n"
    built.write("methods/a.py", text + 'equivalent_hashes = {"x": ("%s",)}\n' % digest)
    proc = built.run("plan")
    assert proc.returncode == 2 and "equivalent_hashes verifier is wrong" in proc.stderr
    verifier = proc.stderr.split("it should be '")[1].split("'")[0]
    built.write("methods/a.py", text + 'equivalent_hashes = {"%s": ("%s",)}\n' % (verifier, digest))
    doc = plan(built, "--exit-code")
    assert builds(doc) == set() and by_name(doc)["a"]["id"] == old
    assert not [j for j in built.build()["jobs"] if j["action"] == "built"]


# ------------------------------------------------------------------ views

def test_staged_sees_staged_edits_only(built):
    built.write("methods/_helper.py", "def double(x):\n    return 2 * x\n")     # unstaged
    assert builds(plan(built, "--staged")) == set()
    assert plan(built, "--staged")["view"] == "index"
    built.write("methods/a.py", src("methods/a.py") + "# staged\n")
    built.git("add", "methods/a.py")
    staged = plan(built, "--staged")
    assert builds(staged) == {"a", "b", "c"}
    sources = [r["path"] for j in staged["jobs"] for r in j["reasons"] if r["kind"] == "source"]
    assert sources == ["methods/a.py"]
    assert by_name(staged)["a"]["reasons"][0]["detail"].endswith(", staged, not committed")
    work = plan(built)
    assert [r["path"] for r in by_name(work)["b"]["reasons"] if r["kind"] == "source"] == ["methods/_helper.py"]
    assert by_name(work)["b"]["id"] != by_name(staged)["b"]["id"]


def test_at_rev_agrees_with_a_checkout_of_that_commit(built, tmp_path):
    first = built.git("rev-parse", "HEAD").stdout.strip()
    built.write("methods/a.py", src("methods/a.py") + "# v2\n")
    built.write("build.py", src("build.py").replace('urd.build("c", b=b)', 'urd.build("c", b=b, offset=2)'))
    built.commit("v2")
    built.build()
    at = plan(built, "--at", "HEAD~1")
    assert at["view"] == first
    assert at["complete"] and builds(at) == set()       # the first build still has those jobs
    clone = Repo(tmp_path / "clone", built.home)
    built.git("clone", "-q", str(built.path), str(clone.path))
    clone.git("checkout", "-q", first)
    assert not clone.workdir.exists()
    there = plan(clone)
    assert [(j["name"], j["id"]) for j in there["jobs"]] == [(j["name"], j["id"]) for j in at["jobs"]]
    assert {j["id"] for j in clone.build()["jobs"]} == {j["id"] for j in at["jobs"]}
    # and the other way: HEAD planned from the clone, without checking it out
    assert [j["id"] for j in plan(clone, "--at", "origin/main")["jobs"]] == [j["id"] for j in plan(built)["jobs"]]


def test_at_reads_build_scripts_from_that_commit(built):
    built.write("build.py", "def main(urd):\n    urd.build('a', scale=3)\n")
    built.commit("only a")
    doc = plan(built, "--at", "HEAD~1")
    assert [j["name"] for j in doc["jobs"] if j["script"] == "build.py"] == ["a", "b", "c"]
    assert builds(doc) == set()
    assert builds(plan(built)) == {"a"}


# ------------------------------------------------------------------ read-only

def snapshot(path):
    out = {}
    for dirpath, dirnames, filenames in os.walk(path):
        rel = os.path.relpath(dirpath, path)
        out[rel + "/"] = None
        for fn in filenames:
            p = os.path.join(dirpath, fn)
            with open(p, "rb") as f:
                out[os.path.join(rel, fn)] = (hashlib.sha256(f.read()).hexdigest(), os.stat(p).st_mtime_ns)
    return out


def test_plan_never_writes_to_the_workdir(built):
    built.write("methods/a.py", src("methods/a.py") + "# edit\n")
    built.write("build_fan.py", src("build_fan.py").replace("RIGHT_K = 2", "RIGHT_K = 9"))
    built.git("add", "methods/a.py")
    before = snapshot(built.workdir)
    assert "./index.sqlite" in before
    for args in ([], ["--staged", "--json"], ["--at", "HEAD", "--json"], ["--exit-code"]):
        assert built.run("plan", *args).returncode in (0, 1)
    assert snapshot(built.workdir) == before
    # no index: a plan does not create one (jobs are found from their folders)
    (built.workdir / "index.sqlite").unlink()
    before = snapshot(built.workdir)
    doc = plan(built)
    assert builds(doc) == {"a", "b", "c", "right"}
    assert snapshot(built.workdir) == before and not (built.workdir / "index.sqlite").exists()
    # a damaged index is left as it is (build repairs it, plan does not)
    (built.workdir / "index.sqlite").write_bytes(b"not a database" * 100)
    before = snapshot(built.workdir)
    assert builds(plan(built)) == {"a", "b", "c", "right"}
    assert snapshot(built.workdir) == before


def test_plan_before_any_build_creates_nothing(chain_repo):
    doc = plan(chain_repo)
    assert [(j["name"], j["action"], kinds(j)) for j in doc["jobs"]] == [
        ("a", "build", ["new"]), ("b", "build", ["new"]), ("c", "build", ["new"])]
    assert not (chain_repo.path / ".accelgit").exists()


# ------------------------------------------------------------------ stopping

def test_reading_a_job_to_be_built_stops_that_script_only(built):
    built.write("build.py", """
        def main(urd):
            a = urd.build("a")
            b = urd.build("b", a=a)
            value = b.load()
            urd.build("c", b=b, offset=value)
    """)
    built.write("build_fan.py", src("build_fan.py").replace("RIGHT_K = 2", "RIGHT_K = 5"))
    built.build()
    doc = plan(built)
    assert doc["complete"] is True and builds(doc) == set()   # loads of reused jobs are fine
    built.write("data/input.txt", "a b\n")
    doc = plan(built, code=0)
    assert doc["complete"] is False
    assert [j["name"] for j in doc["jobs"]] == ["a", "b", "src", "left", "leftsum", "right"]
    assert builds(doc) == {"a", "b"}
    (st,) = doc["stopped"]
    bid = by_name(doc)["b"]["id"]
    assert (st["script"], st["where"], st["job"], st["method"]) == ("build.py", "build.py:5", bid, "b")
    assert st["message"] == f"plan stopped at build.py:5: it reads the result of b ({bid[:12]}), which would be built"
    proc = built.run("plan", "--exit-code")
    assert proc.returncode == 1
    assert f"incomplete: {st['message']}; the rest of build.py is not planned" in proc.stdout
    assert proc.stdout.rstrip().splitlines()[-1] == "2 to build, 4 to reuse"


def test_script_output_goes_to_stderr_with_json(built):
    built.write("build.py", src("build.py") + "    print('hello from the script')\n")
    proc = built.run("plan", "build.py", "--json")
    assert proc.returncode == 0 and "hello from the script" in proc.stderr
    assert json.loads(proc.stdout)["scripts"] == ["build.py"]


def test_errors_are_one_line_with_exit_2(built):
    proc = built.run("plan", "--at", "no-such-rev")
    assert proc.returncode == 2 and proc.stderr.strip() == f"accelgit: unknown revision 'no-such-rev' in {built.path}"
    proc = built.run("plan", "--staged", "--at", "HEAD")
    assert proc.returncode == 2 and "--staged and --at cannot be used together" in proc.stderr
    built.write("build.py", "def main(urd):\n    urd.build('a', nope=1)\n")
    proc = built.run("plan")
    assert proc.returncode == 2 and proc.stderr.startswith("accelgit: build.py:2: method 'a' has no option")


def test_make_plan_is_cheap_to_import_and_returns_the_document(built):
    code = ("import sys, accelgit.plan.document as p; assert 'accelgit.build.scheduler' not in sys.modules, 'heavy';"
            "assert 'accelgit.plan.engine' not in sys.modules, 'heavy import';"
            "from accelgit.git.repo import find_repo; from accelgit.git.views import make_view;"
            "from accelgit.config import load_config;"
            "r = find_repo('.'); v = make_view(r, True, None); import json;"
            "print(json.dumps(p.make_plan(r, load_config(r.root), v, ['build.py'], cwd='.'))); v.close()")
    proc = subprocess.run([sys.executable, "-c", code], cwd=built.path, env=built.env, capture_output=True,
                          text=True, check=True)
    doc = json.loads(proc.stdout)
    assert doc["view"] == "index" and doc["scripts"] == ["build.py"] and len(doc["jobs"]) == 3


# ------------------------------------------------------------------ plan == build

EDITS = [
    ("methods/a.py", lambda t: t + "\n# e{n}\n"),
    ("methods/_helper.py", lambda t: t + "\n# e{n}\n"),
    ("methods/notes.txt", lambda t: t + "e{n}\n"),
    ("data/input.txt", lambda t: t + "w{n}\n"),
    ("methods/c.py", lambda t: t.replace('"label": "c"', '"label": "c{n}"')),
    ("methods/src.py", lambda t: t + "\n# e{n}\n"),
    ("methods/left.py", lambda t: t + "\n# e{n}\n"),
    ("build_fan.py", lambda t: t.replace("RIGHT_K = ", "RIGHT_K = 1{n} + 0 * ")),
    ("build.py", lambda t: t.replace('urd.build("c", b=b', 'urd.build("c", offset={n}, b=b')),
]


def test_plan_then_build_builds_exactly_the_planned_jobs(built):
    rnd = random.Random(1234)
    for n in range(6):
        for rel, edit in rnd.sample(EDITS, rnd.randint(1, 3)):
            built.write(rel, edit(built.read(rel)).replace("{n}", str(n)), dedent=False)
        if rnd.random() < 0.3:
            built.commit(f"edit {n}")
        doc = plan(built)
        assert doc["complete"]
        result = built.build()["jobs"]
        assert {j["id"] for j in result if j["action"] == "built"} == {j["id"] for j in doc["jobs"] if j["action"] == "build"}
        assert {j["id"] for j in result if j["action"] == "reused"} == {j["id"] for j in doc["jobs"] if j["action"] == "reuse"}
        for j in doc["jobs"]:
            if j["action"] == "build":
                assert j["reasons"], j
        assert builds(plan(built)) == set()


def test_many_jobs_plan_as_a_table_per_method_and_the_jobs_to_build(repo: Repo):
    """More than 20 jobs in a script: how many each method reuses and builds,
    then only the jobs to build with their reasons; -v lists every job."""
    repo.write("methods/work.py", "options = {'i': 0}\n\ndef synthesis(options):\n    return options.i\n")
    repo.write("methods/total.py", "jobs = ('[parts]',)\n\ndef synthesis(jobs):\n    return len(jobs.parts)\n")
    repo.write("build.py", """
        def main(urd):
            parts = [urd.build("work", i=i) for i in range(24)]
            urd.build("total", parts=parts)
    """)
    repo.commit("many")
    repo.build()
    repo.write("build.py", repo.read("build.py").replace("range(24)", "range(25)"))
    out = repo.run("plan", check=True).stdout.splitlines()
    assert out[2:6] == ["build.py:", "method    reuse    build", "--------  -------  -------",
                        "work      24       1"]
    assert out[6] == "total     0        1"
    assert out[8] == "to build: 2 of 26 jobs (plan -v lists every job)"
    rows = [ln for ln in out if ln.startswith(("work-", "total-"))]
    assert len(rows) == 2 and all(" build " in r for r in rows)
    assert "new: no such call at HEAD" in rows[0] and "input: parts" in rows[1], rows
    every = repo.run("plan", "-v", check=True).stdout
    assert len([ln for ln in every.splitlines() if ln.startswith(("work-", "total-"))]) == 26
