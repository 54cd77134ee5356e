"""Go's ``text/tabwriter`` with spaces, as kubectl uses it: its describers
(minwidth 0, padding 2, the default) and its table printer (minwidth 6,
padding 3). Lines of tab-terminated cells, the last cell of a line not
aligned; a column is as wide as its widest cell plus the padding, and at
least minwidth.

A column is aligned over a block of consecutive lines that all have a
tab-terminated cell in it; a line with fewer cells ends the block. So in

    Port:\t<unset>\t80/TCP
    TargetPort:\t8080/TCP
    NodePort:\t<unset>\t30080/TCP

the first column is one block (width of "TargetPort:" + 2), and the second
column is two blocks of one line each (TargetPort's line has no second
tab-terminated cell), so "<unset>" is followed by exactly two spaces.
"""

from __future__ import annotations

__all__ = ["tabbed"]

PADDING = 2


def tabbed(lines: list[str], *, minwidth: int = 0, padding: int = PADDING) -> str:
    """``lines`` aligned as Go's tabwriter would (module docstring)."""
    rows = [line.split("\t") for line in lines]
    widths = [[0] * len(r) for r in rows]

    def align(start: int, end: int, col: int) -> None:
        i = start
        while i < end:
            if len(rows[i]) - 1 <= col:
                i += 1
                continue
            j = i
            while j < end and len(rows[j]) - 1 > col:
                j += 1
            width = max(minwidth, max(len(rows[k][col]) for k in range(i, j)) + padding)
            for k in range(i, j):
                widths[k][col] = width
            align(i, j, col + 1)
            i = j

    align(0, len(rows), 0)
    out = []
    for row, w in zip(rows, widths, strict=True):
        cells = [c.ljust(w[n]) for n, c in enumerate(row[:-1])]
        out.append("".join(cells) + row[-1])
    return "\n".join(out)
