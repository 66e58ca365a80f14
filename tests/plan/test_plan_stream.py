"""``accelgit plan`` writes its text table and its JSON as it goes, from a
compact plan (issue 7: memory linear and small).  The bytes must be those of
the whole-document way (``make_plan`` -> one ``core.table.table`` per script,
``json.dumps(doc, indent=1)``) on plans with several scripts, list inputs,
names, a stopped script, non-ASCII cells, equivalent_hashes, reused jobs with
reasons of their own; and the compact parts (the known-ids map of a workdir,
the run record reader, ``urd.joblist``) must say what the plain ones said."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
from conftest import Repo, built_template, copy_of

PIPE = {
    "data/words.txt": "alpha beta\n",
    "methods/src.py": """
        options = {"n": 3}

        def synthesis(options):
            return list(range(options.n))
    """,
    "methods/part.py": """
        jobs = ("src",)
        options = {"k": 1}

        def synthesis(jobs, options):
            return [x * options.k for x in jobs.src.load()]
    """,
    "methods/merge.py": """
        jobs = ("[parts]", "extra")
        options = {"mode": "sum"}

        def synthesis(jobs):
            return sum(sum(j.load()) for j in jobs.parts)
    """,
    "methods/final.py": """
        jobs = ("merge",)

        def synthesis(jobs):
            return jobs.merge.load()
    """,
    "methods/text.py": """
        files = ("data/words.txt",)
        options = {"label": "x"}

        def synthesis(files, options):
            return options.label
    """,
    "build.py": """
        K = 1
        PARTS = 3
        EXTRA = True
        LABEL = "x"

        def main(urd):
            src = urd.build("src")
            parts = [urd.build("part", src=src, k=K + i, name=f"part{i}") for i in range(PARTS)]
            merge = urd.build("merge", parts=parts, extra=src if EXTRA else None)
            urd.build("final", merge=merge)
            urd.build("text", label=LABEL)
            assert len(urd.joblist) == PARTS + 4 and urd.joblist[0] == src and urd.joblist[-3:][0].method == "merge"
            assert [j.name for j in urd.joblist][1:PARTS + 1] == [f"part{i}" for i in range(PARTS)]
    """,
    "build_b.py": """
        READ = False

        def main(urd):
            src = urd.build("src")
            m = urd.build("merge", parts=[src], name="m2")
            if READ:
                print(m.load())
            urd.build("text", label="after")
            urd.build("text", label="after, again")
    """,
}

# The text and JSON as they were made before streaming: the whole document,
# one core.table.table string per script (run in the repo, prints the two).
ORACLE = r'''
import json, os, sys
from accelgit.config import load_config
from accelgit.git.repo import find_repo
from accelgit.git.views import make_view
from accelgit.core.table import table
from accelgit.plan.document import make_plan, summary_line
r = find_repo(".")
v = make_view(r, False, None)
doc = make_plan(r, load_config(r.root), v, None, cwd=".")
v.close()
b = doc["baseline"]
out = [f"plan of the work tree, reasons against {b['label']} ({b['commit'][:7]})"]
for script in doc["scripts"]:
    rows = []
    for j in doc["jobs"]:
        if j["script"] != script:
            continue
        name = os.path.basename(j["path"]) + (f" [{j['name']}]" if j["name"] != j["method"] else "")
        rows.append([name, j["method"], j["action"],
                     "\n".join(f"{x['kind']}: {x['detail']}" if x.get("detail") else x["kind"] for x in j["reasons"])])
    out += ["", f"{script}:", table(rows, ["job", "method", "action", "reasons"]) if rows else "  (no jobs)"]
for st in doc["stopped"]:
    out += ["", f"incomplete: {st['message']}; the rest of {st['script']} is not planned"]
out += ["", summary_line(doc)]
print(json.dumps({"text": "\n".join(out) + "\n", "json": json.dumps(doc, indent=1, default=str) + "\n"}))
'''


def oracle(r: Repo) -> dict:
    proc = subprocess.run([sys.executable, "-c", ORACLE], cwd=r.path, env=r.env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def same_as_whole(r: Repo) -> dict:
    """Run ``plan -v`` (every job) and ``plan --json``; assert both are the
    oracle's bytes; the document."""
    want = oracle(r)
    text = r.run("plan", "-v", check=True).stdout
    js = r.run("plan", "--json", check=True).stdout
    assert text == want["text"]
    assert js == want["json"]
    return json.loads(js)


def jobs_by_name(doc: dict) -> dict:
    return {j["name"]: j for j in doc["jobs"] if j["script"] == "build.py"}


def set_var(r: Repo, rel: str, name: str, value: str) -> None:
    lines = [f"{name} = {value}" if ln.startswith(f"{name} = ") else ln for ln in r.read(rel).splitlines()]
    r.write(rel, "\n".join(lines) + "\n", dedent=False)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return built_template(tmp_path_factory.mktemp("stream"), PIPE, "pipeline")


@pytest.fixture
def built(template, tmp_path):
    return copy_of(template, tmp_path)



def cosmetic_edit_with_equivalent_hashes(built: Repo, src_id: str) -> None:
    """A comment added to methods/src.py, declared equivalent to the job ``src_id``'s source
    (the verifier hash is the one accelgit's own error message asks for)."""
    digest = json.loads((built.workdir / f"src-{src_id[:12]}" / "job.json").read_text())["source"]
    text = textwrap.dedent(PIPE["methods/src.py"]) + "\n# cosmetic\n"
    built.write("methods/src.py", text + 'equivalent_hashes = {"x": ("%s",)}\n' % digest)
    verifier = built.run("plan").stderr.split("it should be '")[1].split("'")[0]
    built.write("methods/src.py", text + 'equivalent_hashes = {"%s": ("%s",)}\n' % (verifier, digest))

def test_all_reused_and_an_option_edit_with_hops(built):
    doc = same_as_whole(built)
    assert doc["summary"] == {"build": 0, "reuse": 10} and doc["scripts"] == ["build.py", "build_b.py"]
    set_var(built, "build.py", "K", "5")
    doc = same_as_whole(built)
    jobs = jobs_by_name(doc)
    assert [(n, j["action"], [x["kind"] for x in j["reasons"]]) for n, j in jobs.items()] == [
        ("src", "reuse", []), ("part0", "build", ["option"]), ("part1", "build", ["option"]),
        ("part2", "build", ["option"]), ("merge", "build", ["input", "input", "input"]),
        ("final", "build", ["input"]), ("text", "reuse", [])]
    assert jobs["part0"]["reasons"][0]["detail"] == "k: 1 → 5"
    m = jobs["merge"]["reasons"]
    assert [(x["input"], x["hops"], x["root"]) for x in m] == [
        (f"parts[{i}]", 1, jobs[f"part{i}"]["id"]) for i in range(3)]
    (f,) = jobs["final"]["reasons"]           # the first of the nearest changes
    assert (f["hops"], f["root"]) == (2, jobs["part0"]["id"])
    assert f["detail"].endswith(f", 2 hops from the change in part-{jobs['part0']['id'][:12]}")
    assert jobs["merge"]["inputs"] == [jobs[f"part{i}"]["id"] for i in range(3)] + [jobs["src"]["id"]]


def test_list_grows_input_removed_new_call_and_a_data_file(built):
    set_var(built, "build.py", "PARTS", "4")
    set_var(built, "build.py", "EXTRA", "False")
    built.write("data/words.txt", "alpha beta gamma\n")
    doc = same_as_whole(built)
    jobs = jobs_by_name(doc)
    assert [x["kind"] for x in jobs["part3"]["reasons"]] == ["new"]
    assert re.fullmatch(r"no such call at HEAD \([0-9a-f]{7}\) \(build\.py: part 'part3', call 1 is new\)",
                        jobs["part3"]["reasons"][0]["detail"])
    m = jobs["merge"]["reasons"]
    assert [(x["kind"], x.get("input"), x.get("hops")) for x in m] == [("input", "extra", 0), ("input", "parts[3]", 1)]
    assert m[0]["new"] is None and m[0]["detail"].endswith(" → (none)")
    assert [(x["hops"], x["root"]) for x in jobs["final"]["reasons"]] == [(1, jobs["merge"]["id"])]
    (t,) = jobs["text"]["reasons"]
    assert t["kind"] == "file" and t["detail"].endswith(", not committed") and "commit" not in t
    assert [[x["kind"] for x in j["reasons"]] for j in doc["jobs"] if j["script"] == "build_b.py"] == [
        [], ["file"], ["file"]]             # m2, then the 1st and the 2nd call of text 'text' there
    built.commit("edits")
    t = jobs_by_name(built.json("plan", "--at", "HEAD"))["text"]["reasons"][0]     # the commit, against its parent
    assert t["commit"] == built.git("log", "-1", "--format=%h").stdout.strip()


def test_many_jobs_written_in_pieces(built):
    """More jobs than a JSON piece (100) and than a batch of comparisons (256)."""
    set_var(built, "build.py", "PARTS", "300")
    doc = same_as_whole(built)
    assert doc["summary"] == {"build": 299, "reuse": 8} and len(doc["jobs"]) == 307
    jobs = jobs_by_name(doc)
    assert [x["kind"] for x in jobs["part299"]["reasons"]] == ["new"]
    assert [(x["input"], x["hops"]) for x in jobs["merge"]["reasons"]] == [(f"parts[{i}]", 1) for i in range(3, 300)]
    assert [(x["hops"], x["root"]) for x in jobs["final"]["reasons"]] == [(2, jobs["part3"]["id"])]


def test_stopped_script_and_cells_tabulate_formats(built):
    set_var(built, "build_b.py", "READ", "True")
    built.write("methods/merge.py", textwrap.dedent(PIPE["methods/merge.py"]) + "\n# edit\n")
    set_var(built, "build.py", "LABEL", '"漢字 wide"')        # not one column a character: tabulate lays it out
    doc = same_as_whole(built)
    assert doc["complete"] is False and [s["script"] for s in doc["stopped"]] == ["build_b.py"]
    assert [j["name"] for j in doc["jobs"] if j["script"] == "build_b.py"] == ["m2"]
    set_var(built, "build.py", "LABEL", '"ünï → ok"')          # one column a character: the fast layout
    same_as_whole(built)


def test_reused_job_with_changes_of_its_own_explains_a_build_after_it(built):
    # built with K = 2, then K = 1 (the record's): part0 of K = 2 exists, merge of K = 2 is removed
    set_var(built, "build.py", "K", "2")
    (merge2,) = [j["id"] for j in built.build()["jobs"] if j["name"] == "merge"]
    set_var(built, "build.py", "K", "1")
    built.build()
    shutil.rmtree(built.workdir / f"merge-{merge2[:12]}")
    set_var(built, "build.py", "K", "2")
    doc = same_as_whole(built)
    jobs = jobs_by_name(doc)
    assert [(n, j["action"]) for n, j in jobs.items()] == [
        ("src", "reuse"), ("part0", "reuse"), ("part1", "reuse"), ("part2", "reuse"), ("merge", "build"),
        ("final", "reuse"), ("text", "reuse")]
    assert [(x["kind"], x["detail"]) for x in jobs["part0"]["reasons"]] == [("option", "k: 1 → 2")]
    assert [(x["input"], x["hops"], x["root"]) for x in jobs["merge"]["reasons"]] == [
        (f"parts[{i}]", 1, jobs[f"part{i}"]["id"]) for i in range(3)]


def test_equivalent_job_needed_by_another_scripts_build(built):
    """src is reused through equivalent_hashes: the same job as HEAD's, so m2
    in build_b.py (an option changed) has no input reason, whatever was built
    in between (src with n=4): reasons compare with HEAD, not the last build."""
    b = built.read("build_b.py")
    built.write("build_b.py", b.replace('urd.build("src")', 'urd.build("src", n=4)'), dedent=False)
    built.build()
    built.write("build_b.py", b.replace('parts=[src], name="m2"', 'parts=[src], mode="x", name="m2"'), dedent=False)
    src = jobs_by_name(built.json("plan"))["src"]["id"]
    cosmetic_edit_with_equivalent_hashes(built, src)
    doc = same_as_whole(built)
    jobs = {j["name"]: j for j in doc["jobs"]}
    assert jobs["src"]["action"] == "reuse" and jobs["src"]["id"] == src
    assert jobs["src"]["reasons"] == []
    assert [(x["kind"], x["detail"]) for x in jobs["m2"]["reasons"]] == [("option", 'mode: "sum" → "x"')]


@pytest.mark.parametrize("index", [True, False])
def test_reasons_compare_with_head_not_with_the_last_build(built, index):
    """Builds of other states in between (K = 30, then K = 10), run records
    gone, index or not: a call's reasons name what differs from HEAD (K = 1)."""
    for k in ("30", "10"):
        set_var(built, "build.py", "K", k)
        built.build()
    for f in (built.workdir / ".runs").iterdir():
        f.unlink()
    if not index:
        (built.workdir / "index.sqlite").unlink()
    built.write("methods/merge.py", textwrap.dedent(PIPE["methods/merge.py"]) + "\n# edit\n")
    jobs = jobs_by_name(built.json("plan"))
    assert jobs["merge"]["action"] == "build" and jobs["part0"]["action"] == "reuse"
    assert [(x["kind"], x["detail"]) for x in jobs["part0"]["reasons"]] == [("option", "k: 1 → 10")]
    assert [x["kind"] for x in jobs["merge"]["reasons"]] == ["source", "input", "input", "input"]
    assert (built.workdir / "index.sqlite").exists() == index


def test_run_records_do_not_change_reasons_and_equivalent_hashes(built):
    rec = built.record_path()
    k1 = rec.read_text()                        # the record of K = 1
    set_var(built, "build.py", "K", "20")
    built.build()                               # now the newest part0 has k = 20
    set_var(built, "build.py", "K", "5")
    for text in (k1, k1[:-10], "{}"):           # the record of HEAD's build, a damaged one, another format
        rec.write_text(text)
        assert jobs_by_name(same_as_whole(built))["part0"]["reasons"][0]["detail"] == "k: 1 → 5"
    rec.write_text(k1)
    set_var(built, "build.py", "K", "1")
    old = jobs_by_name(built.json("plan"))["src"]["id"]
    cosmetic_edit_with_equivalent_hashes(built, old)
    doc = same_as_whole(built)
    assert doc["summary"]["build"] == 0 and jobs_by_name(doc)["src"]["id"] == old


def test_known_ids_is_the_dirname_map(tmp_path):
    from accelgit.store.index import KnownIds
    a, b = "ab" * 32, "cd" * 32
    k = KnownIds([(f"m-{a[:12]}", a, "job.json\nmanifest.json", b"k"), ("renamed", b, None, None),
                  (f"m-{b[:12]}", "not-an-id", None, None), (f"m-{'zz' * 6}", "zz" * 32, None, None)])
    assert k.get(f"m-{a[:12]}", a) == a
    assert k.get(f"m-{a[:12]}", a.upper()) is None              # not that id: the caller reads the folder
    assert k.get("renamed", b) == b and k.get("renamed", a) == b
    assert k.get(f"m-{b[:12]}", b) == "not-an-id"
    assert k.get(f"m-{'zz' * 6}", "zz" * 32) == "zz" * 32
    assert k.get(f"m-{b[:12]}0", b) is None and k.get("nothing", a) is None
    assert k.entry(f"m-{a[:12]}", a) == (a, (("job.json", "manifest.json"), b"k"))     # the check it last passed
    assert k.entry("renamed", b) == (b, None)
    k.set(f"n-{b[:12]}", b, (("job.json",), b"x"))
    k.set("renamed", a, None)
    assert k.get(f"n-{b[:12]}", b) == b and k.get("renamed", "q") == a
    assert k.entry(f"n-{b[:12]}", b)[1] == (("job.json",), b"x")


def test_plan_finds_jobs_the_index_does_not_know(built):
    """Plan opens the index read-only and never updates it: a job built
    without it (index locked, removed) is found from its folder."""
    index = built.workdir / "index.sqlite"
    saved = index.read_bytes()
    set_var(built, "build.py", "K", "10")
    built.build()
    index.write_bytes(saved)                                 # an index from before that build
    doc = built.json("plan")
    assert doc["summary"] == {"build": 0, "reuse": 10}
    index.unlink()
    for f in (built.workdir / ".runs").iterdir():            # and no record: newest of each call, by scan
        f.unlink()
    set_var(built, "build.py", "K", "20")
    jobs = jobs_by_name(built.json("plan"))
    assert [(x["kind"], x["detail"]) for x in jobs["part0"]["reasons"]] == [("option", "k: 1 → 20")]   # vs HEAD
    assert not index.exists()
