"""tabulate's ``simple`` table format, byte for byte, for plain text cells.

Importing tabulate 0.10 costs ~20 ms (it reads its own version through
``importlib.metadata``) and it formats ~40 µs a row: a third of a 1,000-job
``accelgit plan``.  ``simple_table`` gives exactly what
``tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)``
gives when every header is a one-line string, every row has one cell per
header, and every cell is a string or None made of printable characters one
column wide (ASCII, accented letters, arrows, ...: widths that ``len`` and
wcwidth agree on).  For anything else it returns None and output.table
calls tabulate.  tests/test_fasttable.py compares the two on random tables.

The rules, as tabulate applies them: cells are stripped of surrounding
whitespace, None is empty; a column is as wide as its longest line and at
least its header plus 2; columns are left-aligned, two spaces apart, with
trailing spaces removed; a line of dashes under the headers.  When any cell
holds a newline the table is multi-line: each cell is split into its lines
(an empty cell has none, so a row of empty cells takes no line at all).
"""
from __future__ import annotations


# Scripts and symbols whose printable, non-combining characters are one column
# wide for len() and for wcwidth alike (tabulate measures with wcwidth when it
# is installed): Latin, Greek, Cyrillic, punctuation, arrows, maths, boxes.
_RANGES = ((0xA1, 0x2AF), (0x370, 0x52F), (0x2010, 0x205E), (0x20A0, 0x20C0), (0x2100, 0x214F),
           (0x2190, 0x23FF), (0x2500, 0x25FF))


def _one_column_wide(s: str) -> bool:
    if s.isascii():
        return s.isprintable() or s.replace("\n", "").isprintable()
    import unicodedata
    for c in s:
        if " " <= c <= "~" or c == "\n":
            continue
        o = ord(c)
        if not any(lo <= o <= hi for lo, hi in _RANGES) or not c.isprintable() \
                or unicodedata.category(c)[0] == "M" or unicodedata.east_asian_width(c) in ("W", "F"):
            return False
    return True


def simple_table(rows, headers) -> str | None:
    """The table, or None when tabulate itself must format it."""
    if not isinstance(headers, (list, tuple)) or not headers:
        return None
    n = len(headers)
    for h in headers:
        if type(h) is not str or "\n" in h or not _one_column_wide(h):
            return None
    multiline = False
    for row in rows:
        if not isinstance(row, (list, tuple)) or len(row) != n:
            return None
        for c in row:
            if c is None:
                continue
            if type(c) is not str or not _one_column_wide(c):
                return None
            if "\n" in c:
                multiline = True
    cells = []
    for row in rows:
        texts = ["" if c is None else c.strip() for c in row]
        cells.append([t.splitlines() if multiline else [t] for t in texts])
    widths = [max([len(h) + 2] + [len(line) for r in cells for line in r[i]]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    for r in cells:
        for k in range(max(len(c) for c in r)):
            lines.append("  ".join((c[k] if k < len(c) else "").ljust(w) for c, w in zip(r, widths)).rstrip())
    return "\n".join(lines)
