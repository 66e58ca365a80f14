"""accelgit's table formatter (fasttable.py) against tabulate itself: the same
text for every table it accepts, and it hands everything else to tabulate."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st
from tabulate import tabulate

from accelgit.fasttable import simple_table
from accelgit.output import table

CHARS = [chr(c) for c in range(32, 127)] + ["\n", "\n", " ", "→", "é", "…", "—", "ß", "Ω", "ж", "·", "×"]
OTHER = ["日", "\t", "\x1b[31m", "x\u0301", "✓", "\xa0"]        # wide, tab, ANSI, combining, ...
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
    assert simple_table(rows, headers) == reference(rows, headers)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(tables, st.sampled_from(OTHER), st.data())
def test_anything_else_goes_to_tabulate(t, odd, data):
    headers, rows = t
    if not rows:
        rows = [[""] * len(headers)]
    i = data.draw(st.integers(0, len(rows) - 1))
    j = data.draw(st.integers(0, len(headers) - 1))
    rows[i][j] = f"a{odd}b"
    assert simple_table(rows, headers) is None
    assert table(rows, headers) == reference(rows, headers)


def test_shapes_it_leaves_to_tabulate():
    assert simple_table([["a"]], ["x", "y"]) is None          # ragged rows
    assert simple_table([[1, "a"]], ["x", "y"]) is None       # not text
    assert simple_table([["a"]], "keys") is None              # tabulate's header modes
    assert simple_table([["a"]], ["x\ny"]) is None            # multi-line header
    assert table([[1, None], [2.5, "b"]], ["n", "s"]) == reference([[1, None], [2.5, "b"]], ["n", "s"])


def test_a_plan_like_table():
    rows = [["step-5dc7b8ac8dcf", "step", "reuse", ""],
            ["step-f558f6dc729b [b]", "step", "build", "option: edit: 0 → 4242\ninput: prev changed"]]
    headers = ["job", "method", "action", "reasons"]
    assert simple_table(rows, headers) == reference(rows, headers)
