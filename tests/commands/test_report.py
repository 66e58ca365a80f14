"""``accelgit report``: a scripted history of the CHAIN pipeline (a -> b -> c),
one change per commit, and reports between commits in all three formats."""
from __future__ import annotations

import json
import re
import textwrap
from html.parser import HTMLParser

import pytest
from browser import check_page
from conftest import CHAIN, PIPELINE200, make_repo, write_files

from accelgit.methods.cosmetic import is_cosmetic

BUILD = textwrap.dedent(CHAIN["build.py"])
HELPER3 = "def double(x):\n    return x * 3\n"
B_COSMETIC = '''\
"""Method b: doubles a's result."""
import _helper   # the shared helper

jobs = ("a",)


depend_extra = ("methods/notes.txt",)

def synthesis(jobs):
    """Twice a's result."""
    # a comment
    return _helper.double(
        jobs.a.load()
    )
'''


# ------------------------------------------------------------------ the history

class History:
    def __init__(self, repo):
        self.repo = repo
        self.sha: dict[str, str] = {}

    def commit(self, tag: str, message: str) -> None:
        self.sha[tag] = self.repo.commit(message)
        self.repo.git("tag", tag)

    def report(self, *args: str) -> tuple[dict, str, str]:
        """The same report as JSON, markdown and HTML."""
        r = self.repo
        doc = r.json("report", *args)
        md = r.run("report", *args, check=True).stdout
        html = r.run("report", *args, "--format", "html", check=True).stdout
        assert json.loads(r.run("report", *args, "--format", "json", check=True).stdout) == doc
        return doc, md, html


@pytest.fixture(scope="module")
def hist(tmp_path_factory) -> History:
    r = make_repo(tmp_path_factory.mktemp("report"))
    h = History(r)
    h.commit("init", "no accelgit yet")
    write_files(r, CHAIN)
    h.commit("t0", "chain pipeline")
    r.build()
    r.write("methods/_helper.py", HELPER3)
    h.commit("t1", "helper triples")                         # edit a helper
    r.build()
    r.write("methods/b.py", B_COSMETIC)
    h.commit("t2", "tidy b")                                 # comment-only edit
    h.t1_dirs = r.job_dirs()
    h.cosmetic_doc = r.json("report", "--base", "t1", "--head", "t2")
    (line,) = [c["line"] for c in h.cosmetic_doc["cosmetic"]]
    r.write("methods/b.py", B_COSMETIC.replace('jobs = ("a",)\n', f'jobs = ("a",)\n{line}\n'))
    h.commit("t3", "keep b's old jobs valid")                # paste the suggested line
    h.t3_build = r.build()
    r.write("build.py", BUILD.replace('urd.build("c", b=b)', 'urd.build("c", b=b, offset=2)'))
    h.commit("t4", "offset 2")                               # change an option
    r.write("build.py", BUILD.replace('urd.build("c", b=b)', 'urd.build("c", b=b, offset=2)\n'
                                      '    urd.build("c", b=b, name="c2", offset=5)'))
    h.commit("t5", "add c2")                                 # add a job
    r.write("build.py", BUILD.replace('urd.build("c", b=b)', 'urd.build("c", b=b, name="c2", offset=5)'))
    h.commit("t6", "drop c")                                 # remove a job
    return h


# ------------------------------------------------------------------ reading the three formats

def md_sections(md: str) -> dict[str, str]:
    parts = re.split(r"^### (.+)$", md, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def md_rows(section: str) -> list[list[str]]:
    rows = []
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return rows[1:]        # without the header


def md_first_names(section: str) -> list[str]:
    return [re.match(r"`([^`]*)`", row[0]).group(1) for row in md_rows(section)]


class Page(HTMLParser):
    """Checks the HTML is well formed; collects sections, table rows and links."""
    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.links: list[str] = []
        self.section = "top"
        self.rows: dict[str, list[list[str]]] = {}
        self.text: dict[str, list[str]] = {}
        self.cell: list[str] | None = None
        self.row: list[str] | None = None
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        for k in ("src", "href", "xlink:href"):
            if a.get(k):
                self.links.append(a[k])
        if tag == "h2":
            self.section = a.get("id") or "?"
        if tag == "tr":
            self.row = []
        if tag == "td":
            self.cell = []
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "xlink:href") and v:
                self.links.append(v)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        if tag == "td" and self.row is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        if tag == "tr" and self.row:
            self.rows.setdefault(self.section, []).append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        self.text.setdefault(self.section, []).append(data)


def parse_html(html: str) -> Page:
    p = Page()
    p.feed(html)
    p.close()
    assert not p.errors, p.errors
    assert p.stack == [], f"unclosed tags: {p.stack}"
    assert html.startswith("<!DOCTYPE html>")
    assert not [u for u in p.links if re.match(r"\s*(https?:)?//", u)], p.links
    assert "script" not in p.tags and "link" not in p.tags
    return p


def html_names(page: Page, section: str) -> list[str]:
    return [row[0].split(" ")[0] for row in page.rows.get(section, [])]


def check_jobs(doc: dict, md: str, html: str, *, invalidated: dict, new=(), removed=()) -> Page:
    """``invalidated``: {name: (hops, [(kind, detail regex)...])}; the same jobs in all three formats."""
    got = {r["name"]: (r["hops"], [(x["kind"], x["detail"]) for x in r["reasons"]]) for r in doc["invalidated"]}
    assert sorted(got) == sorted(invalidated), got
    for name, (hops, reasons) in invalidated.items():
        assert got[name][0] == hops, (name, got[name])
        assert len(got[name][1]) == len(reasons), (name, got[name])
        for (kind, detail), (want_kind, pattern) in zip(got[name][1], reasons):
            assert kind == want_kind and re.fullmatch(pattern, detail), (name, kind, detail, pattern)
    assert sorted(r["name"] for r in doc["new"]) == sorted(new)
    assert sorted(r["name"] for r in doc["removed"]) == sorted(removed)
    s = doc["summary"]
    assert (s["invalidated"], s["new"], s["removed"]) == (len(invalidated), len(new), len(removed))
    assert s["text"] in md and s["text"] in html.replace("&#x27;", "'")

    sec = md_sections(md)
    assert sorted(md_first_names(sec["Invalidated jobs"])) == sorted(invalidated)
    assert sorted(md_first_names(sec["New jobs"])) == sorted(new)
    assert sorted(md_first_names(sec["Removed jobs"])) == sorted(removed)
    for row in md_rows(sec["Invalidated jobs"]):
        name = row[0].strip("`").split("`")[0]
        hops, reasons = invalidated[name]
        assert row[3] == str(hops)
        assert [k for k in re.findall(r"\*\*(\w+)\*\*", row[4])] == [k for k, _ in reasons]
        for _, detail in got[name][1]:
            assert detail in row[4]

    page = parse_html(html)
    assert sorted(html_names(page, "invalidated")) == sorted(invalidated)
    assert sorted(html_names(page, "new")) == sorted(new)
    assert sorted(html_names(page, "removed")) == sorted(removed)
    for row in page.rows.get("invalidated", []):
        hops, reasons = invalidated[row[0].split(" ")[0]]
        assert row[3] == str(hops)
        for kind, detail in got[row[0].split(" ")[0]][1]:
            assert f"{kind} {detail}" in row[4]
    return page


# ------------------------------------------------------------------ the reports

def test_helper_edit_invalidates_user_and_downstream(hist):
    doc, md, html = hist.report("--base", "t0", "--head", "t1")
    page = check_jobs(doc, md, html, invalidated={
        "b": (0, [("source", r"methods/_helper\.py: [0-9a-f]{7} → [0-9a-f]{7}")]),
        "c": (1, [("input", r"b: b-[0-9a-f]{12} → b-[0-9a-f]{12}")]),
    })
    assert doc["summary"]["unchanged"] == 1 and doc["summary"]["direct"] == 1 and doc["summary"]["downstream"] == 1
    (f,) = doc["changed_files"]
    assert (f["path"], f["kind"], f["status"], f["jobs"]) == ("methods/_helper.py", "helper", "modified", ["b"])
    assert f["commits"] == [{"sha": hist.sha["t1"], "subject": "helper triples"}]
    assert "`methods/_helper.py` | helper module | modified | `b` | `" + hist.sha["t1"][:10] + "` helper triples |" in md
    assert doc["cosmetic"] == []
    # both sides are built: their outputs are compared
    outs = {o["name"]: o for o in doc["outputs"]}
    assert sorted(outs) == ["b", "c"]
    assert outs["b"]["result"] == {"before": "10", "after": "15", "changed": True}
    assert outs["b"]["files"] == {"changed": [], "added": [], "removed": []}
    assert outs["c"]["files"]["changed"] == ["value.txt"] and outs["c"]["result"]["after"] == "15"
    assert "result: `10` → `15`" in md
    assert doc["rebuild"]["jobs"] == []            # the head side is built already
    g = doc["graph"]
    assert sorted((n["name"], n["status"]) for n in g["nodes"]) == [("a", "unchanged"), ("b", "invalidated"),
                                                                      ("c", "invalidated")]
    names = {n["id"]: n["name"] for n in g["nodes"]}
    assert sorted((names[a], names[b]) for a, b in g["edges"]) == [("a", "b"), ("b", "c")]
    mer = md.split("```mermaid\n")[1].split("```")[0]
    assert mer.startswith("flowchart LR\n") and mer.count(" --> ") == 2 and ":::invalidated" in mer
    assert "<svg" in html and html.count('class="node invalidated"') == 2
    assert "result" in "".join(page.text["outputs"])


def test_comment_only_edit_is_cosmetic_and_the_line_keeps_old_jobs(hist):
    doc = hist.cosmetic_doc
    inv = {r["name"]: r for r in doc["invalidated"]}
    assert sorted(inv) == ["b", "c"]
    assert [x["kind"] for x in inv["b"]["reasons"]] == ["source"] and inv["b"]["cosmetic"] is True
    assert inv["c"]["hops"] == 1
    (c,) = doc["cosmetic"]
    assert (c["method"], c["path"], c["files"], c["replaces_existing"]) == ("b", "methods/b.py", ["methods/b.py"], False)
    assert c["verifier"] == c["new_digest"] and c["digests"] == [c["old_digest"]]
    assert c["line"] == f'equivalent_hashes = {{"{c["verifier"]}": ("{c["old_digest"]}",)}}'
    _, md, html = hist.report("--base", "t1", "--head", "t2")
    assert "### Cosmetic changes" in md and f"```python\n{c['line']}\n```" in md
    assert parse_html(html).text["cosmetic"]
    # with the line pasted in (commit t3), build reused every old job
    assert [j["action"] for j in hist.t3_build["jobs"]] == ["reused"] * 3
    assert hist.repo.job_dirs() == hist.t1_dirs
    doc, md, html = hist.report("--base", "t1", "--head", "t3")
    check_jobs(doc, md, html, invalidated={})
    assert doc["summary"]["unchanged"] == 3 and doc["changed_files"][0]["path"] == "methods/b.py"
    assert doc["summary"]["equivalent"] == 1 and "1 job kept valid by equivalent_hashes" in doc["summary"]["text"]


def test_equivalent_jobs_count_as_unchanged_when_nothing_is_built(hist):
    work = hist.repo.workdir
    work.rename(work.with_name("work.off"))
    try:
        doc, md, html = hist.report("--base", "t1", "--head", "t3")
        check_jobs(doc, md, html, invalidated={})
        assert doc["summary"]["unchanged"] == 3 and doc["summary"]["equivalent"] == 2   # b, and c through b
        doc = hist.repo.json("report", "--base", "t1", "--head", "t2")
        assert [(r["name"], r["action"], r["hops"]) for r in doc["invalidated"]] == [("b", "build", 0), ("c", "build", 1)]
        assert doc["rebuild"]["unknown"] == 2 and "no recorded time" in doc["summary"]["text"]
    finally:
        work.with_name("work.off").rename(work)


def test_option_change(hist):
    doc, md, html = hist.report("--base", "t3", "--head", "t4")
    check_jobs(doc, md, html, invalidated={"c": (0, [("option", r"offset: 0 → 2")])})
    (f,) = doc["changed_files"]
    assert (f["path"], f["kind"]) == ("build.py", "script")
    # c of t3 is built: its profile.json gives the estimate
    (est,) = doc["rebuild"]["jobs"]
    assert est["name"] == "c" and isinstance(est["seconds"], float) and doc["rebuild"]["unknown"] == 0
    assert doc["summary"]["to_build"] == 1 and "estimated rebuild" in doc["summary"]["text"]


def test_added_job(hist):
    doc, md, html = hist.report("--base", "t4", "--head", "t5")
    check_jobs(doc, md, html, invalidated={}, new=["c2"])
    (n,) = doc["new"]
    assert (n["method"], n["script"], n["action"], n["reasons"][0]["kind"]) == ("c", "build.py", "build", "new")
    assert doc["rebuild"]["unknown"] == 1
    assert [(x["name"], x["status"]) for x in doc["graph"]["nodes"]] == [("c2", "new"), ("b", "unchanged")]


def test_removed_job(hist):
    doc, md, html = hist.report("--base", "t5", "--head", "t6")
    check_jobs(doc, md, html, invalidated={}, removed=["c"])
    assert doc["summary"]["unchanged"] == 3 and doc["removed"][0]["built"] is False


def test_several_changes_at_once(hist):
    doc, md, html = hist.report("--base", "t0", "--head", "t6")
    check_jobs(doc, md, html, invalidated={
        "b": (0, [("source", r"methods/_helper\.py: .*"), ("source", r"methods/b\.py: .*")]),
    }, new=["c2"], removed=["c"])
    (f1, f2, f3) = doc["changed_files"]
    assert [f1["path"], f2["path"], f3["path"]] == ["build.py", "methods/_helper.py", "methods/b.py"]
    assert [c["subject"] for c in f1["commits"]] == ["drop c", "add c2", "offset 2"]
    assert doc["cosmetic"] == []     # b's helper changed for real


def test_staged(hist):
    r = hist.repo
    r.write("data/input.txt", "one two\n")
    r.git("add", "data/input.txt")
    try:
        doc, md, html = hist.report("--base", "t6", "--staged")
        check_jobs(doc, md, html, invalidated={
            "a": (0, [("file", r"data/input\.txt: [0-9a-f]{7} → [0-9a-f]{7}")]),
            "b": (1, [("input", r"a: .*")]),
            "c2": (2, [("input", r"b: .*")]),
        })
        assert doc["head"]["commit"] is None and doc["head"]["view"] == "index"
        (f,) = doc["changed_files"]
        assert f["kind"] == "data" and f["commits"] == [{"sha": None, "subject": "(staged, not committed yet)"}]
        assert "the index (staged)" in md
        # the work tree is not the index: an unstaged edit is not in the report
        r.write("methods/a.py", CHAIN["methods/a.py"].replace("scale", "factor"))
        assert r.json("report", "--base", "t6", "--staged")["summary"]["invalidated"] == 3
    finally:
        r.git("checkout", "--", ".")
        r.git("reset", "-q", "--hard")


def test_base_without_build_scripts(hist):
    doc, md, html = hist.report("--base", "init", "--head", "t0")
    check_jobs(doc, md, html, invalidated={}, new=["a", "b", "c"])
    assert doc["base"]["scripts"] == [] and doc["head"]["scripts"] == ["build.py"]
    assert [r["action"] for r in doc["new"]] == ["reuse"] * 3      # t0 is built
    assert [f["path"] for f in doc["changed_files"]] == ["build.py", "data/input.txt", "methods/_helper.py",
                                                          "methods/a.py", "methods/b.py", "methods/c.py",
                                                          "methods/notes.txt"]
    assert [f["status"] for f in doc["changed_files"]] == ["added"] * 7
    assert doc["changed_files"][0]["commits"] == [{"sha": hist.sha["t0"], "subject": "chain pipeline"}]


def test_incomplete_plan(tmp_path):
    r = make_repo(tmp_path)
    write_files(r, CHAIN)
    r.write("build.py", BUILD.replace('urd.build("c", b=b)', 'print(urd.build("c", b=b).load())\n'
                                      '    urd.build("c", b=b, name="late")'))
    r.commit("reads c")
    r.write("build.py", BUILD.replace('urd.build("c", b=b)', 'urd.build("c", b=b)\n'
                                      '    urd.build("c", b=b, name="late")'))
    r.commit("does not read c")
    h = History(r)
    doc, md, html = h.report("--base", "HEAD~1")
    check_jobs(doc, md, html, invalidated={}, new=["late"])
    assert doc["base"]["complete"] is False and doc["head"]["complete"] is True
    (line,) = doc["base"]["stopped"]
    assert re.fullmatch(r"plan stopped at build\.py:5: it reads the result of c \([0-9a-f]{12}\), which would be built", line)
    assert doc["new"][0]["reasons"][0]["detail"] == ("build.py: no such call on the base side, whose plan stopped early "
                                                     "at build.py:5 (it may be further on)")
    assert f"> **Incomplete plan (base):** {line}" in md and "`late` (c) (maybe: the base plan" in md
    assert "the plan is incomplete" in doc["summary"]["text"]


def test_no_change(hist):
    doc, md, html = hist.report("--base", "t6")          # head defaults to HEAD (t6)
    check_jobs(doc, md, html, invalidated={})
    assert doc["changed_files"] == [] and doc["graph"]["nodes"] == []
    assert "None: every job of the base side is still valid." in md


def test_output_file(hist, tmp_path):
    out = tmp_path / "r.html"
    proc = hist.repo.run("report", "--base", "t0", "--head", "t1", "--format", "html", "-o", str(out), check=True)
    assert proc.stdout == "" and parse_html(out.read_text()).rows["invalidated"]


@pytest.mark.parametrize("args, message", [
    (["--base", "nope"], "accelgit: --base: unknown revision 'nope'"),
    (["--base", "t0", "--head", "nope"], "accelgit: --head: unknown revision 'nope'"),
    (["--base", "t0", "--format", "pdf"], "accelgit: unknown --format 'pdf': use markdown, json or html"),
    (["--base", "t0", "--head", "t1", "--staged"], "accelgit: --head and --staged cannot be used together"),
])
def test_usage_errors(hist, args, message):
    proc = hist.repo.run("report", *args)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), proc.stderr


# ------------------------------------------------------------------ pieces

def test_is_cosmetic():
    old = b'"""doc"""\nimport x\n\ndef f(a):\n    """f."""\n    return a + 1  # one\n'
    assert is_cosmetic(old, b"import x\ndef f(a):\n    # only a comment\n    return (a +\n            1)\n")
    assert not is_cosmetic(old, b"import x\ndef f(a):\n    return a + 2\n")
    assert not is_cosmetic(old, b'import x\ndef f(a):\n    "no longer first"\n    y = 1\n    return a + 1\n'
                           b'"""a string that is not a docstring"""\n')
    assert not is_cosmetic(b"x = 'a'\n", b"x = 'b'\n")
    assert not is_cosmetic(b"def f(:\n", b"def f(:\n")          # does not parse: never cosmetic
    m = b'jobs = ()\nequivalent_hashes = {"v": ("d",)}\ndef synthesis(): pass\n'
    assert is_cosmetic(m, b"jobs = ()\ndef synthesis():\n    pass\n", method_file=True)
    assert not is_cosmetic(m, b"jobs = ()\ndef synthesis():\n    pass\n")


def test_graph_boxes_for_many_jobs():
    from accelgit.commands.report.graph import COLLAPSE_AT, collapse, layout, report_boxes

    def node(i, method, status, hops=None):
        return {"id": i, "method": method, "name": method, "status": status, "hops": hops}
    # unchanged inputs of one method are one box, whatever they feed
    g = {"nodes": [node("u1", "w", "unchanged"), node("u2", "w", "unchanged"), node("a", "a", "invalidated", 0),
                   node("b", "b", "invalidated", 1)], "edges": [["u1", "a"], ["u2", "b"], ["a", "b"]]}
    got = report_boxes(g)
    assert [(n["id"], n.get("ids")) for n in got["nodes"]] == [("u1+1", ["u1", "u2"]), ("a", None), ("b", None)]
    assert got["edges"] == [["u1+1", "a"], ["u1+1", "b"], ["a", "b"]]
    # jobs of one method and status feeding the same boxes: one box from COLLAPSE_AT on, level by level
    def fan(n):
        nodes = [node("s", "s", "missing")] + [node(f"w{k}", "w", "missing") for k in range(n)] + [node("t", "t", "missing")]
        return {"nodes": nodes, "edges": [["s", f"w{k}"] for k in range(n)] + [[f"w{k}", "t"] for k in range(n)]}
    group = lambda n, users: ((n["method"], n["status"], users), COLLAPSE_AT)  # noqa: E731
    assert len(collapse(fan(COLLAPSE_AT - 1), group)["nodes"]) == COLLAPSE_AT + 1
    got = collapse(fan(COLLAPSE_AT), group)
    assert [n.get("count") for n in got["nodes"]] == [None, COLLAPSE_AT, None] and len(got["edges"]) == 2
    # an edge that skips a column gets a waypoint there
    cols, routes = layout({"nodes": g["nodes"], "edges": g["edges"]})
    assert [len(r) for r in routes] == [2, 3, 2] and routes[1][1] in cols[1]


def test_html_renders_in_chromium(hist, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(hist.report("--base", "t0", "--head", "t6")[2], encoding="utf-8")
    m = check_page(page, tmp_path, 1400, 3000)
    assert {t["text"] for t in m["texts"]} >= {"b", "c", "c2 (c)", "invalidated, directly", "new", "removed"}


# ------------------------------------------------------------------ 200 jobs of one pipeline

@pytest.fixture(scope="module")
def big(tmp_path_factory) -> History:
    """PIPELINE200 (prep -> 196 x work -> total -> stats -> publish), planned, not built:
    t0; t1 changes one work job (i=7); t2 changes the work method."""
    r = make_repo(tmp_path_factory.mktemp("report200"))
    h = History(r)
    write_files(r, PIPELINE200)
    h.commit("t0", "200 jobs")
    r.write("build.py", textwrap.dedent(PIPELINE200["build.py"]).replace("EXTRA = {}", "EXTRA = {7: 1}"))
    h.commit("t1", "work 7 gets extra 1")
    r.write("methods/work.py", textwrap.dedent(PIPELINE200["methods/work.py"]).replace("* 2", "* 3"))
    h.commit("t2", "work triples")
    return h


def test_200_jobs_one_changed_element_of_a_list_input(big, tmp_path):
    doc, md, html = big.report("--base", "t0", "--head", "t1")
    check_jobs(doc, md, html, invalidated={
        "work": (0, [("option", r"extra: 0 → 1")]),
        "total": (1, [("input", r"parts\[7\]: work-[0-9a-f]{12} → work-[0-9a-f]{12}")]),
        "stats": (2, [("input", r"total: total-[0-9a-f]{12} → total-[0-9a-f]{12}")]),
        "publish": (3, [("input", r"stats: .*")]),
    })
    (total,) = [row for row in md_rows(md_sections(md)["Invalidated jobs"]) if row[0] == "`total`"]
    assert total[4].count("work-") == 2                     # not 196 ids on each side
    assert doc["summary"]["unchanged"] == 196
    # the graph: the 195 unchanged work jobs total reads are one box, prep another
    g = doc["graph"]
    assert sorted((n["name"], n["status"], n.get("count")) for n in g["nodes"]) == [
        ("prep", "unchanged", None), ("publish", "invalidated", None), ("stats", "invalidated", None),
        ("total", "invalidated", None), ("work", "invalidated", None), ("work", "unchanged", 195)]
    (group,) = [n for n in g["nodes"] if n.get("count")]
    assert len(group["ids"]) == 195 and g["truncated"] == 0
    assert "work ×195<br/>unchanged" in md
    page = tmp_path / "report200.html"
    page.write_text(html, encoding="utf-8")
    m = check_page(page, tmp_path, 1400, 4000)              # five columns at 1400 px: no scrollbar
    assert len(m["nodes"]) == 6 and len(m["edges"]) == 5    # work ×195 -> total passes the work column


def test_200_jobs_rows_grouped_by_method(big, tmp_path):
    doc, md, html = big.report("--base", "t1", "--head", "t2")
    inv = doc["invalidated"]
    assert len(inv) == 199 and sum(1 for r in inv if r["method"] == "work") == 196
    rows = md_rows(md_sections(md)["Invalidated jobs"])
    assert [row[2] for row in rows] == ["work", "total", "stats", "publish"]     # one row for 196 jobs of work
    assert re.fullmatch(r"196 jobs: `work`, `work`, `work` \+193 more", rows[0][0])
    assert rows[0][3] == "0" and re.fullmatch(r"\*\*source\*\* methods/work\.py: [0-9a-f]{7} → [0-9a-f]{7}", rows[0][4])
    page = parse_html(html)
    assert [row[2] for row in page.rows["invalidated"]] == ["work", "total", "stats", "publish"]
    assert page.rows["invalidated"][0][0].startswith("196 jobs: work, work, work +193 more")
    g = doc["graph"]
    assert [(n["name"], n["status"], n.get("count")) for n in g["nodes"]] == [
        ("work", "invalidated", 196), ("total", "invalidated", None), ("stats", "invalidated", None),
        ("publish", "invalidated", None), ("prep", "unchanged", None)]
    page = tmp_path / "report200b.html"
    page.write_text(html, encoding="utf-8")
    check_page(page, tmp_path, 1400, 4000)
