"""A report's terminal table: rich's layout, with the rows written here.

rich's ``Table`` takes every cell through its whole machinery (measure, wrap, justify, pad,
crop), about 1 ms a row: 17 s for the 16,000-event audit trail of a street's 3,000 cases.
A report's table asks much less of it: plain-text cells, left or right justified, at the
natural width that ``print_table`` gives it, so nothing is ever wrapped or cut. Here each
column's width is its widest line (``cell_len``: CJK characters take two cells), rich draws
only the frame (the title, the headings and the borders, the only styled parts on a
terminal) and the rows are written between its header and its bottom line. The output is
rich's byte for byte, on a terminal or not, so no report is too small for this path
(tests/projections/test_texttable.py holds it to that); a table whose text rich would lay
out otherwise (a tab, a control character, a line separator other than a newline, a table
past print_table's widest) is left to rich.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

from rich.box import Box
from rich.cells import cell_len
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, JustifyMethod, RenderResult

NATURAL_LIMIT = 100_000  # the widest table print_table lays out at its natural width

# What rich's Text would not show as a line of its own, as written: a tab (expanded), the
# controls Text strips (bell, backspace, CR...), the separators its measure splits lines at.
_RICH_LAYS_OUT = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class TextTable:
    """Rows of plain text under a title and headings: a rich ``Table`` of ``Text`` cells.

    A cell is shown as typed, never read as rich markup (Text, not str: "[/b]" in a
    description would stop the whole report with a markup error). rich renders it as that
    Table (``__rich__``); ``print_table`` writes it with ``drawing`` instead when it can.
    """

    title: str
    headings: tuple[str, ...]
    justify: tuple[JustifyMethod, ...]  # "left" or "right", one a column
    rows: list[tuple[str, ...]]

    def __rich__(self) -> Table:
        table = self.frame()
        for row in self.rows:
            table.add_row(*map(Text, row))
        return table

    def frame(self, widths: list[int] | None = None) -> Table:
        """The Table without its rows; with ``widths``, its columns' (padding excluded)."""
        table = Table(title=self.title)
        for index, (heading, justify) in enumerate(zip(self.headings, self.justify)):
            table.add_column(heading, justify=justify,
                             width=None if widths is None else widths[index])
        return table


def drawing(console: Console, table: TextTable) -> Drawing | None:
    """``table`` laid out as rich would for ``print_table``, or None if rich must do it."""
    count = len(table.headings)
    if not count or any(len(row) != count for row in table.rows):
        return None
    text = "".join(chain.from_iterable(table.rows))
    if _RICH_LAYS_OUT.search(text):
        return None
    sizes = [tuple(map(_width, row)) for row in table.rows]
    measure = console.options.update_width(NATURAL_LIMIT)
    widths = [Measurement.get(console, measure, heading).maximum for heading in table.headings]
    for index, column in enumerate(zip(*sizes)):
        widths[index] = max(widths[index], *column)
    shown = Drawing(table, widths, sizes, "\n" in text)
    return shown if shown.width <= NATURAL_LIMIT else None


def _width(cell: str) -> int:
    """The cell's widest line."""
    if "\n" in cell:
        return max(map(cell_len, cell.split("\n")))
    return cell_len(cell)


@dataclass(frozen=True)
class Drawing:
    """A ``TextTable`` with its columns' widths: rich's frame around the rows written here."""

    table: TextTable
    widths: list[int]  # each column's widest line, padding excluded
    sizes: list[tuple[int, ...]]  # each cell's widest line, a tuple a row
    multiline: bool  # whether any cell has more than one line

    @property
    def width(self) -> int:
        """The table's width: each column with a space either side, and the rules."""
        return sum(self.widths) + 3 * len(self.widths) + 1

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        frame = self.table.frame(self.widths)
        *head, bottom = Segment.split_lines(console.render(frame, options))
        new_line = Segment.line()
        for line in head:
            yield from line
            yield new_line
        box = frame.box.substitute(  # type: ignore[union-attr]
            options, safe=console.safe_box if frame.safe_box is None else frame.safe_box)
        for row in self._rows(box):
            yield Segment(row)
            yield new_line
        yield from bottom
        yield new_line

    def _rows(self, box: Box) -> Iterator[str]:
        widths = self.widths
        right = [justify == "right" for justify in self.table.justify]
        last = len(self.table.rows) - 1
        for number, (row, sizes) in enumerate(zip(self.table.rows, self.sizes)):
            edge, rule, end = ((box.foot_left, box.foot_vertical, box.foot_right)
                               if number == last else
                               (box.mid_left, box.mid_vertical, box.mid_right))
            if not (self.multiline and "\n" in "".join(row)):
                yield edge + rule.join(map(_cell, row, sizes, widths, right)) + end
                continue
            columns = [[_cell(line, cell_len(line), width, r) for line in cell.split("\n")]
                       for cell, width, r in zip(row, widths, right)]
            for height in range(max(map(len, columns))):
                yield edge + rule.join(
                    lines[height] if height < len(lines) else " " * (width + 2)
                    for lines, width in zip(columns, widths)) + end


def _cell(line: str, size: int, width: int, right: bool) -> str:
    """One line of a cell, ``size`` cells wide, as rich's Text and Padding lay it out in a
    column ``width`` wide: a space either side."""
    if not right:
        return f" {line}{' ' * (width - size)} "
    stripped = line.rstrip()  # rich right-justifies a line without its trailing spaces
    if len(stripped) != len(line):
        line, size = stripped, cell_len(stripped)
    return f" {' ' * (width - size)}{line} "
