"""The one text-table layout of accelgit (``log``, ``verify``, ``plan``).

The layout is tabulate's ``simple`` format: cells are stripped of surrounding
whitespace, None is empty; a column is as wide as its widest line and at least
its header plus 2; columns are left-aligned, two spaces apart, trailing spaces
removed; a line of dashes under the headers.  When any cell holds a newline
the table is multi-line: each cell is split into its lines (an empty cell has
none, so a row of empty cells takes no line).  Widths are terminal columns:
East Asian wide characters count 2, combining marks 0.

Written here rather than imported: tabulate's import and its per-row cost
were a third of a 1,000-job ``accelgit plan`` (docs/design.md).
tests/core/test_table.py compares this with tabulate on random text tables.

Pure: no I/O.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

# Characters one column wide, none combining or invisible: Latin (but the soft
# hyphen), general punctuation, arrows, maths, technical symbols, box drawing.
# A text made only of these (a plan's "→" reasons) is as wide as it is long.
_NARROW = re.compile("[\x00-\xac\xae-\u02ff\u2010-\u2027\u2030-\u205e\u2190-\u2319\u2500-\u25fc]*")


def width(s: str) -> int:
    """Terminal columns ``s`` takes."""
    if s.isascii() or _NARROW.fullmatch(s):
        return len(s)
    import unicodedata
    w = 0
    for c in s:
        if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
            continue
        w += 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
    return w


def _text(cell) -> str:
    return "" if cell is None else str(cell).strip()


def table_lines(rows: Sequence | Callable[[], Iterable], headers: Sequence[str]) -> Iterator[str]:
    """The table's lines.  ``rows`` is a list of rows, or a callable giving a
    fresh iterable of them: read twice (widths, then lines), so a long table
    is never held whole."""
    get = rows if callable(rows) else (lambda: rows)
    headers = [str(h) for h in headers]
    widths = [width(h) + 2 for h in headers]
    multiline = False
    for row in get():
        for i, cell in enumerate(row):
            t = _text(cell)
            if cell is not None and "\n" in str(cell):
                multiline = True            # even when stripping leaves one line (tabulate's rule)
            w = max(map(width, t.split("\n"))) if "\n" in t else width(t)
            if w > widths[i]:
                widths[i] = w
    yield _line(headers, widths)
    yield "  ".join("-" * w for w in widths)
    for row in get():
        texts = [_text(c) for c in row]
        if not multiline:
            yield _line(texts, widths)
            continue
        cells = [t.splitlines() for t in texts]
        for k in range(max((len(c) for c in cells), default=0)):
            yield _line([c[k] if k < len(c) else "" for c in cells], widths)


def _line(texts, widths) -> str:
    return "  ".join(t + " " * (w - width(t)) for t, w in zip(texts, widths)).rstrip()


def table(rows: Sequence, headers: Sequence[str]) -> str:
    return "\n".join(table_lines(rows, headers))
