"""Options typed as the Accelerator types them (accelgit/methods/optspec.py,
issue 16).  The expected values follow the Accelerator's deptree.py and
methods.py (its ``_fix_options`` and ``params2defaults``); the options of
``a_example_options.py`` were also checked against the real Accelerator
2025.11.11 (``ax run example-options``: its setup.json and printed options),
see tests/build/test_accelerator_examples.py.  The golden ids are documented
in docs/accelerator.md: changing them changes every typed job's id."""
from __future__ import annotations

import datetime

import pytest

from accelgit.core.errors import MethodError, UsageError
from accelgit.core.identity import encode_value, git_blob_sha1, job_id, source_digest
from accelgit.methods import optspec
from accelgit.methods.declarations import Method, from_cache, parse_declarations, to_cache
from accelgit.methods.options import coerce_options

EXAMPLE_OPTIONS = b"""\
from datetime import date
from pprint import pprint

options = dict(
\tday1=date(1970, 1, 1),         # reqires a date (or None). Here, a default value is set.
\tday2=date,                     # requires a date, will be None if not assigned
\tsomething=None,                # accepts anything (that works in json)
\ttext='',                       # requires a string (or None).  Here, the empty string is default.
\tnumber=int,                    # requires an int (or None)
\tseq=[],                        # reqires a list
\tcplx=dict(str=dict(str=str)),  # reqires a dict of string to dict of string to string
)


def synthesis():
\tpprint(options)
"""


def parse(src: bytes, name: str = "example_options") -> Method:
    m = Method(name=name, path=f"methods/a_{name}.py", folder="methods")
    parse_declarations(m, src)
    return m


def typed_id(m: Method, src: bytes, given: dict) -> tuple[dict, str]:
    opts = encode_value(coerce_options(m, given, "build.py:1"))
    return opts, job_id(m.name, source_digest({m.path: git_blob_sha1(src)}), opts, {}, {})


def test_the_example_options_as_the_accelerator_gives_them():
    m = parse(EXAMPLE_OPTIONS)
    assert m.options["number"] == optspec.Type("int") and m.options["day2"] == optspec.Type("date")
    assert m.options["cplx"] == {"str": {"str": optspec.Type("str")}}
    # omitted: the Accelerator's defaults (its setup.json for `urd.build('example_options', text='world')`)
    assert coerce_options(m, {"text": "world"}, "w") == {
        "day1": datetime.date(1970, 1, 1), "day2": None, "something": None, "text": "world", "number": None,
        "seq": [], "cplx": {"str": {}}}
    given = dict(day1=datetime.date(2021, 10, 14), day2=datetime.date(2021, 10, 14), something=3.14, text="hello",
                 number=42, seq=[1, 2, 3, 4], cplx=dict(a=dict(b="c")))
    assert coerce_options(m, given, "w") == given


def test_typed_options_survive_the_declaration_cache():
    m = parse(EXAMPLE_OPTIONS)
    again = Method(name=m.name, path=m.path, folder=m.folder)
    from_cache(again, to_cache(m))
    assert again.options == m.options


# Golden: the options a typed call gives and the job id they make, for the example's
# exact source at methods/a_example_options.py.  Documented in docs/accelerator.md.
GOLDEN = [
    ({"text": "world"},
     {"cplx": {"str": {}}, "day1": {"$date": "1970-01-01"}, "day2": None, "number": None, "seq": [],
      "something": None, "text": "world"},
     "b4bcda296b593b41c8a0fdea8cc8a95c59befb56e7895a688ac28e9e39c4f2be"),
    (dict(day1=datetime.date(2021, 10, 14), day2=datetime.date(2021, 10, 14), something=3.14, text="hello",
          number=42, seq=[1, 2, 3, 4], cplx=dict(a=dict(b="c"))),
     {"cplx": {"a": {"b": "c"}}, "day1": {"$date": "2021-10-14"}, "day2": {"$date": "2021-10-14"}, "number": 42,
      "seq": [1, 2, 3, 4], "something": 3.14, "text": "hello"},
     "982f74a8d69de4f9b42597c78da290803b2b0c49432227c2380ff45980345025"),
]


@pytest.mark.parametrize("given,options,jid", GOLDEN)
def test_golden_typed_ids(given, options, jid):
    m = parse(EXAMPLE_OPTIONS)
    assert typed_id(m, EXAMPLE_OPTIONS, given) == (options, jid)


def test_golden_datetime_typed_option_given_a_date():
    src = b"from datetime import datetime\noptions = dict(timestamp=datetime)\njobs = ('previous',)\n" \
          b"def synthesis():\n    pass\n"
    m = parse(src, "example_dummyjob")
    opts, jid = typed_id(m, src, {"timestamp": datetime.date(2021, 8, 1)})
    assert opts == {"timestamp": {"$datetime": "2021-08-01T00:00:00"}}     # the Accelerator: [2021, 8, 1, 0, 0, 0, 0]
    assert jid == "ec8ae0d002a793bd1734712534a7fed0e71273721074073d629f4596c265b73b"


SPECS = """
from accelerator import OptionEnum, OptionString, RequiredOption, OptionDefault, JobWithFile
import datetime
options = {
    'colour': OptionEnum('red green blue*'),
    'maybe': OptionEnum(['a', 'b'], none_ok=True),
    'name': OptionString,
    'named': OptionString('example'),
    'must': RequiredOption(int),
    'must_or_none': RequiredOption(5, none_ok=True),
    'ranked': OptionDefault(OptionEnum('low high'), 'low'),
    'when': datetime.datetime,
    'file': JobWithFile,
    'files': [JobWithFile],
    'ints': [int],
    'flag': bool,
}
def synthesis(): pass
"""
REQUIRED = dict(colour="red", name="n", named="x", must=1, must_or_none=None)


def test_markers_defaults_and_conversion():
    m = parse(SPECS.encode())
    out = coerce_options(m, {**REQUIRED, "ints": "1, 2", "flag": "yes", "colour": "blueish",
                             "when": "2021-01-02T03:04:05", "file": ["id", "name"]}, "w")
    assert out == {"colour": "blueish", "maybe": None, "name": "n", "named": "x", "must": 1, "must_or_none": None,
                   "ranked": "low", "when": datetime.datetime(2021, 1, 2, 3, 4, 5), "file": ["id", "name", False, None],
                   "files": [], "ints": [1, 2], "flag": True}
    assert optspec.job_with_file_options(m.options) == {"file": "JobWithFile", "files": "[JobWithFile]"}


@pytest.mark.parametrize("given,message", [
    ({}, "build.py:1: method 'm' requires option 'colour'"),
    ({**REQUIRED, "colour": "pink"}, "build.py:1: option 'colour' of method 'm' 'pink' is not one of "
                                     "['red', 'green', 'blue*']"),
    ({**REQUIRED, "name": ""}, "build.py:1: option 'name' of method 'm' requires a non-empty string value"),
    ({**REQUIRED, "must": None}, "build.py:1: option 'must' of method 'm' requires a non-None value"),
    ({**REQUIRED, "ints": ["x"]}, "build.py:1: option 'ints' of method 'm' 'x' is not int"),
    ({**REQUIRED, "when": "nope"}, "build.py:1: option 'when' of method 'm' 'nope' is not a datetime"),
    ({**REQUIRED, "file": "job"}, "build.py:1: option 'file' of method 'm' expects job.withfile(name) "
                                  "(a JobWithFile)"),
])
def test_bad_typed_values_name_the_option(given, message):
    m = parse(SPECS.encode(), "m")
    with pytest.raises(UsageError) as e:
        coerce_options(m, given, "build.py:1")
    assert str(e.value) == message


@pytest.mark.parametrize("src,message", [
    ("options = dict(a=compute)\ndef synthesis(): pass\n",
     "methods/a_m.py:1: options: 'compute' is not a value accelgit can read from the source (a literal, a type "
     "such as int or date, or the Accelerator's option markers)"),
    ("options = dict(a=OptionEnum())\ndef synthesis(): pass\n", "methods/a_m.py:1: options: bad OptionEnum(...)"),
])
def test_bad_typed_declarations(src, message):
    with pytest.raises(MethodError) as e:
        parse(src.encode(), "m")
    assert str(e.value).startswith(message)
