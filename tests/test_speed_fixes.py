"""Behaviour kept (or fixed) by the speed work: job folders hold no bytecode
caches, the run record lists every job in call order, the JSON output is
the same document as before."""
from __future__ import annotations

import json

from conftest import read_record


def test_job_folders_hold_no_bytecode_cache(chain_repo):
    # a user's environment writes bytecode: the job process must not, into its source copies
    env = {"PYTHONDONTWRITEBYTECODE": ""}
    proc = chain_repo.run("build", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    for job in json.loads(proc.stdout)["jobs"]:
        manifest = json.loads((chain_repo.path / job["path"] / "manifest.json").read_text())
        assert not [p for p in manifest["files"] if "__pycache__" in p or p.endswith(".pyc")]
        assert not list((chain_repo.path / job["path"]).rglob("__pycache__"))


def test_run_record_lists_jobs_in_call_order(chain_repo):
    out = chain_repo.build()
    header, calls = read_record(chain_repo.record_path())
    assert [j["id"] for j in calls] == [j["id"] for j in out["jobs"]]
    assert [j["method"] for j in calls] == ["a", "b", "c"]
    assert header["script"] == "build.py" and header["view"] == "worktree" and header["format"] == 2


def test_json_output_is_exactly_the_indented_document(chain_repo):
    # emit streams the document: the bytes must be json.dumps(doc, indent=1) + newline
    for args in (["build", "--json"], ["plan", "--json"]):
        proc = chain_repo.run(*args)
        assert proc.stdout == json.dumps(json.loads(proc.stdout), indent=1) + "\n"
