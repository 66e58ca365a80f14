"""accelgit's one table layout (accelgit/core/table.py) against tabulate's
``simple`` format, which it reproduces: the same text for every table of
plain text, and columns that line up on a terminal for wide characters."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tabulate import tabulate

from accelgit.core.table import table, table_lines, width

CHARS = [chr(c) for c in range(32, 127)] + ["\n", "\n", " ", "→", "é", "…", "—", "ß", "Ω", "ж", "·", "×"]
cell = st.one_of(st.none(), st.text(alphabet=st.sampled_from(CHARS), max_size=25),
                 st.sampled_from(["", " ", "\n", " \n ", "a\n\nb", "x\n", "\nx", "-5", "3.0", "1e3", "True",
                                  "None", "nan", "  12  ", "old → new"]))
header = st.text(alphabet=st.sampled_from([chr(c) for c in range(32, 127)] + ["é", "→"]), max_size=10)
tables = st.integers(1, 5).flatmap(lambda n: st.tuples(
    st.lists(header, min_size=n, max_size=n), st.lists(st.lists(cell, min_size=n, max_size=n), max_size=6)))


def reference(rows, headers) -> str:
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(tables)
def test_same_text_as_tabulate(t):
    headers, rows = t
    assert table(rows, headers) == reference(rows, headers)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(tables)
def test_rows_from_a_callable_are_read_twice_and_give_the_same_text(t):
    headers, rows = t
    calls = []

    def again():
        calls.append(1)
        return iter(rows)
    assert "\n".join(table_lines(again, headers)) == table(rows, headers)
    assert len(calls) == 2


def test_a_plan_like_table():
    rows = [["step-5dc7b8ac8dcf", "step", "reuse", ""],
            ["step-f558f6dc729b [b]", "step", "build", "option: edit: 0 → 4242\ninput: prev changed"]]
    headers = ["job", "method", "action", "reasons"]
    assert table(rows, headers) == reference(rows, headers)


def test_wide_and_combining_characters_are_measured_in_terminal_columns():
    assert (width("abc"), width("日本"), width("x\u0301"), width("é")) == (3, 4, 1, 1)
    lines = table([["日本語", "x"], ["ab", "y"], ["e\u0301", "z"]], ["name", "v"]).splitlines()
    # the second column starts at the same terminal column on every line
    starts = [width(line[:line.rindex(" ") + 1]) for line in lines if not line.startswith("-")]
    assert len(set(starts)) == 1, lines
    assert lines[1] == "------  ---"


def test_the_narrow_shortcut_agrees_with_measuring_each_character():
    import sys
    import unicodedata

    from accelgit.core import table as t
    for cp in range(0x20, 0x2600):
        c = chr(cp)
        if 0xD800 <= cp <= 0xDFFF or not t._NARROW.fullmatch(c):
            continue
        slow = 0 if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf") else \
            2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
        assert slow == 1, (hex(cp), unicodedata.name(c, "?"), sys.maxunicode)
