"""Methods: declarations, option coercion, sources, and which jobs an edit
invalidates (SPEC §3, §5).  Real repos, accelgit as a subprocess."""
from __future__ import annotations

import datetime
import json

import pytest
from conftest import write_files

from accelgit.core.errors import MethodError, UsageError
from accelgit.methods.declarations import Method, parse_declarations
from accelgit.methods.options import coerce_option, coerce_options


def actions(out: dict) -> dict:
    """``{job name: action}`` from ``build --json``."""
    names = [j["name"] for j in out["jobs"]]
    assert len(names) == len(set(names)), names
    return {j["name"]: j["action"] for j in out["jobs"]}


def all_reused(names) -> dict:
    return {n: "reused" for n in names}


# ------------------------------------------------------------------ option coercion (unit)

@pytest.mark.parametrize("default,given,expected", [
    (1, "3", 3), (1, " 3 ", 3), (1, 3.0, 3), (1, 7, 7),
    (1.5, 2, 2.0), (1.5, "2.5", 2.5),
    (True, "no", False), (False, "yes", True), (False, 1, True), (True, 0, False),
    ("s", "t", "t"),
    (None, {"anything": [1]}, {"anything": [1]}),
    (1, None, None),
    ([1], (2, 3), [2, 3]), ({"a": 1}, {"b": 2}, {"b": 2}),
    (datetime.date(2020, 1, 1), "2021-02-03", datetime.date(2021, 2, 3)),
    (datetime.datetime(2020, 1, 1), "2021-02-03T04:05:06", datetime.datetime(2021, 2, 3, 4, 5, 6)),
])
def test_coerce_option(default, given, expected):
    got = coerce_option("opt", default, given, "build.py:3")
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("default,given", [
    (1, "x3"), (1, 3.5), (1, True), (1, [3]),
    (True, "maybe"), (True, 2),
    (1.5, "fast"), (1.5, True),
    ("s", 3),
    (datetime.date(2020, 1, 1), "yesterday"), (datetime.date(2020, 1, 1), datetime.datetime(2020, 1, 1)),
    ([1], "1,2"), ({"a": 1}, [("a", 1)]),
])
def test_bad_coercion_names_the_option(default, given):
    with pytest.raises(UsageError) as ei:
        coerce_option("opt", default, given, "build.py:3")
    msg = str(ei.value)
    assert msg.startswith(f"build.py:3: option 'opt' expects {type(default).__name__}")
    assert repr(given) in msg


@pytest.mark.parametrize("given", [{1, 2}, object(), b"x", float("nan")])
def test_non_json_option_value(given):
    with pytest.raises(UsageError) as ei:
        coerce_option("opt", None, given, "b.py:1")
    assert str(ei.value).startswith("b.py:1: option 'opt'")


def test_coerce_options_fills_defaults_and_rejects_unknown():
    m = Method(name="m", path="methods/m.py", folder="methods", options={"a": 1, "b": "x"})
    assert coerce_options(m, {}, "w") == {"a": 1, "b": "x"}
    assert coerce_options(m, {"a": "5"}, "w") == {"a": 5, "b": "x"}
    with pytest.raises(UsageError) as ei:
        coerce_options(m, {"c": 1}, "build.py:9")
    assert str(ei.value) == "build.py:9: method 'm' has no option 'c' (options: a, b)"


# ------------------------------------------------------------------ declarations (unit)

def parse(src: str) -> Method:
    m = Method(name="m", path="methods/m.py", folder="methods")
    parse_declarations(m, src.encode())
    return m


def test_declarations_are_read_without_running_the_file():
    m = parse("""
import this_module_does_not_exist
description = "words"
options = {"n": 3, "when": datetime.date(2020, 1, 2), "at": datetime.datetime(2020, 1, 2, 3, 4), "t": (1, 2)}
jobs = ("src", "[many]")
files = ("data/x.csv", "./data/../data/y.csv")
depend_extra = ("notes.txt",)
resources = {"GPU": 1, "memory": "8GB"}
raise SystemExit("never run")
def prepare(): pass
def synthesis(): pass
""")
    assert m.description == "words"
    # a tuple default reads as a list: as the job sees it (job.json is JSON), and as the cache keeps it
    assert m.options == {"n": 3, "when": datetime.date(2020, 1, 2), "at": datetime.datetime(2020, 1, 2, 3, 4), "t": [1, 2]}
    assert m.jobs == {"src": False, "many": True}
    assert m.files == ("data/x.csv", "data/y.csv")
    assert m.depend_extra == ("notes.txt",)
    assert m.functions == ("prepare", "synthesis")
    assert m.resources == {"GPU": 1, "memory": "8GB"}


@pytest.mark.parametrize("src,message", [
    ("options = {'n': compute()}\ndef synthesis(): pass\n", "methods/m.py:1: options: must be a literal value"),
    ("options = {'s': b'bytes'}\ndef synthesis(): pass\n", "methods/m.py:1: options: option 's': a value of type bytes is not JSON-like"),
    ("options = [1]\ndef synthesis(): pass\n", "methods/m.py:1: options: must be a dict"),
    ("jobs = ('not-a-name',)\ndef synthesis(): pass\n", "methods/m.py:1: jobs: 'not-a-name' is not a valid input job name"),
    ("jobs = (1,)\ndef synthesis(): pass\n", "methods/m.py:1: jobs: must be a tuple of strings"),
    ("files = ('../etc/passwd',)\ndef synthesis(): pass\n", "methods/m.py:1: files: data file '../etc/passwd' is outside the repository"),
    ("files = ('/etc/passwd',)\ndef synthesis(): pass\n", "is outside the repository"),
    ("options = {'d': datetime.date(2020, 13, 1)}\ndef synthesis(): pass\n", "methods/m.py:1: options: bad date(...)"),
    ("resources = {'GPU': True}\ndef synthesis(): pass\n", "methods/m.py:1: resources: must be a dict of resource "
                                                           "name -> amount"),
    ("resources = ['GPU']\ndef synthesis(): pass\n", "methods/m.py:1: resources: must be a dict"),
    ("x = 1\n", "methods/m.py: method 'm' defines none of prepare(), analysis(), synthesis()"),
    ("def synthesis(:\n", "methods/m.py:1: syntax error"),
])
def test_bad_declarations(src, message):
    with pytest.raises(MethodError) as ei:
        parse(src)
    assert message in str(ei.value)


# ------------------------------------------------------------------ invalidation: the CHAIN pipeline

CHAIN_NAMES = ("a", "b", "c")


@pytest.mark.parametrize("edit,rebuilt", [
    (("methods/a.py", "# a comment\n"), {"a", "b", "c"}),
    (("methods/_helper.py", "# helper comment\n"), {"b", "c"}),        # imported by b
    (("methods/notes.txt", "more\n"), {"b", "c"}),                      # depend_extra of b
    (("data/input.txt", "six\n"), {"a", "b", "c"}),                     # files of a
    (("methods/c.py", "\n"), {"c"}),
    (("README.md", "unrelated\n"), set()),
    (("methods/_unused.py", "x = 1\n"), set()),
    (("build.py", "# only a comment\n"), set()),
])
def test_chain_edit_invalidates_exactly_its_dependents(chain_repo, edit, rebuilt):
    first = chain_repo.build()
    assert actions(first) == {"a": "built", "b": "built", "c": "built"}
    rel, extra = edit
    path = chain_repo.path / rel
    old = path.read_text() if path.exists() else None
    path.write_text((old or "") + extra)
    second = chain_repo.build()
    assert actions(second) == {n: "built" if n in rebuilt else "reused" for n in CHAIN_NAMES}
    same = {j["name"]: j["id"] for j in first["jobs"]}
    for j in second["jobs"]:
        assert (j["id"] == same[j["name"]]) == (j["name"] not in rebuilt)
    # undoing the edit gives back the old jobs: nothing is built
    if old is None:
        path.unlink()
    else:
        path.write_text(old)
    third = chain_repo.build()
    assert actions(third) == all_reused(CHAIN_NAMES)
    assert {j["name"]: j["id"] for j in third["jobs"]} == same


def test_chain_option_change_invalidates_only_that_job(chain_repo):
    chain_repo.build()
    chain_repo.write("build.py", """
        def main(urd):
            a = urd.build("a")
            b = urd.build("b", a=a)
            urd.build("c", b=b, offset=5)
    """)
    out = chain_repo.build()
    assert actions(out) == {"a": "reused", "b": "reused", "c": "built"}
    assert json.loads((chain_repo.path / out["jobs"][2]["path"] / "result.json").read_text()) == 5 * 2 + 5    # a: 5 words, b: doubled, c: + offset
    # an option of the first job: everything downstream too
    chain_repo.write("build.py", """
        def main(urd):
            a = urd.build("a", scale=2)
            b = urd.build("b", a=a)
            urd.build("c", b=b, offset=5)
    """)
    assert actions(chain_repo.build()) == {"a": "built", "b": "built", "c": "built"}


def test_transitive_and_package_imports(chain_repo):
    write_files(chain_repo, {
        "methods/_helper.py": """
            import _deep
            from lib.pkg import mod

            def double(x):
                return _deep.two() * x // 2 * 2 // 2 + mod.zero()
        """,
        "methods/_deep.py": "def two():\n    return 2\n",
        "lib/__init__.py": "",
        "lib/pkg/__init__.py": "",
        "lib/pkg/mod.py": "from .util import ZERO\n\ndef zero():\n    return ZERO\n",
        "lib/pkg/util.py": "ZERO = 0\n",
        "lib/pkg/unrelated.py": "",
    })
    chain_repo.commit("helpers")
    out = chain_repo.build()
    b = [j for j in out["jobs"] if j["name"] == "b"][0]
    sources = json.loads((chain_repo.path / b["path"] / "job.json").read_text())["sources"]
    assert sorted(sources) == ["lib/__init__.py", "lib/pkg/__init__.py", "lib/pkg/mod.py", "lib/pkg/util.py",
                               "methods/_deep.py", "methods/_helper.py", "methods/b.py", "methods/notes.txt"]
    for rel, rebuilt in [("methods/_deep.py", {"b", "c"}), ("lib/pkg/util.py", {"b", "c"}),
                         ("lib/pkg/unrelated.py", set())]:
        chain_repo.write(rel, chain_repo.read(rel) + "# edited\n")
        assert actions(chain_repo.build()) == {n: "built" if n in rebuilt else "reused" for n in CHAIN_NAMES}, rel


# ------------------------------------------------------------------ invalidation: a fan

FAN = {
    "data/d.txt": "1 2 3 4\n",
    "conf/mid.cfg": "factor = 3\n",
    "methods/_common.py": "def total(xs):\n    return sum(xs)\n",
    "methods/_lhelp.py": "import _common\n\ndef left(xs):\n    return _common.total(xs)\n",
    "lib/__init__.py": "",
    "lib/pkg/__init__.py": "",
    "lib/pkg/tool.py": "from .base import K\n\ndef right(xs):\n    return K * len(xs)\n",
    "lib/pkg/base.py": "K = 10\n",
    "methods/src.py": """
        files = ("data/d.txt",)
        options = {"n": 2}

        def synthesis(files, options):
            with open(files["data/d.txt"]) as f:
                return [int(x) * options.n for x in f.read().split()]
    """,
    "methods/left.py": """
        import _lhelp
        jobs = ("src",)

        def synthesis(jobs):
            return _lhelp.left(jobs.src.load())
    """,
    "methods/right.py": """
        from lib.pkg import tool
        jobs = ("src",)

        def synthesis(jobs):
            return tool.right(jobs.src.load())
    """,
    "methods/mid.py": """
        depend_extra = ("conf/mid.cfg",)
        jobs = ("src",)

        def synthesis(jobs):
            return len(jobs.src.load())
    """,
    "methods/join.py": """
        jobs = ("[parts]",)

        def synthesis(jobs):
            return [j.load() for j in jobs.parts]
    """,
    "build.py": """
        def main(urd):
            s = urd.build("src")
            parts = [urd.build(m, src=s) for m in ("left", "right", "mid")]
            urd.build("join", parts=parts)
    """,
}
FAN_NAMES = ("src", "left", "right", "mid", "join")


@pytest.fixture
def fan_repo(repo):
    write_files(repo, FAN)
    repo.commit("fan")
    return repo


@pytest.mark.parametrize("rel,rebuilt", [
    ("methods/_common.py", {"left", "join"}),       # transitively imported by left only
    ("methods/_lhelp.py", {"left", "join"}),
    ("lib/pkg/base.py", {"right", "join"}),         # relative import inside a package
    ("lib/pkg/__init__.py", {"right", "join"}),
    ("conf/mid.cfg", {"mid", "join"}),              # depend_extra
    ("methods/right.py", {"right", "join"}),
    ("methods/join.py", {"join"}),
    ("data/d.txt", set(FAN_NAMES)),                 # data file of the root
    ("methods/src.py", set(FAN_NAMES)),
])
def test_fan_edit_invalidates_exactly_its_dependents(fan_repo, rel, rebuilt):
    first = fan_repo.build()
    assert actions(first) == {n: "built" for n in FAN_NAMES}
    join = [j for j in first["jobs"] if j["name"] == "join"][0]
    assert json.loads((fan_repo.path / join["path"] / "result.json").read_text()) == [20, 40, 4]
    fan_repo.write(rel, fan_repo.read(rel) + ("5\n" if rel.startswith("data/") else "\n# edited\n"))
    assert actions(fan_repo.build()) == {n: "built" if n in rebuilt else "reused" for n in FAN_NAMES}


def test_fan_option_of_root_rebuilds_all(fan_repo):
    fan_repo.build()
    fan_repo.write("build.py", FAN["build.py"].replace('urd.build("src")', 'urd.build("src", n=3)'))
    assert actions(fan_repo.build()) == {n: "built" for n in FAN_NAMES}


def test_list_input_order_is_part_of_identity(fan_repo):
    fan_repo.build()
    fan_repo.write("build.py", FAN["build.py"].replace('("left", "right", "mid")', '("mid", "right", "left")'))
    assert actions(fan_repo.build()) == {"src": "reused", "left": "reused", "right": "reused", "mid": "reused",
                                         "join": "built"}


# ------------------------------------------------------------------ options and identity

OPT_METHOD = """
    import datetime
    options = {"n": 1, "ratio": 0.5, "flag": False, "label": "x", "when": datetime.date(2020, 1, 1), "free": None}

    def synthesis(options):
        return [options.n, options.ratio, options.flag, options.label, options.when.isoformat(), options.free]
"""


def ids_of_calls(repo, calls: list[str]) -> list[str]:
    """The job id of each ``urd.build('m', CALL)`` (build --json lists each distinct job once)."""
    repo.write("build.py", "import json\n\ndef main(urd):\n    ids = []\n"
               + "".join(f"    ids.append(urd.build('m', {c}).id)\n" for c in calls)
               + "    with open('ids.json', 'w') as f:\n        json.dump(ids, f)\n")
    out = repo.build()
    ids = json.loads(repo.read("ids.json"))
    assert sorted({j["id"] for j in out["jobs"]}) == sorted(set(ids))
    return ids


def test_default_and_coerced_options_give_the_same_job(repo):
    repo.write("methods/m.py", OPT_METHOD)
    ids = ids_of_calls(repo, [
        "", "n=1", "options={'n': 1}", "n='1'", "n=1.0", "ratio=0.5", "ratio='0.5'", "flag=0",
        "flag='false'", "label='x'", "when='2020-01-01'", "free=None",
        "when=__import__('datetime').date(2020, 1, 1)",
    ])
    assert len(set(ids)) == 1, ids
    different = ids_of_calls(repo, ["n=3", "n='3'", "n=2", "free=1", "free=1.0", "free='1'"])
    assert different[0] == different[1]            # "3" for an int default is 3
    assert len(set(different[1:])) == 5            # None default: no coercion, so 1, 1.0 and "1" differ
    assert ids[0] not in different


def test_job_json_holds_coerced_options(repo):
    repo.write("methods/m.py", OPT_METHOD)
    repo.write("build.py", "def main(urd):\n    urd.build('m', n='3', when='2021-05-06', flag='yes')\n")
    out = repo.build()
    params = json.loads((repo.path / out["jobs"][0]["path"] / "job.json").read_text())
    assert params["options"] == {"n": 3, "ratio": 0.5, "flag": True, "label": "x",
                                 "when": {"$date": "2021-05-06"}, "free": None}
    assert json.loads((repo.path / out["jobs"][0]["path"] / "result.json").read_text()) == \
        [3, 0.5, True, "x", "2021-05-06", None]


@pytest.mark.parametrize("call,message", [
    ("n='three'", "build.py:2: option 'n' expects int (default 1), got 'three'"),
    ("when='soon'", "build.py:2: option 'when' expects date (default datetime.date(2020, 1, 1)), got 'soon'"),
    ("flag=5", "build.py:2: option 'flag' expects bool (default False), got 5"),
    ("nope=1", "build.py:2: method 'm' has no option or input job named 'nope' (options: n, ratio, flag, label, when, free; jobs: none)"),
    ("options={'nope': 1}", "build.py:2: method 'm' has no option 'nope' (options: n, ratio, flag, label, when, free)"),
    ("free={1, 2}", "build.py:2: option 'free': a value of type set is not JSON-like"),
    ("free=object()", "build.py:2: option 'free': a value of type object is not JSON-like"),
    ("free=float('nan')", "build.py:2: option 'free': nan is not a finite number (JSON has no NaN or infinity)"),
])
def test_bad_option_values_are_one_clear_line(repo, call, message):
    repo.write("methods/m.py", OPT_METHOD)
    repo.write("build.py", f"def main(urd):\n    urd.build('m', {call})\n")
    proc = repo.run("build")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"accelgit: {message}\n"


# ------------------------------------------------------------------ the Accelerator's a_ spelling

def test_a_prefixed_method(repo):
    write_files(repo, {
        "methods/a_hello.py": """
            options = {"who": "world"}

            def synthesis(options):
                return "hello " + options.who
        """,
        "build.py": """
            def main(urd):
                j = urd.build("hello", who="you")
                assert j.load() == "hello you"
        """,
    })
    out = repo.build()
    assert [(j["method"], j["action"]) for j in out["jobs"]] == [("hello", "built")]
    assert out["jobs"][0]["path"].endswith("/hello-" + out["jobs"][0]["id"][:12])
    params = json.loads((repo.path / out["jobs"][0]["path"] / "job.json").read_text())
    assert params["method"] == "hello" and params["sources"] == {"methods/a_hello.py": repo.git(
        "hash-object", "methods/a_hello.py").stdout.strip()}


def test_both_spellings_is_an_error(repo):
    write_files(repo, {"methods/x.py": "def synthesis(): pass\n", "methods/a_x.py": "def synthesis(): pass\n",
                       "build.py": "def main(urd):\n    urd.build('x')\n"})
    proc = repo.run("build")
    assert proc.returncode == 2
    assert proc.stderr == ("accelgit: build.py:2: method 'x' is ambiguous: methods/x.py and methods/a_x.py "
                           "both define it\n")


def test_underscore_files_are_never_methods(repo):
    write_files(repo, {"methods/_x.py": "def synthesis(): pass\n", "build.py": "def main(urd):\n    urd.build('_x')\n"})
    proc = repo.run("build")
    assert proc.returncode == 2
    assert proc.stderr == "accelgit: build.py:2: '_x' is not a valid method name\n"


# ------------------------------------------------------------------ equivalent_hashes

def test_equivalent_hashes(chain_repo):
    first = chain_repo.build()
    c_old = [j for j in first["jobs"] if j["name"] == "c"][0]
    old_digest = json.loads((chain_repo.path / c_old["path"] / "job.json").read_text())["source"]
    src = chain_repo.read("methods/c.py")
    # a cosmetic edit plus a placeholder verifier: the error prints the right one
    edited = src.replace("def synthesis", "# cosmetic\ndef synthesis")
    chain_repo.write("methods/c.py", f"equivalent_hashes = {{'wrong': ('{old_digest}',)}}\n" + edited, dedent=False)
    proc = chain_repo.run("build")
    assert proc.returncode == 2
    assert "methods/c.py: equivalent_hashes verifier is wrong; it should be '" in proc.stderr
    verifier = proc.stderr.split("it should be '")[1].split("'")[0]
    chain_repo.write("methods/c.py", f"equivalent_hashes = {{'{verifier}': ('{old_digest}',)}}\n" + edited,
                     dedent=False)
    out = chain_repo.build()
    assert actions(out) == all_reused(CHAIN_NAMES)
    assert [j for j in out["jobs"] if j["name"] == "c"][0]["path"] == c_old["path"]
