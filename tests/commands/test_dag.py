"""``accelgit dag``: the whole pipeline's jobs, their state and their edges,
in real repos, from real ``accelgit`` processes (and, at 200 jobs, in real
headless Chromium)."""
from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from browser import check_page
from conftest import CHAIN, PIPELINE200, make_repo, write_files


def mermaid_nodes(text: str) -> dict[str, str]:
    """``{label: class}`` of a mermaid flowchart."""
    import re
    return {m.group(1): m.group(2) for m in re.finditer(r'^  n\d+\["(.*)"\]:::(\w+)$', text, re.M)}


def states(doc: dict) -> dict[str, str]:
    return {n["name"]: n["state"] for n in doc["nodes"]}


def test_states_edges_and_formats(chain_repo, tmp_path):
    r = chain_repo
    doc = r.json("dag")
    assert states(doc) == {"a": "missing", "b": "missing", "c": "missing"} and doc["complete"] is True
    plan = r.json("plan")
    assert [(n["id"], n["inputs"]) for n in doc["nodes"]] == [(j["id"], j["inputs"]) for j in plan["jobs"]]
    ids = {n["name"]: n["id"] for n in doc["nodes"]}
    assert doc["edges"] == [[ids["a"], ids["b"]], [ids["b"], ids["c"]]]
    assert doc["summary"] == {"built": 0, "missing": 3, "damaged": 0, "untrusted": 0}

    r.build()
    proc = r.run("dag", check=True)          # mermaid on stdout by default
    assert proc.stdout.startswith("flowchart LR\n") and proc.stderr == ""
    assert mermaid_nodes(proc.stdout) == {"a<br/>built": "built", "b<br/>built": "built", "c<br/>built": "built"}
    assert proc.stdout.count(" --> ") == 2
    dot = r.run("dag", "--format", "dot", check=True).stdout
    assert dot.startswith('digraph "accelgit dag" {') and dot.count(" -> ") == 2 and 'label="b\\nbuilt"' in dot
    if shutil.which("dot"):
        import subprocess
        assert subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True).returncode == 0

    # an edit: c and what it needs of the change
    r.write("methods/c.py", CHAIN["methods/c.py"].replace("+ options.offset", "- options.offset"))
    assert states(r.json("dag")) == {"a": "built", "b": "built", "c": "missing"}
    out = tmp_path / "dag.html"
    proc = r.run("dag", "--format", "html", "-o", str(out), check=True)
    assert proc.stdout == "" and proc.stderr == f"accelgit: dag written to {out}\n"
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    assert html.count('class="node built"') == 2 and html.count('class="node missing"') == 1
    assert "3 jobs: 2 built, 1 missing" in html


def test_damaged_and_untrusted(chain_repo, tmp_path):
    r = chain_repo
    r.build()
    dirs = {d.split("-")[0]: r.workdir / d for d in r.job_dirs()}
    result = dirs["c"] / "result.json"
    kept = result.read_bytes()
    result.write_bytes(kept + b" ")                                # edited after its build
    (c,) = [n for n in r.json("dag")["nodes"] if n["name"] == "c"]
    assert c["state"] == "damaged" and "result.json modified after the build" in c["why"], c
    result.write_bytes(kept)
    (dirs["b"] / "manifest.json").unlink()                        # a torn job
    doc = r.json("dag")
    assert states(doc) == {"a": "built", "b": "damaged", "c": "built"}
    (b,) = [n for n in doc["nodes"] if n["name"] == "b"]
    assert b["why"].endswith("no manifest.json (an interrupted or torn job)")
    assert mermaid_nodes(r.run("dag", check=True).stdout)["b<br/>damaged"] == "damaged"
    # someone else's key does not trust these jobs; a signature that cannot be read is damage
    (dirs["a"] / "signature.json").write_text("{not json", encoding="utf-8")
    other = {"XDG_CONFIG_HOME": str(tmp_path / "other-user")}
    doc = r.json("dag", env=other)
    assert states(doc) == {"a": "damaged", "b": "damaged", "c": "untrusted"}
    (c,) = [n for n in doc["nodes"] if n["name"] == "c"]
    assert c["why"].startswith("signed by ") and "not a key you trust" in c["why"]
    assert doc["summary"] == {"built": 0, "missing": 0, "damaged": 2, "untrusted": 1}


def test_scripts_and_incomplete_plan(repo):
    write_files(repo, CHAIN)
    repo.write("build_more.py", """
        def main(urd):
            a = urd.build("a", scale=3)
            print("planning more")
            print("got", urd.build("b", a=a).load())
            urd.build("c", b=a)
    """)
    repo.commit("two scripts")
    doc = repo.json("dag", "build_more.py")
    assert doc["scripts"] == ["build_more.py"] and states(doc) == {"a": "missing", "b": "missing"}
    assert doc["complete"] is False
    proc = repo.run("dag", "build_more.py")
    assert proc.returncode == 0
    (line,) = proc.stderr.splitlines()              # what the script prints is kept out
    assert line.startswith("accelgit: the plan is incomplete: plan stopped at build_more.py:5: it reads the result "
                           "of b") and line.endswith("later jobs of that script are not drawn")
    assert len(repo.json("dag")["nodes"]) == 5        # both scripts: a, b, c and a(scale 3), b of it


@pytest.mark.parametrize("args, message", [
    (["--format", "pdf"], "accelgit: unknown --format 'pdf': use mermaid, dot or html"),
    (["-o", "no/such/dir/dag.md"], "accelgit: -o no/such/dir/dag.md: cannot write: No such file or directory"),
    (["nosuch.py"], "accelgit: "),
])
def test_bad_input(chain_repo, args, message):
    proc = chain_repo.run("dag", *args)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), proc.stderr


def test_help_lists_dag(repo):
    assert "\n    dag " in repo.run("--help", check=True).stdout
    text = repo.run("dag", "--help", check=True).stdout
    assert text.startswith("usage: accelgit dag [--format FORMAT] [-o FILE]") and "mermaid, dot or html" in text


# ------------------------------------------------------------------ 200 jobs

@pytest.fixture(scope="module")
def big(tmp_path_factory):
    r = make_repo(tmp_path_factory.mktemp("dag200"))
    write_files(r, PIPELINE200)
    r.commit("200 jobs")
    assert len(r.build()["jobs"]) == 200
    r.write("build.py", textwrap.dedent(PIPELINE200["build.py"]).replace("EXTRA = {}", "EXTRA = {7: 1}"))
    return r


def test_200_jobs(big):
    doc = big.json("dag")
    assert len(doc["nodes"]) == 200 and len(doc["edges"]) == 196 * 2 + 2
    assert doc["summary"] == {"built": 196, "missing": 4, "damaged": 0, "untrusted": 0}
    (w7,) = [n for n in doc["nodes"] if n["state"] == "missing" and n["method"] == "work"]
    assert w7["line"] == 6
    # drawn: one box for the 195 built work jobs that feed total, one for the changed one
    got = mermaid_nodes(big.run("dag", check=True).stdout)
    assert got == {"prep<br/>built": "built", "work ×195<br/>built": "built", "work<br/>missing": "missing",
                   "total<br/>missing": "missing", "stats<br/>missing": "missing", "publish<br/>missing": "missing"}


def test_200_jobs_html_in_chromium(big, tmp_path):
    page = tmp_path / "dag200.html"
    big.run("dag", "--format", "html", "-o", str(page), check=True)
    m = check_page(page, tmp_path, 1400, 900)
    assert len(m["nodes"]) == 6 and len(m["edges"]) == 6
    assert {t["text"] for t in m["texts"]} >= {"work ×195", "publish", "missing", "built"}


def test_damaged_workdir_json_is_one_document(big, tmp_path):
    """--json with -o writes the document to the file."""
    out = tmp_path / "dag.json"
    big.run("dag", "--json", "-o", str(out), check=True)
    assert len(json.loads(Path(out).read_text(encoding="utf-8"))["nodes"]) == 200


def test_long_arrows_run_between_boxes_in_chromium(repo, tmp_path):
    """Arrows that skip columns (s -> end over four columns, beside a second
    chain) are routed through free rows: checked on screen, not in our code."""
    one = "jobs = ({jobs})\n\ndef synthesis():\n    return 1\n"
    for name, jobs in {"s": "", "m1": '"s",', "m2": '"m1",', "m3": '"m2",', "x1": '"s",', "x2": '"x1",',
                       "x3": '"x2",', "end": '"s", "m1", "m3", "x3"'}.items():
        repo.write(f"methods/{name}.py", one.format(jobs=jobs))
    repo.write("build.py", """
        def main(urd):
            s = urd.build("s")
            m1 = urd.build("m1", s=s)
            m3 = urd.build("m3", m2=urd.build("m2", m1=m1))
            x3 = urd.build("x3", x2=urd.build("x2", x1=urd.build("x1", s=s)))
            urd.build("end", s=s, m1=m1, m3=m3, x3=x3)
    """)
    repo.commit("skips")
    page = tmp_path / "skips.html"
    repo.run("dag", "--format", "html", "-o", str(page), check=True)
    m = check_page(page, tmp_path, 1400, 900)
    assert len(m["nodes"]) == 8 and len(m["edges"]) == 10
