"""Run records (accelgit/store/runs.py): JSON Lines, one call a line in call
order, written by build and read back as written; a damaged record, or one of
another format, is not read (plan then compares with the newest job, gc
removes nothing)."""
from __future__ import annotations

import json

from conftest import read_record


def test_run_record_lists_jobs_in_call_order(chain_repo):
    out = chain_repo.build()
    header, calls = read_record(chain_repo.record_path())
    assert [j["id"] for j in calls] == [j["id"] for j in out["jobs"]]
    assert [j["method"] for j in calls] == ["a", "b", "c"]
    assert header["script"] == "build.py" and header["view"] == "worktree" and header["format"] == 2


def read_calls(path: str) -> list | None:
    """Every call of a record, or None when it cannot be read (while reading, too)."""
    from accelgit.store import runs
    try:
        return list(runs.read(path)[1])
    except (OSError, runs.RecordError):
        return None


def test_a_record_is_read_as_it_was_written(tmp_path):
    from accelgit.store import runs
    jobs = [{"id": f"{i:064x}", "method": "m" if i % 2 else "n", "name": "x"} for i in range(7)]
    path = runs.write(str(tmp_path), "sub/b.py", {"commit": None}, iter(jobs))
    assert path == str(tmp_path / ".runs" / "sub__b.py.jsonl")
    header, got = runs.read(path)
    assert header["script"] == "sub/b.py" and header["format"] == 2 and list(got) == jobs
    empty = runs.write(str(tmp_path), "e.py", {}, [])
    assert read_calls(empty) == []
    text = open(path).read()
    bad = tmp_path / "bad.jsonl"
    for damaged in (text[:-4], text + "x", text.replace('"method": "m", ', "", 1), '{"format": 1}\n', "[]\n", ""):
        bad.write_text(damaged)
        assert read_calls(str(bad)) is None, damaged
    assert read_calls(str(tmp_path / "missing.jsonl")) is None
    bad.unlink()
    assert runs.read_all(str(tmp_path)) == ({"e.py.jsonl": [], "sub__b.py.jsonl": [j["id"] for j in jobs]}, [])


def test_a_record_of_an_older_accelgit_is_read_until_a_build_replaces_it(chain_repo):
    repo = chain_repo
    repo.write("accelgit.toml", "[gc]\ngrace_days = 0\n")
    jobs = {j["method"]: j for j in repo.build()["jobs"]}
    legacy = repo.workdir / ".runs" / "other.py.json"          # an older accelgit's record of another script
    legacy.write_text('{"script": "other.py", "jobs": [\n' + json.dumps(
        {"id": jobs["c"]["id"], "method": "c", "name": "c"}) + '\n]}\n')
    repo.write("build.py", "def main(urd):\n    urd.build('a')\n")     # b and c are used by no script now
    repo.commit("only a")
    repo.build()
    gc = repo.json("gc")                                       # ... but the old record lists c (and so b)
    assert not [i for i in gc["removed"] if i["kind"] == "job"] and gc["kept"] == 3
    reasons = {j["path"].split("-")[0]: j["reason"] for j in gc["kept_jobs"]}
    assert reasons["c"] == "in the run record other.py.json" and reasons["b"] == "an input of a kept job"
    mine = repo.workdir / ".runs" / "build.py.json"          # this script's own old record: replaced by its build
    mine.write_text("{}")
    repo.build()
    assert not mine.exists() and legacy.exists()
    legacy.write_text("{not json")                             # unreadable: nothing removed
    gc = repo.json("gc")
    assert not [i for i in gc["removed"] if i["kind"] == "job"]
    assert any("unreadable run record" in n for n in gc["notes"]), gc["notes"]
    legacy.unlink()
    gc = repo.json("gc")
    assert sorted(i["path"].split("-")[0] for i in gc["removed"] if i["kind"] == "job") == ["b", "c"]
