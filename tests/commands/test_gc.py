"""``accelgit gc`` on real branch workflows: it keeps every job the build
scripts at HEAD, any local branch tip or any tag use (planned from git,
without a checkout), what the run records list, their inputs, and recent
jobs; ``--all-commits`` keeps what any commit uses; ``-n`` says why each job
is kept or removed."""
from __future__ import annotations

from conftest import Repo

NO_GRACE = '[gc]\ngrace_days = 0\n'


def branches(chain_repo: Repo) -> tuple[dict, dict]:
    """main's jobs, then a feature branch (b edited, committed, built): its jobs."""
    r = chain_repo
    r.write("accelgit.toml", NO_GRACE)
    r.commit("no grace period")
    main = {j["method"]: j for j in r.build()["jobs"]}
    r.git("checkout", "-q", "-b", "feature")
    r.write("methods/b.py", r.read("methods/b.py") + "\n# feature\n")
    r.commit("feature: edit b")
    feature = {j["method"]: j for j in r.build()["jobs"]}
    assert feature["b"]["id"] != main["b"]["id"] and feature["a"]["id"] == main["a"]["id"]
    return main, feature


def removed_jobs(gc: dict) -> set:
    return {i["path"] for i in gc["removed"] if i["kind"] == "job"}


def dirname(job: dict) -> str:
    return job["path"].rsplit("/", 1)[-1]


def test_gc_on_a_feature_branch_keeps_mains_jobs(chain_repo):
    r = chain_repo
    main, feature = branches(r)
    dry = r.json("gc", "-n")
    assert removed_jobs(dry) == set()
    reasons = {j["path"]: j["reason"] for j in dry["kept_jobs"]}
    assert reasons[dirname(main["b"])] == "used by branch main"
    assert reasons[dirname(feature["b"])] == "used by HEAD"
    text = r.run("gc", "-n", check=True).stdout
    assert f"would keep   job           {dirname(main['c'])}  (used by branch main)" in text
    gc = r.json("gc")
    assert removed_jobs(gc) == set() and gc["kept"] == 5
    r.git("checkout", "-q", "main")
    assert r.run("plan", "--exit-code").returncode == 0        # main's jobs are all there


def test_a_deleted_branch_is_collected_but_a_tag_keeps_its_jobs(chain_repo):
    r = chain_repo
    main, feature = branches(r)
    r.git("tag", "-a", "v1", "-m", "release")                  # an annotated tag on the feature commit
    r.git("checkout", "-q", "main")
    r.git("branch", "-q", "-D", "feature")
    r.build()                                                  # the run record is main's again
    dry = r.json("gc", "-n")
    assert removed_jobs(dry) == set()
    assert {j["path"]: j["reason"] for j in dry["kept_jobs"]}[dirname(feature["b"])] == "used by tag v1"
    r.git("tag", "-d", "v1")             # now no branch, tag or commit in history reaches the feature commit
    assert removed_jobs(r.json("gc", "-n", "--all-commits")) == {dirname(feature["b"]), dirname(feature["c"])}
    gc = r.json("gc")
    assert removed_jobs(gc) == {dirname(feature["b"]), dirname(feature["c"])}
    assert r.run("plan", "--exit-code").returncode == 0


def test_all_commits_keeps_what_history_uses(chain_repo):
    r = chain_repo
    r.write("accelgit.toml", NO_GRACE)
    r.commit("no grace period")
    old = {j["method"]: j for j in r.build()["jobs"]}
    r.write("methods/c.py", r.read("methods/c.py") + "\n# v2\n")
    r.commit("c, version 2")
    r.build()
    assert removed_jobs(r.json("gc", "-n")) == {dirname(old["c"])}             # only an older commit uses it
    gc = r.json("gc", "-n", "--all-commits")
    assert removed_jobs(gc) == set()
    assert {j["path"]: j["reason"] for j in gc["kept_jobs"]}[dirname(old["c"])].startswith("used by commit ")
    r.write("accelgit.toml", NO_GRACE + 'keep = "all-commits"\n')          # the same from the config
    assert removed_jobs(r.json("gc")) == set()


def test_only_head_on_request_and_the_grace_period(chain_repo):
    r = chain_repo
    main, feature = branches(r)
    gc = r.json("gc", "-n", "--no-keep-branch-tips")
    assert removed_jobs(gc) == {dirname(main["b"]), dirname(main["c"])}
    r.write("accelgit.toml", "[gc]\ngrace_days = 14\n")         # the default: these jobs are minutes old
    gc = r.json("gc", "--no-keep-branch-tips")
    assert removed_jobs(gc) == set()
    assert {j["path"]: j["reason"] for j in gc["kept_jobs"]}[dirname(main["b"])] == "built less than 14 days ago"


def test_a_branch_whose_scripts_cannot_be_planned_keeps_everything(chain_repo):
    r = chain_repo
    main, feature = branches(r)
    r.write("build.py", "def main(urd):\n    urd.build('nosuchmethod')\n")
    r.commit("broken scripts on feature")
    r.git("checkout", "-q", "main")
    gc = r.json("gc")
    assert removed_jobs(gc) == set()
    assert any(n.startswith("the build scripts of branch feature (") and "unknown method 'nosuchmethod'" in n
               and n.endswith("no job is removed") for n in gc["notes"]), gc["notes"]


def test_gc_options_and_config_errors(chain_repo):
    r = chain_repo
    proc = r.run("gc", "--workdir", "nope")
    assert proc.returncode == 2 and proc.stderr == "accelgit: unknown workdir 'nope' (configured: local)\n"
    r.write("accelgit.toml", '[gc]\nkeep = "everything"\n')
    proc = r.run("gc")
    assert proc.returncode == 2 and proc.stderr == ("accelgit: accelgit.toml: 'gc.keep' must be one of 'branches', "
                                                    "'all-commits', not 'everything'\n")
    r.write("accelgit.toml", "[gc]\ngrace_days = -1\n")
    assert r.run("gc").stderr == "accelgit: accelgit.toml: 'gc.grace_days' must be a number of days, 0 or more\n"
    r.write("accelgit.toml", "[gc]\ngrace = 3\n")
    assert r.run("gc").stderr == "accelgit: accelgit.toml: unknown key 'gc.grace' (known: grace_days, keep)\n"
    r.write("accelgit.toml", NO_GRACE)
    assert r.json("gc", "-n", "--workdir", "local")["workdir"] == str(r.workdir)
