"""The Accelerator's own example build scripts run unchanged (issue 16).

Each of the 10 non-dataset examples of the ``accelerator`` package (installed
by the test extra; its folder ``accelerator/examples``) is copied, with the
methods and files it uses, unchanged, into a fresh repo's method folder.  The
build exits 0, a second build reuses every job, ``plan`` says reuse for every
job, and the jobs hold what the real Accelerator gave: options as the job sees
them, results, saved files, captured output, subjobs, urd items.  The expected
values in data/accelerator_examples.json were taken once from running the
real Accelerator 2025.11.11 (how: its ``_source``); its job names (dev-N)
stand for the jobs accelgit builds in the same order.  The 11 dataset
examples each stop with the one-line datasets message."""
from __future__ import annotations

import importlib.util
import json
import pickle
import re
import shutil
from pathlib import Path

import pytest
from conftest import make_repo

from accelgit.core.identity import decode_value

spec = importlib.util.find_spec("accelerator")
if spec is None:
    pytest.skip("the accelerator package (the test extra) is not installed", allow_module_level=True)
EXAMPLES = Path(spec.submodule_search_locations[0]) / "examples"
EXPECTED = json.loads((Path(__file__).parent / "data" / "accelerator_examples.json").read_text())
SCRIPTS = sorted(k for k in EXPECTED if not k.startswith("_"))
DATASET_SCRIPTS = ["build_dsexample-append", "build_dsexample-chain", "build_dsexample-create",
                   "build_dsexample-import_csv", "build_dsexample-iterate", "build_dsexample-many_ds",
                   "build_tutorial01", "build_tutorial02", "build_tutorial03", "build_tutorial04", "build_tutorial05"]


def example_repo(tmp_path: Path, script: str):
    """A fresh repo holding the example script and what the examples share, unchanged."""
    repo = make_repo(tmp_path)
    folder = repo.path / "methods"
    folder.mkdir()
    for p in EXAMPLES.iterdir():
        if p.is_file() and (p.name.startswith("a_") or p.suffix in (".txt", ".csv") or
                            p.name in ("printer.py", "mydependency.py", f"{script}.py")):
            shutil.copyfile(p, folder / p.name)
    repo.commit("the example, unchanged")
    return repo


def accelerator_form(value, names: dict):
    """A job.json option value as the Accelerator's setup.json has it."""
    if isinstance(value, list):
        return [accelerator_form(v, names) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$date"}:
            d = decode_value(value)
            return [d.year, d.month, d.day]
        if set(value) == {"$datetime"}:
            d = decode_value(value)
            return [d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond]
        return {k: accelerator_form(v, names) for k, v in value.items()}
    return value


def job_names(out: dict, expected: list) -> dict:
    """The Accelerator's dev-N -> the name of accelgit's job made by the same call."""
    assert [j["method"] for j in out["jobs"]] == [e["method"] for e in expected]
    return {e["job"]: Path(j["path"]).name for e, j in zip(expected, out["jobs"])}


def renamed(text: str, names: dict) -> str:
    return re.sub(r"\bdev-\d+\b", lambda m: names.get(m.group(), m.group()), text)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_unchanged_with_the_accelerators_results(tmp_path, script):
    repo = example_repo(tmp_path, script)
    proc = repo.run("build", "--json", check=True)
    out = json.loads(proc.stdout)
    expected = EXPECTED[script]
    names = job_names(out, expected)
    by_id = {j["id"]: Path(j["path"]).name for j in out["jobs"]}
    for e, j in zip(expected, out["jobs"]):
        path = Path(j["path"])
        params = json.loads((path / "job.json").read_text())
        options = accelerator_form(params["options"], names)
        for k in params.get("option_types") or {}:             # JobWithFile: [job, name, sliced, extra]
            options[k] = [by_id[options[k][0]], *options[k][1:]]
        assert options == json.loads(renamed(json.dumps(e["options"]), names)), e["job"]
        assert {k: v and by_id[v] for k, v in params["jobs"].items()} == \
            {k: v and names[v] for k, v in (e.get("jobs") or {}).items()}
        result = (path / "result.json").read_text() if (path / "result.json").exists() else None
        value = json.loads(result) if result is not None else pickle.loads((path / "result.pickle").read_bytes())
        assert repr(value) == renamed(e.get("result", "None"), names)
        files = {f.name: repr(pickle.loads(f.read_bytes())) for f in sorted((path / "output").iterdir())}
        assert files == {k: renamed(v, names) for k, v in (e.get("files") or {}).items()}
        logs = {f.name[:-4].replace("analysis-", ""): f.read_text() for f in (path / "log").iterdir()
                if f.read_text()}
        assert logs == {k: renamed(v, names) for k, v in (e.get("output") or {}).items()}
        subjobs = params.get("subjobs") or {}
        assert [s["method"] for s in subjobs.values()] == \
            [EXPECTED[SCRIPTS[0]][0]["method"] for _ in e.get("subjobs") or {}]
    again = repo.build()
    assert [(j["id"], j["action"]) for j in again["jobs"]] == [(j["id"], "reused") for j in out["jobs"]]
    plan = repo.json("plan")
    assert [(j["id"], j["action"]) for j in plan["jobs"]] == [(j["id"], "reuse") for j in out["jobs"]]
    urd = EXPECTED["_urd"].get(script)
    if urd:
        check_urd(repo, proc.stdout, urd, names)


def check_urd(repo, stdout: str, urd: dict, names: dict) -> None:
    from accelgit.store.urddb import UrdDB
    db = UrdDB(str(repo.workdir / ".urd.jsonl"), writable=False)
    (name,) = db.names()
    assert db.since(name, "0") == urd["since"]
    if "captions" in urd:
        assert [db.get(name, ts)["caption"] for ts in urd["since"]] == urd["captions"]
        peek = db.get(name, urd["peek"]["timestamp"])
        assert {"build": peek["list"], "caption": peek["caption"], "deps": peek["deps"],
                "joblist": [d for _, d, _, _ in peek["joblist"]], "timestamp": peek["timestamp"]} == \
            json.loads(renamed(json.dumps(urd["peek"]), names))
        assert peek["commit"] == repo.git("rev-parse", "HEAD").stdout.strip()


@pytest.mark.parametrize("script", DATASET_SCRIPTS)
def test_dataset_examples_stop_with_one_line(tmp_path, script):
    repo = example_repo(tmp_path, script)
    proc = repo.run("build")
    assert proc.returncode in (1, 2)
    lines = [x for x in proc.stderr.splitlines() if x.startswith("accelgit:")]
    assert len(lines) == 1 and "datasets are not supported (accelerator.dataset)" in lines[0], proc.stderr
