"""The urd lists (the Accelerator's Urd, issue 16 item 7): a build script's
sessions, stored as JSON Lines under the workdir (or the config's ``urd``
path), each item with the commit it was made from; read-only under plan."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_files

from accelgit.store.urddb import UrdDB

SCRIPT = """
import json
from pathlib import Path

def main(urd):
    urd.truncate('imports', 0)
    for day in ('2024-01-01', '2024-01-02'):
        urd.begin('imports', day, caption='day ' + day)
        previous = urd.latest('imports').joblist.get('step')
        urd.build('step', day=day, previous=previous)
        urd.finish('imports')
    urd.begin('report', 1)
    src = urd.get('imports', '2024-01-01')
    urd.build('step', day='report', previous=src.joblist[-1])
    urd.finish('report')
    first = urd.peek_first('imports')
    print('RESULT', json.dumps({
        'list': urd.list(), 'since': urd.since('imports', '2024-01-01'),
        'latest_caption': urd.peek_latest('imports').caption, 'first': first.timestamp,
        'first_job_day': first.joblist[0].load(), 'joblist': [j.method for j in urd.joblist],
        'find': len(urd.joblist.find('step')), 'empty': bool(urd.peek('nothing', 3)),
        'report': urd.peek('report', 1),
    }, sort_keys=True))
"""

FILES = {
    "methods/a_step.py": "options = dict(day='')\njobs = ('previous',)\ndef synthesis():\n    return options.day\n",
    "methods/build_lists.py": SCRIPT,
}


def result(proc) -> dict:
    return json.loads([x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][0][7:])


def test_urd_lists_in_a_build_script(repo):
    write_files(repo, FILES)
    head = repo.commit("lists")
    out = result(repo.run("build", check=True))
    assert out["list"] == ["imports", "report"] and out["since"] == ["2024-01-02"]
    assert (out["latest_caption"], out["first"], out["first_job_day"]) == ("day 2024-01-02", "2024-01-01", "2024-01-01")
    assert out["joblist"] == ["step"] and out["find"] == 1 and out["empty"] is False      # joblist: since begin
    report = out["report"]
    assert report["deps"] == {"imports": {"caption": "day 2024-01-01", "timestamp": "2024-01-01",
                                          "joblist": [["step", report["deps"]["imports"]["joblist"][0][1]]]}}
    assert (report["build"], report["timestamp"], report["commit"], report["view"]) == ("report", "1", head, "worktree")
    db = UrdDB(str(repo.workdir / ".urd.jsonl"), writable=False)
    second = db.get("imports", "2024-01-02")
    first = db.get("imports", "2024-01-01")
    # the second day's job was given the first day's as its "previous"
    params = json.loads((repo.workdir / second["joblist"][0][1] / "job.json").read_text())
    assert params["jobs"]["previous"] == first["joblist"][0][3]
    # built again: the same items (no conflict), every job reused
    again = repo.build()
    assert {j["action"] for j in again["jobs"]} == {"reused"}
    assert result(repo.run("build", check=True)) == out


def test_plan_reads_the_lists_and_writes_nothing(repo):
    write_files(repo, FILES)
    repo.commit("lists")
    assert repo.json("plan")["jobs"]                    # runs the script, lists in memory only
    assert not (repo.workdir / ".urd.jsonl").exists()
    repo.build()
    before = (repo.workdir / ".urd.jsonl").read_text()
    assert {j["action"] for j in repo.json("plan")["jobs"]} == {"reuse"}
    assert (repo.workdir / ".urd.jsonl").read_text() == before


def test_urd_path_in_config_and_a_changed_item_is_refused(repo):
    write_files(repo, {
        **FILES, "accelgit.toml": 'urd = "lists/urd.jsonl"\n',
        "methods/build_lists.py": "def main(urd):\n    urd.begin('l', 5)\n    urd.build('step', day='a')\n"
                                  "    urd.finish('l')\n"})
    repo.build()
    assert (repo.path / "lists" / "urd.jsonl").exists()
    repo.write("methods/build_lists.py", "def main(urd):\n    urd.begin('l', 5)\n    urd.build('step', day='b')\n"
                                         "    urd.finish('l')\n")
    proc = repo.run("build")
    assert proc.returncode == 2
    assert proc.stderr == ("accelgit: urd list 'l' already has a different item at 5 (truncate the list first, "
                           "or begin(..., update=True))\n")


def test_urd_misuse_is_one_line(repo):
    write_files(repo, {**FILES, "methods/build_lists.py": "def main(urd):\n    urd.latest('x')\n"})
    proc = repo.run("build")
    assert (proc.returncode, proc.stderr) == (2, "accelgit: methods/build_lists.py:2: urd.get/latest/first('x') "
                                                 "records a dependency, so it needs urd.begin first (urd.peek reads "
                                                 "without one)\n")


def test_urd_commands_show_which_data_and_which_code(repo):
    write_files(repo, FILES)
    head = repo.commit("lists")
    repo.build()
    assert repo.json("urd", "list") == {"lists": [{"list": "imports", "items": 2, "latest": "2024-01-02"},
                                                  {"list": "report", "items": 1, "latest": "1"}]}
    items = repo.json("urd", "list", "imports")["items"]
    assert [(i["timestamp"], i["caption"], i["commit"]) for i in items] == \
        [("2024-01-01", "day 2024-01-01", head), ("2024-01-02", "day 2024-01-02", head)]
    latest = repo.json("urd", "show", "imports")
    assert latest["timestamp"] == "2024-01-02" and latest["joblist"][0][0] == "step"
    text = repo.run("urd", "show", "report", "1", check=True).stdout
    assert f"commit     {head} (worktree)" in text and "uses       imports at 2024-01-01" in text
    proc = repo.run("urd", "show", "imports", "2030-01-01")
    assert (proc.returncode, proc.stderr) == (2, "accelgit: urd list 'imports' has no item at 2030-01-01 "
                                                 "(it has 2024-01-01, 2024-01-02)\n")
    proc = repo.run("urd", "list", "nothing")
    assert (proc.returncode, proc.stderr) == (2, "accelgit: no urd list 'nothing' (lists: imports, report)\n")


CHAINED = """
def main(urd):
    urd.truncate('daily', 0)
    for day in ('2024-01-01', '2024-01-02', '2024-01-03'):
        urd.begin('daily', day)
        urd.latest('daily')
        urd.build_chained('step', name='step', day=day)
        urd.finish('daily')
    urd.warn('three days\\tbuilt\\nsee the chain')
"""


def test_build_chained_chains_each_session_to_the_last_and_warn_shows_at_the_end(repo):
    """``urd.build_chained`` is ``build`` with ``previous=`` the same-named job of
    the last list this session read (none the first time); ``urd.warn`` lines
    come after the build, as the Accelerator shows them."""
    write_files(repo, {"methods/a_step.py": FILES["methods/a_step.py"], "methods/build_chain.py": CHAINED})
    repo.commit("chained")
    proc = repo.run("build", "methods/build_chain.py", check=True)
    assert proc.stderr.endswith("accelgit: warning: three days      built\naccelgit: warning: see the chain\n")
    db = UrdDB(str(repo.workdir / ".urd.jsonl"), writable=False)
    ids = [db.get("daily", d)["joblist"][0][3] for d in ("2024-01-01", "2024-01-02", "2024-01-03")]
    jobs = {j["id"]: j for j in repo.build("methods/build_chain.py")["jobs"]}
    assert [j["action"] for j in jobs.values()] == ["reused"] * 3
    previous = [json.loads((Path(jobs[i]["path"]) / "job.json").read_text())["jobs"]["previous"]
                for i in ids]
    assert previous == [None, ids[0], ids[1]]
    assert "warning" not in repo.run("plan", "methods/build_chain.py", check=True).stderr    # a plan shows none


@pytest.mark.parametrize("call, line", [
    ("urd.build_chained('step', name='step')",
     "build_chained needs a list to chain from: urd.get, urd.latest or urd.first in this urd session first"),
    ("urd.build_chained('step', name='step', previous=None)", "build_chained gives 'previous' itself; do not give it"),
    ("urd.build_chained('step')", "build_chained needs name= (the job to chain from has that name)"),
])
def test_a_bad_build_chained_call_is_one_line(repo, call, line):
    write_files(repo, {"methods/a_step.py": FILES["methods/a_step.py"],
                       "methods/build_bad.py": f"def main(urd):\n    urd.begin('x', 1)\n    {call}\n"})
    repo.commit("bad")
    proc = repo.run("build", "methods/build_bad.py")
    assert (proc.returncode, proc.stderr) == (2, f"accelgit: methods/build_bad.py:3: {line}\n")
    assert repo.job_dirs() == []
