"""``accelgit verify``: integrity, identity, currency, provenance, reproducible."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import CHAIN, Repo, built_template, copy_of, write_files

from accelgit.store.manifest import write_manifest
from accelgit.store.signing import sign

ALL = ("integrity", "identity", "currency", "provenance")


@pytest.fixture(scope="module")
def _built_chain(tmp_path_factory) -> Repo:
    return built_template(tmp_path_factory.mktemp("built"), CHAIN, "chain pipeline")


@pytest.fixture
def built(_built_chain, tmp_path) -> Repo:
    """The CHAIN pipeline, committed and built once per module, copied for each test."""
    return copy_of(_built_chain, tmp_path)


def ids_to_dirs(repo) -> dict:
    out = {}
    for d in repo.job_dirs():
        try:
            out[json.loads((repo.workdir / d / "job.json").read_text())["id"]] = d
        except (OSError, ValueError, KeyError):
            pass
    return out


def verify(repo, *args):
    """``(exit code, {dirname: {check: (ok, detail)}}, json)`` of ``verify --json``."""
    proc = repo.run("verify", *args, "--json")
    assert proc.stdout, f"no JSON (exit {proc.returncode}):\n{proc.stderr}"
    data = json.loads(proc.stdout)
    names = ids_to_dirs(repo)
    jobs = {}
    for j in data["jobs"]:
        assert [c["check"] for c in j["checks"]] == list(ALL) + (["reproducible"] if "--rerun" in args else [])
        assert set(j) == {"id", "checks"}
        jobs[names.get(j["id"], j["id"])] = {c["check"]: (c["ok"], c["detail"]) for c in j["checks"]}
    assert data["ok"] == all(ok for checks in jobs.values() for ok, _ in checks.values())
    assert proc.returncode == (0 if data["ok"] else 1), proc.stderr
    return proc.returncode, jobs, data


def every_job(repo) -> list[str]:
    return [str(repo.workdir / d) for d in repo.job_dirs()]


def failing(jobs: dict) -> set:
    return {(d.rsplit("-", 1)[0], c) for d, checks in jobs.items() for c, (ok, _) in checks.items() if not ok}


def dirs(repo) -> dict:
    """method -> its (only) job dir."""
    out = {}
    for d in repo.job_dirs():
        m = d.rsplit("-", 1)[0]
        assert m not in out, repo.job_dirs()
        out[m] = repo.workdir / d
    return out


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in sorted(root.rglob("*"))}


# --------------------------------------------------------------- untouched jobs

def test_untouched_jobs_pass_every_check_and_verify_writes_nothing(built):
    before = snapshot(built.workdir)
    code, jobs, data = verify(built, "--all", "--rerun")
    assert code == 0 and data["ok"] is True
    assert sorted(d.rsplit("-", 1)[0] for d in jobs) == ["a", "b", "c"]
    for checks in jobs.values():
        assert all(ok for ok, _ in checks.values()), checks
        assert not any(detail.startswith("warning") for _, detail in checks.values())
        assert checks["reproducible"][1].startswith("rerun gave the same")
    assert snapshot(built.workdir) == before, "verify wrote into the workdir"

    text = built.run("verify", check=True).stdout          # the jobs the current scripts use
    assert text.splitlines() == ["integrity     3 ok", "identity      3 ok", "currency      3 ok",
                                 "provenance    3 ok", "3 jobs verified: all checks passed"]
    table = built.run("verify", "-v", check=True).stdout
    assert table.splitlines()[0].split() == ["job", "check", "ok", "detail"]
    rows = [ln.split()[:3] for ln in table.splitlines() if ln.startswith(("a-", "b-", "c-"))]
    assert len(rows) == 12 and all(r[2] == "ok" for r in rows)        # every check of every job listed
    assert "3 jobs verified: all checks passed" in table and "FAIL" not in table


# --------------------------------------------------------------- tampering

def _edit_output(d):
    (d["c"] / "output" / "value.txt").write_text("999")


def _delete_output(d):
    (d["c"] / "output" / "value.txt").unlink()


def _add_output(d):
    (d["b"] / "output" / "extra.txt").write_text("sneaked in")


def _edit_source_copy(d):
    p = d["b"] / "source" / "methods" / "_helper.py"
    p.write_text(p.read_text() + "raise RuntimeError('the tampered copy ran')\n")      # if it ran: the rerun fails


def _delete_manifest(d):
    (d["a"] / "manifest.json").unlink()


def _edit_job_json(d):
    p = d["a"] / "job.json"
    params = json.loads(p.read_text())
    params["options"]["scale"] = 5
    p.write_text(json.dumps(params, indent=1, sort_keys=True))


def _edit_job_json_and_manifest(d):
    _edit_job_json(d)
    write_manifest(str(d["a"]))            # a thorough tamperer: the manifest matches again (not its signature)


def _edit_source_digest_and_manifest(d):
    p = d["b"] / "job.json"
    params = json.loads(p.read_text())
    params["source"] = "0" * 64
    p.write_text(json.dumps(params, indent=1, sort_keys=True))
    write_manifest(str(d["b"]))


@pytest.mark.parametrize("tamper, expect, words", [
    (_edit_output, {("c", "integrity")}, "modified: output/value.txt"),
    (_delete_output, {("c", "integrity")}, "missing: output/value.txt"),
    (_add_output, {("b", "integrity")}, "extra: output/extra.txt"),
    (_edit_source_copy, {("b", "integrity")}, "source copies differ from their recorded blobs: source/methods/_helper.py"),
    (_delete_manifest, {("a", "integrity")}, "manifest.json is missing"),
    (_edit_job_json, {("a", "integrity"), ("a", "identity")}, "modified: job.json"),
    # a manifest rewritten to match is not the one its builder signed: integrity fails as well
    (_edit_job_json_and_manifest, {("a", "integrity"), ("a", "identity")}, "give id"),
    (_edit_source_digest_and_manifest, {("b", "integrity"), ("b", "identity")},
     "recorded source digest 000000000000 is not the digest"),
], ids=["edit-output", "delete-output", "add-output", "edit-source-copy", "delete-manifest",
        "edit-job-json", "edit-job-json-and-manifest", "edit-source-digest"])
def test_tampering_is_caught_in_that_job_and_check(built, tamper, expect, words):
    tamper(dirs(built))
    code, jobs, _ = verify(built, "--all")
    assert code == 1
    assert failing(jobs) == expect
    details = [jobs[d][c][1] for d in jobs for c in jobs[d] if (d.rsplit("-", 1)[0], c) in expect]
    assert any(words in det for det in details), details


def test_a_tampered_source_copy_is_never_run_and_tampered_output_is_compared_with_the_manifest(built):
    d = dirs(built)
    _edit_source_copy(d)
    _edit_output(d)
    code, jobs, _ = verify(built, "--all", "--rerun")
    assert failing(jobs) == {("b", "integrity"), ("c", "integrity")}
    b = next(k for k in jobs if k.startswith("b-"))
    # rerun from the repository's blobs, never from the job's source/ copy
    assert jobs[b]["reproducible"] == (True, "rerun gave the same 1 files (output/ and result)")


def test_a_job_that_rewrites_its_own_job_json_or_source_copy_fails_integrity(repo):
    """The manifest records job.json and the source copies as accelgit wrote
    them before the job ran (not as read back afterwards): a method that
    rewrites them is caught, not blessed."""
    write_files(repo, {
        "methods/selfedit.py": """
            import os
            options = {"what": ""}

            def synthesis(job, options):
                p = os.path.join(job.path, options.what)
                with open(p, "a") as f:
                    f.write("# changed by the job itself\\n")
        """,
        "build.py": """
            def main(urd):
                urd.build("selfedit", what="job.json", name="j")
                urd.build("selfedit", what="source/methods/selfedit.py", name="s")
                urd.build("selfedit", what="output/x.txt", name="ok")
        """,
    })
    repo.commit("self-editing method")
    repo.build()
    code, jobs, _ = verify(repo, "--all")
    assert code == 1
    by_name = {json.loads((repo.workdir / d / "job.json").read_text().split("# changed")[0])["name"]: d
               for d in repo.job_dirs()}
    assert jobs[by_name["ok"]]["integrity"][0] is True
    assert jobs[by_name["j"]]["integrity"] == (False, jobs[by_name["j"]]["integrity"][1])
    assert "modified: job.json" in jobs[by_name["j"]]["integrity"][1]
    assert not jobs[by_name["s"]]["integrity"][0]
    assert "source/methods/selfedit.py" in jobs[by_name["s"]]["integrity"][1]


def test_build_refuses_to_reuse_a_job_without_manifest(built):
    a = dirs(built)["a"]
    (a / "manifest.json").unlink()
    proc = built.run("build", "--json")
    assert proc.returncode == 0, proc.stderr
    actions = {j["method"]: j["action"] for j in json.loads(proc.stdout)["jobs"]}
    assert actions == {"a": "built", "b": "reused", "c": "reused"}
    assert f"accelgit: {a} has no manifest.json, so it is not a complete job; building it again" in proc.stderr
    assert (a / "manifest.json").is_file()
    assert verify(built, "--all")[0] == 0


# --------------------------------------------------------------- reproducible

def test_rerun_names_the_nondeterministic_file(repo):
    repo.write("methods/noisy.py", """
        import random

        def synthesis(job):
            with job.open("noise.txt", "w") as f:
                f.write(str(random.random()))
            with job.open("stable.txt", "w") as f:
                f.write("same")
            return 1
    """)
    repo.write("methods/steady.py", """
        options = {"n": 3}

        def synthesis(job, options):
            job.json_save({"n": options.n}, "n.json")
            return {"squares": [i * i for i in range(options.n)]}
    """)
    repo.write("build.py", """
        def main(urd):
            urd.build("noisy")
            urd.build("steady", n=4)
    """)
    repo.commit("two methods")
    repo.build()
    before = snapshot(repo.workdir)
    code, jobs, _ = verify(repo, "--all", "--rerun")
    assert code == 1
    assert failing(jobs) == {("noisy", "reproducible")}
    noisy = next(v for k, v in jobs.items() if k.startswith("noisy-"))
    assert noisy["reproducible"][1] == "not reproducible: differ: output/noise.txt"
    steady = next(v for k, v in jobs.items() if k.startswith("steady-"))
    assert steady["reproducible"] == (True, "rerun gave the same 2 files (output/ and result)")
    assert snapshot(repo.workdir) == before, "the rerun touched the stored jobs"
    table = repo.run("verify", "--all", "--rerun")
    assert table.returncode == 1
    assert "output/noise.txt" in table.stdout and "1 failed a check" in table.stdout


def test_rerun_uses_recorded_data_and_inputs_even_after_the_work_tree_changed(built):
    built.write("data/input.txt", "six seven\n")
    code, jobs, _ = verify(built, *every_job(built), "--rerun")
    # the data change makes a (and so b, c) not current, but each still reproduces
    assert failing(jobs) == {("a", "currency"), ("b", "currency"), ("c", "currency")}


def test_rerun_of_a_failing_method_says_why(repo):
    repo.write("methods/flaky.py", """
        import os

        def synthesis():
            if os.path.exists(os.environ.get("FLAKY_FLAG", "/nonexistent")):
                raise RuntimeError("flaky today")
            return 1
    """)
    repo.write("build.py", "def main(urd):\n    urd.build('flaky')\n")
    repo.commit("flaky")
    repo.build()
    flag = repo.path.parent / "flag"
    flag.write_text("x")
    proc = repo.run("verify", "--all", "--rerun", "--json", env={"FLAKY_FLAG": str(flag)})
    data = json.loads(proc.stdout)
    assert proc.returncode == 1
    rep = data["jobs"][0]["checks"][-1]
    assert rep["check"] == "reproducible" and rep["ok"] is False
    assert rep["detail"] == "the rerun failed: RuntimeError: flaky today (in synthesis)"


# --------------------------------------------------------------- provenance

def test_dirty_build_is_a_provenance_warning_and_fails_with_strict(chain_repo):
    chain_repo.write("methods/_helper.py", "def double(x):\n    return x * 2  # uncommitted\n")
    chain_repo.build()
    code, jobs, _ = verify(chain_repo, "--all")
    assert code == 0
    b = next(k for k in jobs if k.startswith("b-"))
    assert jobs[b]["provenance"] == (True, "warning: built from uncommitted methods/_helper.py")
    for k in jobs:
        if k != b:
            assert jobs[k]["provenance"][0] and not jobs[k]["provenance"][1].startswith("warning"), jobs[k]
    assert "warn" in chain_repo.run("verify", b, check=True).stdout.split()

    code, jobs, _ = verify(chain_repo, "--all", "--strict")
    assert code == 1
    assert failing(jobs) == {("b", "provenance")}
    assert jobs[b]["provenance"][1] == "built from uncommitted methods/_helper.py (--strict)"


def test_build_before_the_first_commit_is_uncommitted(repo):
    repo.write("methods/one.py", "def synthesis():\n    return 1\n")
    repo.write("build.py", "def main(urd):\n    urd.build('one')\n")
    repo.build()
    code, jobs, _ = verify(repo, "--all")
    (checks,) = jobs.values()
    assert code == 0
    # the build script that made the call is uncommitted too
    assert checks["provenance"] == (True, "warning: built before the first commit, from uncommitted build.py, methods/one.py")
    code, jobs, _ = verify(repo, "--all", "--strict")
    assert code == 1 and failing(jobs) == {("one", "provenance")}


def test_unknown_commit_fails_provenance(built):
    p = dirs(built)["c"] / "job.json"
    params = json.loads(p.read_text())
    params["git"]["commit"] = "1234567890" * 4
    p.write_text(json.dumps(params))
    write_manifest(str(p.parent))
    sign(str(p.parent))                     # by the builder: only the commit is unknown
    code, jobs, _ = verify(built, "--all")
    assert failing(jobs) == {("c", "provenance")}
    c = next(k for k in jobs if k.startswith("c-"))
    assert jobs[c]["provenance"][1] == "commit 123456789012 is not in this repository"


# --------------------------------------------------------------- currency

def test_currency_after_editing_a_method(built):
    old = built.git("rev-parse", "HEAD:methods/_helper.py").stdout.strip()
    built.write("methods/_helper.py", "def double(x):\n    return 2 * x\n")
    new = built.git("hash-object", "methods/_helper.py").stdout.strip()
    code, jobs, _ = verify(built, *every_job(built))
    assert code == 1
    assert failing(jobs) == {("b", "currency"), ("c", "currency")}
    d = {k.rsplit("-", 1)[0]: (k, v) for k, v in jobs.items()}
    assert d["b"][1]["currency"][1] == (f"not current in the work tree: source methods/_helper.py: "
                                        f"{old[:12]} → {new[:12]}")
    assert d["c"][1]["currency"][1] == f"not current in the work tree: input b: {d['b'][0]} is not current"
    assert d["a"][1]["currency"] == (True, "current in the work tree")


def test_currency_after_editing_a_data_file_and_at_an_older_commit(built):
    first = dict(dirs(built))
    built.write("data/input.txt", "six seven\n")
    code, jobs, _ = verify(built, str(first["a"]))
    (a,) = jobs.values()
    old = built.git("rev-parse", "HEAD:data/input.txt").stdout.strip()
    new = built.git("hash-object", "data/input.txt").stdout.strip()
    assert a["currency"] == (False, f"not current in the work tree: file data/input.txt: {old[:12]} → {new[:12]}")
    head = built.commit("new data")
    built.build()
    new_a = next(built.workdir / d for d in built.job_dirs() if d.startswith("a-") and built.workdir / d != first["a"])
    # at the older commit, the old job is current and the new one is not
    _, jobs, _ = verify(built, str(first["a"]), str(new_a), "--at", "HEAD~1")
    assert jobs[first["a"].name]["currency"][0] is True
    assert jobs[first["a"].name]["currency"][1].startswith("current in commit ")
    assert jobs[new_a.name]["currency"] == (False, f"not current in commit {built.git('rev-parse', 'HEAD~1').stdout[:12]}: "
                                                   f"file data/input.txt: {new[:12]} → {old[:12]}")
    _, jobs, _ = verify(built, str(new_a), "--at", head)
    assert jobs[new_a.name]["currency"][0] is True
    assert built.run("verify", "--all", "--at", "nosuchrev").returncode == 2


def test_currency_after_method_removed_and_option_added(built):
    built.remove("methods/c.py")
    built.write("methods/a.py", built.read("methods/a.py").replace('{"scale": 1}', '{"scale": 1, "extra": True}'))
    _, jobs, _ = verify(built, *every_job(built))
    d = {k.rsplit("-", 1)[0]: v for k, v in jobs.items()}
    assert d["c"]["currency"] == (False, "not current in the work tree: method 'c' no longer exists")
    assert "option 'extra' was added" in d["a"]["currency"][1]
    assert failing(jobs) == {("a", "currency"), ("b", "currency"), ("c", "currency")}


def test_currency_honours_equivalent_hashes(built):
    recorded = json.loads((dirs(built)["a"] / "job.json").read_text())["source"]
    text = built.read("methods/a.py") + "# a cosmetic comment\n"
    built.write("methods/a.py", text + "equivalent_hashes = {'x': ('%s',)}\n" % recorded)
    _, jobs, _ = verify(built, *every_job(built))
    det = next(v for k, v in jobs.items() if k.startswith("a-"))["currency"]
    assert det[0] is False and "equivalent_hashes verifier is wrong" in det[1]
    verifier = det[1].split("it should be '")[1].split("'")[0]
    built.write("methods/a.py", text + "equivalent_hashes = {'%s': ('%s',)}\n" % (verifier, recorded))
    _, jobs, _ = verify(built, *every_job(built))
    a = next(v for k, v in jobs.items() if k.startswith("a-"))
    assert a["currency"] == (True, "current in the work tree (through equivalent_hashes)")
    assert failing(jobs) == set()


# --------------------------------------------------------------- selection

def test_selection_by_prefix_dirname_path_all_and_script(chain_repo):
    chain_repo.write("build_extra.py", """
        def main(urd):
            urd.build("a", scale=3)
    """)
    chain_repo.commit("second script")
    out = chain_repo.build()
    by = {(j["method"], j["id"]) for j in out["jobs"]}
    a1 = next(i for m, i in by if m == "a" and (chain_repo.workdir / f"a-{i[:12]}" / "job.json").read_text().count('"scale": 1'))
    names = ids_to_dirs(chain_repo)

    def selected(*args):
        return sorted(verify(chain_repo, *args)[1])

    assert selected(a1[:8]) == [names[a1]]
    assert selected(names[a1]) == [names[a1]]
    assert selected(str(chain_repo.workdir / names[a1])) == [names[a1]]
    assert selected(os.path.join(".accelgit", "work", names[a1], "output")) == [names[a1]]
    assert selected("--all") == sorted(names.values())
    assert len(names) == 4
    chain = sorted(names[i] for m, i in by if m in "bc") + [names[a1]]
    assert selected("--script", "build.py") == sorted(chain)
    assert selected("--script", "build_extra.py") == sorted(set(names.values()) - set(chain))
    assert selected("--script", "build_extra.py", names[a1], a1[:10]) == sorted(set(names.values()) - set(chain) | {names[a1]})
    sub = chain_repo.path / "methods"
    proc = chain_repo.run("verify", "--script", "../build.py", "--json", cwd=sub)
    assert proc.returncode == 0 and len(json.loads(proc.stdout)["jobs"]) == 3


def test_bad_selection_is_one_clear_line_and_exit_2(built):
    for args, msg in [
        (["zzzz"], "accelgit: no job matches 'zzzz' in the workdirs (local)"),
        (["--script", "nope.py"], "accelgit: no build record for 'nope.py'"),
    ]:
        proc = built.run("verify", *args)
        assert proc.returncode == 2, proc
        assert proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(msg), proc.stderr


def test_a_job_of_a_script_that_was_removed_fails(built):
    c = dirs(built)["c"]
    cid = json.loads((c / "job.json").read_text())["id"]
    shutil.rmtree(c)
    code, jobs, data = verify(built, "--script", "build.py")
    assert code == 1 and len(jobs) == 3
    assert jobs[cid] == {"integrity": (False, f"job {c.name} is not in any workdir (removed?)"),
                         **{k: (False, "not checked: the job is missing") for k in ALL[1:]}}
    assert failing({k: v for k, v in jobs.items() if k != cid}) == set()


def test_verify_all_without_any_jobs(repo):
    repo.write("methods/one.py", "def synthesis():\n    return 1\n")
    repo.commit("one")
    code, jobs, data = verify(repo, "--all")
    assert code == 0 and data == {"ok": True, "jobs": []}
    assert repo.run("verify", "--all", check=True).stdout.strip().startswith("no jobs to verify (the current build "
                                                                             "scripts cannot be planned: no build script")
    proc = repo.run("verify")                          # nothing named, and no script to say what is used
    assert proc.returncode == 2 and proc.stderr.startswith("accelgit: verify: nothing to check (the current build "
                                                           "scripts cannot be planned: no build script found")


def test_verify_checks_what_the_current_scripts_use_and_all_is_not_failed_by_history(chain_repo):
    """A feature branch changes b: its jobs differ from main's.  On the branch,
    plain verify checks the branch's jobs; --all checks every job's integrity
    and identity and says which the current scripts use: main's jobs are not
    current here, which is information, not a failure."""
    r = chain_repo
    main_jobs = {j["method"]: j["id"] for j in r.build()["jobs"]}
    r.git("checkout", "-q", "-b", "feature")
    r.write("methods/b.py", r.read("methods/b.py") + "\n# feature\n")
    r.commit("feature: edit b")
    code, jobs, data = verify(r)
    assert code == 1 and len(jobs) == 3                 # a (reused from main), and b and c to build
    b_missing = [d for d, checks in jobs.items() if not checks["integrity"][0]]
    assert len(b_missing) == 2 and all("not built yet" in jobs[d]["integrity"][1] for d in b_missing)
    feature_jobs = {j["method"]: j["id"] for j in r.build()["jobs"]}
    code, jobs, data = verify(r)
    assert code == 0 and len(jobs) == 3 and failing(jobs) == set()
    code, jobs, data = verify(r, "--all")
    assert code == 0 and len(jobs) == 5 and failing(jobs) == set()
    names = ids_to_dirs(r)
    for m in ("b", "c"):
        old, new = jobs[names[main_jobs[m]]]["currency"][1], jobs[names[feature_jobs[m]]]["currency"][1]
        assert old.startswith("not used by the current build scripts; not current in the work tree"), old
        assert new == "used by the current build scripts; current in the work tree", new
    text = r.run("verify", "--all", check=True).stdout
    assert "FAIL" not in text and text.splitlines()[-1] == "5 jobs verified: all checks passed"
    shutil.rmtree(r.workdir / names[main_jobs["c"]] / "output")      # damage one of main's jobs
    code, jobs, data = verify(r, "--all")
    assert code == 1 and failing(jobs) == {("c", "integrity")}


def test_a_fifo_or_device_link_in_a_job_is_reported_not_read(built):
    c = dirs(built)["c"]
    os.mkfifo(c / "output" / "pipe")
    os.symlink("/dev/zero", c / "output" / "zero")
    proc = built.run("verify", str(c), "--json")           # would hang if verify read them
    checks = {x["check"]: x for x in json.loads(proc.stdout)["jobs"][0]["checks"]}
    assert proc.returncode == 1 and not checks["integrity"]["ok"]
    assert "not regular files: output/pipe, output/zero" in checks["integrity"]["detail"]
