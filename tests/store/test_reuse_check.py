"""Reuse is decided on a job's recorded files (accelgit/store/jobcheck.py): a
stored job edited after its build is not reused.  ``plan`` says it is
damaged and why, ``build`` moves it aside to the workdir's ``.damaged/``
(never deleting it) and builds it again; a folder renamed to another job's
name is not that job, whatever the index says; an unchanged job whose stat
data merely moved (touched, copied) is checked against its manifest and
reused."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from conftest import CHAIN, Repo, write_files

TWO = {
    "methods/emit.py": """
        options = {"k": 0}

        def synthesis(options, job):
            with job.open("x.txt", "w") as f:
                f.write(f"value {options.k}\\n")
            return {"k": options.k}
    """,
    "methods/total.py": """
        jobs = ("a", "b")

        def synthesis(jobs):
            return jobs.a.load()["k"] * 10 + jobs.b.load()["k"]
    """,
    "build.py": """
        def main(urd):
            a = urd.build("emit", name="a", k=1)
            b = urd.build("emit", name="b", k=2)
            t = urd.build("total", a=a, b=b)
            print("TOTAL", t.load())
    """,
}


@pytest.fixture
def two(repo: Repo) -> tuple[Repo, dict]:
    write_files(repo, TWO)
    repo.commit("two emits")
    return repo, {j["name"]: j for j in repo.build()["jobs"]}


def plan_jobs(repo: Repo) -> dict:
    return {j["name"]: j for j in repo.json("plan")["jobs"]}


def damaged_folders(repo: Repo) -> list[str]:
    d = repo.workdir / ".damaged"
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


@pytest.mark.parametrize("rel", ["output/x.txt", "result.json"])
def test_an_edited_output_is_damaged_for_plan_and_rebuilt_by_build(two, rel: str):
    repo, jobs = two
    path = Path(jobs["a"]["path"])
    target = path / rel
    old = target.read_bytes()
    target.write_bytes(old.replace(b"1", b"7"))            # same size: only mtime and content move
    plan = plan_jobs(repo)
    assert plan["a"]["action"] == "build"
    assert plan["a"]["reasons"] == [{"kind": "damaged", "detail": f"{rel} modified after the build"}]
    assert plan["b"]["action"] == "reuse" and plan["total"]["action"] == "reuse"
    text = repo.run("plan", check=True).stdout
    assert f"damaged: {rel} modified after the build" in text
    proc = repo.run("build", check=True)
    assert (f"job {path} is damaged ({rel} modified after the build): building it again "
            f"(it is kept in {repo.workdir / '.damaged'}/)") in proc.stderr
    assert "1 built, 2 reused" in proc.stdout and "TOTAL 12" in proc.stdout
    assert target.read_bytes() == old                      # built again, same id, same place
    kept = damaged_folders(repo)
    assert len(kept) == 1 and kept[0].startswith(path.name + ".")
    assert (repo.workdir / ".damaged" / kept[0] / rel).read_bytes() == old.replace(b"1", b"7")   # never deleted
    assert repo.json("plan")["summary"] == {"build": 0, "reuse": 3}
    assert repo.run("verify", check=True).returncode == 0
    gc = [(r["kind"], r["path"]) for r in repo.json("gc")["removed"] if r["kind"] != "lock"]
    assert gc == [("damaged", f".damaged/{kept[0]}")]                 # gc removes it, saying what it was


def test_an_edit_that_keeps_size_and_mtime_is_seen(two):
    repo, jobs = two
    target = Path(jobs["b"]["path"]) / "result.json"
    st = target.stat()
    with open(target, "r+b") as f:                           # in place: the inode stays
        data = f.read()
        f.seek(0)
        f.write(data.replace(b"2", b"3"))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))   # the mtime put back: only the ctime moved
    assert target.stat().st_ino == st.st_ino and target.stat().st_size == st.st_size
    assert plan_jobs(repo)["b"]["reasons"] == [{"kind": "damaged", "detail": "result.json modified after the build"}]
    proc = repo.run("build", check=True)
    assert "result.json modified after the build" in proc.stderr and "TOTAL 12" in proc.stdout


def test_touched_or_copied_jobs_are_checked_once_and_reused(two, tmp_path: Path):
    repo, jobs = two
    for j in jobs.values():
        for f in Path(j["path"]).rglob("*"):
            os.utime(f)                                        # new mtimes, same content
    assert repo.json("plan")["summary"] == {"build": 0, "reuse": 3}
    out = repo.build()
    assert [j["action"] for j in out["jobs"]] == ["reused"] * 3
    assert damaged_folders(repo) == []
    db = sqlite3.connect(repo.workdir / "index.sqlite")
    rows = db.execute("SELECT dirname, checked, stat FROM jobs").fetchall()
    assert len(rows) == 3 and all(r[1] and r[1].split("\n")[0] == "manifest.json" and r[2] for r in rows)
    assert any("output/x.txt" in r[1] for r in rows)


def test_swapped_folders_are_not_reused_even_with_the_index(two):
    repo, jobs = two
    a, b = Path(jobs["a"]["path"]), Path(jobs["b"]["path"])
    assert (repo.workdir / "index.sqlite").exists()
    tmp = a.with_name("swap")
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    plan = plan_jobs(repo)
    for name, other in (("a", b), ("b", a)):
        assert plan[name]["action"] == "build"
        (reason,) = plan[name]["reasons"]
        assert reason["kind"] == "damaged" and "the folder was renamed or swapped" in reason["detail"]
        assert f"job {other.name.split('-')[1]}'s" in reason["detail"]
    proc = repo.run("build", check=True)
    assert "TOTAL 12" in proc.stdout, proc.stderr              # not 21: each loads its own job
    assert "2 built, 1 reused" in proc.stdout
    assert len(damaged_folders(repo)) == 2
    assert json.loads((a / "result.json").read_text()) == {"k": 1}


def test_a_job_not_in_the_index_is_checked_before_reuse(two):
    repo, jobs = two
    (repo.workdir / "index.sqlite").unlink()
    target = Path(jobs["total"]["path"]) / "result.json"
    target.write_text("99")
    plan = plan_jobs(repo)
    assert plan["total"]["reasons"] == [{"kind": "damaged", "detail": "result.json modified after the build"}]
    proc = repo.run("build", check=True)
    assert "TOTAL 12" in proc.stdout and "1 built, 2 reused" in proc.stdout


def test_a_missing_output_is_damaged(two):
    repo, jobs = two
    (Path(jobs["a"]["path"]) / "output" / "x.txt").unlink()
    assert plan_jobs(repo)["a"]["reasons"] == [{"kind": "damaged", "detail": "output/x.txt is missing"}]
    repo.run("build", check=True)
    assert (Path(jobs["a"]["path"]) / "output" / "x.txt").read_text() == "value 1\n"


def test_logs_and_profile_are_left_to_verify(chain_repo: Repo):
    """Not read by anything a build runs: an edit there is verify's to report."""
    jobs = {j["method"]: j for j in chain_repo.build()["jobs"]}
    (Path(jobs["a"]["path"]) / "profile.json").write_text("{}")
    assert chain_repo.json("plan")["summary"] == {"build": 0, "reuse": 3}
    proc = chain_repo.run("verify", "--json")
    assert proc.returncode == 1
    assert "profile.json" in proc.stdout
    assert CHAIN                                             # (the fixture's pipeline)
