"""Golden values for accelgit.identity (SPEC §5).

Every golden below was derived *without* accelgit, so these tests catch any
change of the identity scheme (which would change every job id everywhere):

* blob ids: ``printf ... > f; git hash-object f`` (and the test also asks
  ``git hash-object --stdin --no-filters`` at run time);
* sha256 values: the canonical JSON text was written out by hand (keys
  sorted by code point, no whitespace, UTF-8) and hashed with
  ``printf '%s' '<that text>' | sha256sum``.
"""
from __future__ import annotations

import datetime
import hashlib
import subprocess

import pytest

from accelgit.core.identity import (
    DIRNAME_HEX,
    IDENTITY_VERSION,
    canonical_json,
    decode_value,
    encode_value,
    git_blob_sha1,
    job_dirname,
    job_id,
    source_digest,
)

EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"     # git hash-object /dev/null (well known)
HELLO_BLOB = "ce013625030ba8dba906f756967f9e9ca394464a"     # printf 'hello\n' | git hash-object --stdin

BLOBS = [
    (b"", EMPTY_BLOB),
    (b"hello\n", HELLO_BLOB),
    ("héllo wörld ✓\n".encode("utf-8"), "2b03fb79bec73ce6b02bf976ef7c9f9ff36ec1ff"),
    (b"a\r\nb\r\n", "c30dea8a3641ea99b125d04d599d843712292759"),        # CRLF kept as is
    (b"\x00\x01\xff\xfe", "ad2f38543fc2bba3468a77f36137c23378420463"),  # binary
]


@pytest.mark.parametrize("data,expected", BLOBS)
def test_git_blob_sha1_golden(data, expected):
    assert git_blob_sha1(data) == expected


@pytest.mark.parametrize("data", [d for d, _ in BLOBS] + [bytes(range(256)) * 40, b"no newline"])
def test_git_blob_sha1_equals_git_hash_object(data):
    proc = subprocess.run(["git", "hash-object", "--stdin", "--no-filters"], input=data,
                          capture_output=True, check=True)
    assert git_blob_sha1(data) == proc.stdout.decode().strip()


# ------------------------------------------------------------------ canonical JSON

@pytest.mark.parametrize("obj,expected", [
    ({"b": 1, "a": [1, 2, {"d": None, "c": True}]}, b'{"a":[1,2,{"c":true,"d":null}],"b":1}'),
    # UTF-8 bytes, never \u escapes
    ({"k": "åäö ✓ 日本"}, '{"k":"åäö ✓ 日本"}'.encode("utf-8")),
    # sorted by code point: upper case and "_" before lower case
    ({"b": 0, "_": 0, "B": 0, "a": 0}, b'{"B":0,"_":0,"a":0,"b":0}'),
    # -0.0 keeps its sign (a method can tell it from 0.0), floats keep ".0"
    ({"z": -0.0, "o": 0.0, "f": 1.0, "e": 1e-7}, b'{"e":1e-07,"f":1.0,"o":0.0,"z":-0.0}'),
    # big ints are exact
    ([2 ** 70, -(2 ** 64)], b"[1180591620717411303424,-18446744073709551616]"),
    ("quote\" back\\ nl\n tab\t", b'"quote\\" back\\\\ nl\\n tab\\t"'),
    ([], b"[]"),
    ({}, b"{}"),
])
def test_canonical_json_exact_bytes(obj, expected):
    assert canonical_json(obj) == expected


def test_canonical_json_rejects_nan():
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


# ------------------------------------------------------------------ encode_value

def test_encode_dates_tuples_and_dollar_keys():
    enc = encode_value({
        "d": datetime.date(2024, 2, 29),
        "t": datetime.datetime(2024, 2, 29, 13, 45, 1, 500),
        "tz": datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
        "tup": (1, (2, "x")),
        "$date": "not a date",
        "$$x": 1,
    })
    assert enc == {
        "d": {"$date": "2024-02-29"},
        "t": {"$datetime": "2024-02-29T13:45:01.000500"},
        "tz": {"$datetime": "2024-01-01T00:00:00+00:00"},
        "tup": [1, [2, "x"]],
        "$$date": "not a date",       # one more "$": a user dict never looks like a tagged date
        "$$$x": 1,
    }
    assert canonical_json(enc) == (
        b'{"$$$x":1,"$$date":"not a date","d":{"$date":"2024-02-29"},'
        b'"t":{"$datetime":"2024-02-29T13:45:01.000500"},"tup":[1,[2,"x"]],'
        b'"tz":{"$datetime":"2024-01-01T00:00:00+00:00"}}')


def test_decode_inverts_encode():
    value = {"d": datetime.date(2020, 1, 2), "t": datetime.datetime(2020, 1, 2, 3, 4, 5),
             "$date": "2020-01-02", "nested": [{"$datetime": "x"}, None, 1.5], "s": "$date"}
    assert decode_value(encode_value(value)) == value


def test_date_and_string_and_datetime_are_different_values():
    forms = [datetime.date(2020, 1, 2), "2020-01-02", {"$date": "2020-01-02"},
             datetime.datetime(2020, 1, 2)]
    assert len({canonical_json(encode_value(v)) for v in forms}) == 4


def test_bool_int_float_are_different_values():
    assert len({canonical_json(encode_value(v)) for v in (True, 1, 1.0)}) == 3


@pytest.mark.parametrize("bad,words", [
    ({1, 2}, "set"),
    (object(), "object"),
    (b"bytes", "bytes"),
    ({1: "x"}, "dict key 1"),
    (float("inf"), "finite"),
    ([float("nan")], "finite"),
])
def test_encode_rejects_non_json_like(bad, words):
    with pytest.raises((TypeError, ValueError)) as ei:
        encode_value({"opt": bad}, "option")
    assert words in str(ei.value)
    assert str(ei.value).startswith("option[")


# ------------------------------------------------------------------ digests and ids

def test_source_digest_golden():
    # printf '%s' '{"methods/_h.py":"ce01...464a","methods/a.py":"e69d...5391"}' | sha256sum
    # ("_" sorts before "a")
    blobs = {"methods/a.py": EMPTY_BLOB, "methods/_h.py": HELLO_BLOB}
    assert source_digest(blobs) == "61c820d00352b2bc191a25642f2e75012c4e5769c0375b4c33e2631145a4e9ef"
    # printf '%s' '{}' | sha256sum
    assert source_digest({}) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def test_source_digest_ignores_insertion_order():
    a = {"x.py": EMPTY_BLOB, "a.py": HELLO_BLOB}
    assert source_digest(a) == source_digest(dict(reversed(list(a.items()))))


def test_job_id_golden():
    # printf '%s' '{"files":{"data/x.txt":"ce01..."},"jobs":{"inp":null,"many":["aa","bb"],"one":"cc"},
    #   "method":"m","options":{"d":{"$date":"2024-02-29"},"n":3,"s":"å"},"source":"61c8...","v":1}' | sha256sum
    src = "61c820d00352b2bc191a25642f2e75012c4e5769c0375b4c33e2631145a4e9ef"
    jid = job_id("m", src, encode_value({"s": "å", "n": 3, "d": datetime.date(2024, 2, 29)}),
                 {"one": "cc", "many": ["aa", "bb"], "inp": None}, {"data/x.txt": HELLO_BLOB})
    assert jid == "e94745923379204db0abac3eaa002fa05f78befcc417ebf0aacf7c21ab01ae7d"
    # printf '%s' '{"files":{},"jobs":{},"method":"a","options":{},"source":"4413...","v":1}' | sha256sum
    empty = job_id("a", source_digest({}), {}, {}, {})
    assert empty == "1ca55fa2f1b79561b39a50aa273cde05ebecc27adaee26961e8615288e113c75"
    assert IDENTITY_VERSION == 1


def test_job_id_is_sha256_of_canonical_json():
    parts = dict(method="m", source="s" * 64, options={"a": 1}, jobs={"j": None}, files={})
    expected = hashlib.sha256(canonical_json({"v": 1, **parts})).hexdigest()
    assert job_id(**parts) == expected


@pytest.mark.parametrize("change", [
    dict(method="n"), dict(source="t" * 64), dict(options={"a": 2}), dict(options={"a": 1, "b": None}),
    dict(jobs={"j": "x"}), dict(jobs={"j": ["x"]}), dict(jobs={}), dict(files={"f": EMPTY_BLOB}),
])
def test_job_id_changes_with_every_part(change):
    base = dict(method="m", source="s" * 64, options={"a": 1}, jobs={"j": None}, files={})
    assert job_id(**{**base, **change}) != job_id(**base)


def test_job_dirname():
    jid = "e94745923379204db0abac3eaa002fa05f78befcc417ebf0aacf7c21ab01ae7d"
    assert DIRNAME_HEX == 12
    assert job_dirname("count_words", jid) == "count_words-e94745923379"
