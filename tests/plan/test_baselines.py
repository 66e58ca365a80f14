"""Reasons name what differs from the baseline read from git (SPEC §7,
"Baselines"), never from whichever build ran last: the scenario of a feature
branch built, then main again, with real git, real branches, a real merge
and installed hooks firing."""
from __future__ import annotations

import json

from conftest import Repo


def feature_built_then_main(r: Repo) -> None:
    """main built; a feature branch changes c (its code and the offset default),
    is built, and main is checked out again."""
    r.build()
    r.git("checkout", "-q", "-b", "feature")
    r.write("methods/c.py", r.read("methods/c.py").replace('"offset": 0', '"offset": 7') + "\n# feature\n")
    r.commit("feature: c offset 7")
    r.build()
    r.git("checkout", "-q", "main")


def reasons(job: dict) -> list[tuple]:
    return [(x["kind"], x["detail"].split(",")[0]) for x in job["reasons"]]


def test_a_data_change_on_main_is_not_blamed_on_the_feature_built_before(chain_repo):
    r = chain_repo
    feature_built_then_main(r)
    r.write("data/input.txt", "one two\n")
    r.git("add", "data/input.txt")
    for args in (["plan", "--staged"], ["plan"]):
        doc = r.json(*args)
        jobs = {j["name"]: j for j in doc["jobs"]}
        assert doc["baseline"] == {"label": "HEAD", "commit": r.git("rev-parse", "HEAD").stdout.strip()}
        assert [x["kind"] for x in jobs["a"]["reasons"]] == ["file"]
        assert [x["kind"] for x in jobs["c"]["reasons"]] == ["input"], jobs["c"]["reasons"]   # not offset 7 → 0
        assert not any("methods/c.py" in x["detail"] or "offset" in x["detail"] for x in jobs["c"]["reasons"])
    hook = r.json("hook", "run", "pre-commit")
    c = next(j for j in hook["invalidated"] if j["name"] == "c")
    assert [x["kind"] for x in c["reasons"]] == ["input"]


def test_the_merge_is_explained_against_orig_head_by_the_installed_hook(chain_repo):
    r = chain_repo
    feature_built_then_main(r)
    r.write("data/input.txt", "one two three four\n")
    r.commit("main: new data")
    r.run("hooks", "install", check=True)
    merge = r.git("merge", "-q", "--no-edit", "feature")
    out = merge.stdout + merge.stderr
    line = next(ln for ln in out.splitlines() if ln.strip().startswith(("build  c", "build c")))
    assert "source: methods/c.py" in line and "option: offset: 0 → 7" in line, out
    assert "input: b:" not in line or "source" in line
    # post-checkout: back to before the merge, the reasons compare with the merge commit
    r.git("checkout", "-q", "HEAD~1")
    doc = r.json("plan")
    c = next(j for j in doc["jobs"] if j["name"] == "c")
    assert doc["baseline"]["commit"] == r.git("rev-parse", "HEAD").stdout.strip()
    assert c["action"] == "reuse" or reasons(c)


def test_without_a_commit_the_reasons_say_so(repo):
    repo.write("methods/one.py", "def synthesis():\n    return 1\n")
    repo.write("build.py", "def main(urd):\n    urd.build('one')\n")
    doc = repo.json("plan")
    (j,) = doc["jobs"]
    assert doc["baseline"] == {"label": "HEAD", "commit": None}
    assert j["reasons"] == [{"kind": "new", "detail": "nothing to compare with: there is no HEAD yet (no commit)"}]
    text = repo.run("plan", check=True).stdout
    assert text.splitlines()[0] == "plan of the work tree, reasons against nothing (HEAD: none)"
    json.dumps(doc)


def test_the_baseline_is_planned_once_per_commit_and_kept_by_it(chain_repo):
    r = chain_repo
    feature_built_then_main(r)
    r.write("methods/c.py", r.read("methods/c.py") + "\n# edit\n")
    cache = r.path / ".git" / "accelgit-baseline.json"
    first = r.run("plan", "--json", check=True).stdout
    head = r.git("rev-parse", "HEAD").stdout.strip()
    assert list(json.loads(cache.read_text())["commits"]) == [head]
    assert r.run("plan", "--json", check=True).stdout == first          # from the cache: the same reasons
    cache.write_text('{"version": 1, "accelgit": "0.1.0", "commits": {"%s": {"calls": 7}}}' % head)
    assert r.run("plan", "--json", check=True).stdout == first          # a damaged entry: planned again
    r.build()                                                           # HEAD's job of c is built now? no: the
    doc = r.json("plan")                                                # edit's is; HEAD's c stays unbuilt on main
    c = next(j for j in doc["jobs"] if j["name"] == "c")
    assert c["action"] == "reuse"
    r.commit("c edited")
    r.write("methods/c.py", r.read("methods/c.py") + "# again\n")
    doc = r.json("plan")
    c = next(j for j in doc["jobs"] if j["name"] == "c")
    assert [x["kind"] for x in c["reasons"]] == ["source"]             # HEAD's c is the built one: no 'not built'
    assert set(json.loads(cache.read_text())["commits"]) == {head, r.git("rev-parse", "HEAD").stdout.strip()}
