"""Tables for an 80-column terminal, in the one style every command prints them.

No vertical rules and one space of padding, so a column costs its widest cell plus two;
long snake_case names go over two header lines; a table with more columns than fit is
split by its caller into tables that repeat its key column.
"""

from __future__ import annotations

from rich import box
from rich.table import Table

WIDTH = 80  # a terminal's default width, and what a `COLUMNS=80` test renders at


def new_table(title: str | None = None, caption: str | None = None) -> Table:
    """A table with a rule under its header only."""
    return Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False,
                 collapse_padding=True, show_edge=False)  # fmt: skip


def header(name: str) -> str:
    """A long snake_case name over two lines: 'inception_score' -> 'inception\\nscore'."""
    return name.replace("_", "\n", 1) if len(name) > 7 else name


def cell_width(cells: list[str]) -> int:
    """What a column of these cells (header included) costs in a `new_table`."""
    return max(len(line) for c in cells for line in c.split("\n")) + 2


def column_groups(widths: list[int], key_width: int, limit: int = WIDTH) -> list[list[int]]:
    """The columns (indices, in order) grouped so that each group beside the key columns
    fits `limit`: one group when all fit."""
    groups: list[list[int]] = []
    for i, w in enumerate(widths):
        if not groups or key_width + sum(widths[j] for j in groups[-1]) + w > limit:
            groups.append([])
        groups[-1].append(i)
    return groups
