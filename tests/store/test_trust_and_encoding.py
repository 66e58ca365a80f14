"""Security and encoding properties.

* Results are JSON unless they cannot be; a pickle (a result, or a file a job
  saved) is unpickled only after the job's manifest check passes: a tampered
  pickle that would run code when loaded is refused, never loaded.
* A job folder from a shared workdir is never used without its manifest.
* The canonical option encoding (identity.encode_value + canonical_json) is
  stable (same value, same bytes, whatever the dict order) and injective on
  JSON-like values: -0.0/0.0, 1/1.0/True, "$date"-keyed dicts/dates and
  NFC/NFD spellings are all different.  Unicode policy: no normalisation;
  strings (keys too) are hashed exactly as given.
"""
from __future__ import annotations

import datetime
import json
import os
import pickle
import shutil
import unicodedata
from pathlib import Path

import pytest
from conftest import Repo
from hypothesis import given, settings
from hypothesis import strategies as st

from accelgit.api.job import Job
from accelgit.core.errors import IntegrityError
from accelgit.core.identity import canonical_json, decode_value, encode_value, job_id

# ------------------------------------------------------------------ pickles and integrity

PIPE = {
    "methods/a.py": """
        def synthesis(job):
            job.save({"tokens": ["x", "y"]}, "tokens.pickle")
            return {3, 1, 2}                  # a set: not JSON, so result.pickle
    """,
    "methods/plain.py": """
        def synthesis():
            return {"n": 1, "xs": [1.5, None, "s"]}
    """,
    "methods/use.py": """
        jobs = ("a",)
        options = {"what": "result", "n": 0}

        def synthesis(jobs, options):
            if options.what == "result":
                return sorted(jobs.a.load())
            return jobs.a.load("tokens.pickle")["tokens"]
    """,
    "build.py": """
        def main(urd):
            urd.build("plain")
            a = urd.build("a")
            urd.build("use", a=a)
    """,
}


class _Evil:
    """Unpickling this creates ``path``: proof that a pickle was loaded."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture
def pickled(repo: Repo) -> tuple[Repo, dict]:
    for rel, text in PIPE.items():
        repo.write(rel, text)
    repo.commit("pickles")
    jobs = {j["method"]: j for j in repo.build()["jobs"]}
    return repo, jobs


def test_results_are_json_unless_they_cannot_be(pickled):
    repo, jobs = pickled
    plain, a = Path(jobs["plain"]["path"]), Path(jobs["a"]["path"])
    assert (plain / "result.json").exists() and not (plain / "result.pickle").exists()
    assert json.loads((plain / "result.json").read_text()) == {"n": 1, "xs": [1.5, None, "s"]}
    assert (a / "result.pickle").exists() and not (a / "result.json").exists()
    assert Job(str(a)).load() == {1, 2, 3}


@pytest.mark.parametrize("target", ["result.pickle", "output/tokens.pickle"])
def test_a_tampered_pickle_is_never_unpickled(pickled, tmp_path: Path, target: str):
    repo, jobs = pickled
    a = Path(jobs["a"]["path"])
    marker = tmp_path / "pwned"
    (a / target).write_bytes(pickle.dumps(_Evil(str(marker))))
    # 1. in Python: Job.load refuses, with the integrity error
    with pytest.raises(IntegrityError, match=rf"{target} does not match its manifest"):
        Job(str(a)).load(None if target == "result.pickle" else "tokens.pickle")
    assert not marker.exists()
    # 2. a build does not reuse it: the job is moved aside (hashed, never unpickled) and
    #    built again, and the new job that loads it gets the real one
    what = "result" if target == "result.pickle" else "tokens"
    repo.write("build.py", f"""
        def main(urd):
            a = urd.build("a")
            urd.build("use", a=a, what="{what}", n=1)      # a new job: it loads a's pickle
            print("LOADED", a.load({None if target == "result.pickle" else '"tokens.pickle"'}))
    """)
    proc = repo.run("build")
    assert proc.returncode == 0, proc.stderr
    assert f"job {a} is damaged ({target} modified after the build)" in proc.stderr
    assert "LOADED" in proc.stdout and not marker.exists()
    (kept,) = (repo.workdir / ".damaged").iterdir()        # the tampered job, kept as it was
    assert pickle.dumps(_Evil(str(marker))) == (kept / target).read_bytes()
    # 3. loading from the kept folder is refused with the hint, and unpickles nothing
    with pytest.raises(IntegrityError, match=r"modified after the build; 'accelgit build' moves the job aside"):
        Job(str(kept)).load(None if target == "result.pickle" else "tokens.pickle")
    assert not marker.exists()


def test_a_pickle_outside_the_manifest_is_refused(pickled, tmp_path: Path):
    repo, jobs = pickled
    a = Path(jobs["a"]["path"])
    marker = tmp_path / "pwned"
    (a / "output" / "extra.pickle").write_bytes(pickle.dumps(_Evil(str(marker))))
    with pytest.raises(IntegrityError, match=r"output/extra\.pickle is not in the job's manifest"):
        Job(str(a)).load("extra.pickle")
    assert not marker.exists()


def test_shared_workdir_jobs_need_their_manifest(pickled, tmp_path: Path):
    repo, jobs = pickled
    a = Path(jobs["a"]["path"])
    shared = tmp_path / "shared"
    shared.mkdir()
    copy = shared / a.name
    shutil.copytree(a, copy)
    (copy / "manifest.json").unlink()                       # not a job any more
    marker = tmp_path / "pwned"
    (copy / "result.pickle").write_bytes(pickle.dumps(_Evil(str(marker))))
    os.chmod(shared, 0o555)                                  # read-only, as a teammate's would be
    try:
        shutil.rmtree(repo.workdir)
        repo.write("accelgit.toml", f"""
            target_workdir = "local"
            [workdirs]
            local = ".accelgit/work"
            shared = "{shared}"
        """)
        with pytest.raises(IntegrityError, match="no manifest.json"):
            Job(str(copy)).load()
        out = repo.build()
        built = {j["method"]: j for j in out["jobs"]}
        assert built["a"]["action"] == "built"                # not reused from the shared folder
        assert Path(built["a"]["path"]).parent == repo.workdir
        assert sorted(p.name for p in shared.iterdir()) == [a.name]    # nothing written there
        assert not marker.exists()
    finally:
        os.chmod(shared, 0o755)


# ------------------------------------------------------------------ canonical encoding

def typed(v):
    """``v`` as a tree that tells apart what JSON-like equality mixes up:
    1 / 1.0 / True, -0.0 / 0.0, dates / datetimes / their time zones."""
    if v is None or isinstance(v, (bool, str)):
        return (type(v).__name__, v)
    if isinstance(v, int):
        return ("int", v)
    if isinstance(v, float):
        return ("float", repr(v))
    if isinstance(v, datetime.datetime):
        return ("datetime", v.isoformat())
    if isinstance(v, datetime.date):
        return ("date", v.isoformat())
    if isinstance(v, (list, tuple)):
        return ("list", tuple(typed(x) for x in v))
    if isinstance(v, dict):
        return ("dict", tuple(sorted((k, typed(x)) for k, x in v.items())))
    raise TypeError(type(v))


def enc(v) -> bytes:
    return canonical_json(encode_value(v))


ZONES = st.sampled_from([None, datetime.timezone.utc,
                         datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
                         datetime.timezone(datetime.timedelta(hours=-8))])
KEYS = st.one_of(st.text(max_size=6), st.text(max_size=4).map(lambda s: "$" + s),
                 st.sampled_from(["$date", "$datetime", "$$date", "date", "é", "e\u0301"]))
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2 ** 200), max_value=2 ** 200),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
    st.sampled_from([0, 0.0, -0.0, 1, 1.0, True, False, "1", "", "é", "e\u0301", "$date"]),
    st.dates(),
    st.builds(lambda d, tz: d.replace(tzinfo=tz, fold=0), st.datetimes(), ZONES),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)), max_leaves=12)


def reordered(v):
    """The same value with every dict built in the reverse order."""
    if isinstance(v, dict):
        return {k: reordered(v[k]) for k in reversed(list(v))}
    if isinstance(v, list):
        return [reordered(x) for x in v]
    return v


@settings(max_examples=150, deadline=None)
@given(VALUES)
def test_encoding_is_stable_and_ignores_dict_order(v):
    b = enc(v)
    assert enc(v) == b
    assert enc(reordered(v)) == b
    b.decode("utf-8")                          # valid UTF-8, sorted keys, no whitespace between tokens
    assert canonical_json(json.loads(b)) == b


@settings(max_examples=150, deadline=None)
@given(VALUES)
def test_encoding_round_trips_exactly(v):
    """decode(encode(v)) is v, types included: so different values give different bytes."""
    assert typed(decode_value(json.loads(enc(v)))) == typed(v)


@settings(max_examples=200, deadline=None)
@given(VALUES, VALUES)
def test_encoding_is_injective(a, b):
    assert (enc(a) == enc(b)) == (typed(a) == typed(b))


NFC, NFD = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
DISTINCT = [
    ("-0.0 vs 0.0", -0.0, 0.0),
    ("1 vs 1.0", 1, 1.0),
    ("1 vs True", 1, True),
    ("1.0 vs True", 1.0, True),
    ("0 vs False", 0, False),
    ("'1' vs 1", "1", 1),
    ("None vs 'null'", None, "null"),
    ("[] vs {}", [], {}),
    ("$date dict vs date", {"$date": "2020-01-02"}, datetime.date(2020, 1, 2)),
    ("$datetime dict vs datetime", {"$datetime": "2020-01-02T03:04:05"}, datetime.datetime(2020, 1, 2, 3, 4, 5)),
    ("$$date dict vs $date dict", {"$$date": "2020-01-02"}, {"$date": "2020-01-02"}),
    ("date vs midnight datetime", datetime.date(2020, 1, 2), datetime.datetime(2020, 1, 2)),
    ("naive vs UTC datetime", datetime.datetime(2020, 1, 2), datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone.utc)),
    ("date vs its ISO string", datetime.date(2020, 1, 2), "2020-01-02"),
    ("NFC vs NFD string", NFC, NFD),
    ("NFC vs NFD key", {NFC: 1}, {NFD: 1}),
]


@pytest.mark.parametrize("a,b", [(a, b) for _, a, b in DISTINCT], ids=[n for n, _, _ in DISTINCT])
def test_values_that_look_alike_are_different(a, b):
    assert NFC != NFD
    assert enc(a) != enc(b)
    src = "0" * 64
    assert job_id("m", src, encode_value({"x": a}), {}, {}) != job_id("m", src, encode_value({"x": b}), {}, {})


def test_what_is_the_same_value():
    """Tuples are lists, dict order does not matter, and nothing is normalised."""
    assert enc((1, 2)) == enc([1, 2])
    assert enc({"a": 1, "b": 2}) == enc({"b": 2, "a": 1})
    assert enc(NFD) == b'"' + NFD.encode("utf-8") + b'"'     # the exact code points, as UTF-8
