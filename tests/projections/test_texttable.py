"""The terminal table written fast (``projections.texttable``) is rich's, byte for byte.

Each test lays a table out twice, once written by the fast path and once by rich's own
``Table`` (``TextTable.__rich__``, the Table ``rich_table`` built before the fast path), and
compares the bytes: to a file or a pipe, on a terminal with its styles, and where the
console can only show ASCII. A test first checks that the fast path did write the table, so
a silent fall-back to rich cannot pass for agreement.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from datetime import date

import pytest
from rich.console import Console
from rich.table import Table

from projections.accountability import AccountabilityFilter
from projections.escalations import EscalationsFilter
from projections.render import render, rich_table, show
from projections.report import Column, Report
from projections.reports import read
from projections.risk import RiskFilter
from projections.texttable import TextTable, drawing
from tests.projections.history import RandomHistory


class _AsciiOnly(io.StringIO):
    encoding = "ascii"  # rich then draws its box with +, - and |


CONSOLES: dict[str, Callable[[], Console]] = {
    # print_table's console for --out and for render(): a file, not a terminal
    "file": lambda: Console(file=io.StringIO(), force_terminal=False, color_system=None),
    "pipe, wide": lambda: Console(file=io.StringIO(), force_terminal=False, width=400),
    "terminal": lambda: Console(file=io.StringIO(), force_terminal=True,
                                color_system="truecolor"),
    "ascii": lambda: Console(file=_AsciiOnly(), force_terminal=False),
}
FILE = CONSOLES["file"]


def written(table: TextTable | Table, console: Callable[[], Console]) -> str:
    target = console()
    show(target, table)
    return target.file.getvalue()


def assert_written_as_rich(table: TextTable) -> None:
    for name, console in CONSOLES.items():
        assert drawing(console(), table) is not None, "the fast path declined it"
        assert written(table, console) == written(table.__rich__(), console), name


def assert_as_rich(report: Report) -> None:
    for lang in ("zh", "en"):
        table = rich_table(report, lang)
        assert_written_as_rich(table)
        assert render(report, "table", lang).decode("utf-8") == written(table.__rich__(), FILE)


COLUMNS = (Column("number", "Case number", "编号"), Column("found", "Found", "发现日期", "date"),
           Column("category", "Category", "隐患类别", vocab="category"),
           Column("overdue", "Overdue", "是否逾期", "bool"), Column("days", "Days", "天数", "int"),
           Column("rate", "Rate", "整改率", "rate"), Column("median", "Median", "中位数", "float"),
           Column("description", "Description", "隐患描述"), Column("none", "Empty", "空"))
TYPED = [
    "楼道内电动车飞线充电, 多辆电动车在楼梯间充电", "[/b] 楼道 [red]x[/red] [link=x]y[/link]",
    "清屏\x1b[2J响铃\x07回车\r覆盖\x00\x7f\x85", '=HYPERLINK("http://evil.example","点我")',
    "", " ", "  leading and trailing  ", "第一行\n第二行\n", "\n", "a\n\nb", "ｆｕｌｌｗｉｄｔｈ，标点。",
    "emoji 🔥🧯 ZWJ 👩‍🚒 VS16 ☎️ keycap 1️⃣ combining é ĉ zero\u200bwidth",
    "长" * 300 + "x" * 400, ":smile: :fire: 不是表情",
]
ROWS = [(f"HZ-2026-{n:06d}", date(2026, 3, 1 + n % 28), ["gas_safety", "flying_wire_charging",
         "not_in_vocab"][n % 3], n % 2 == 0, [0, -3, 1234567][n % 3], [None, 0.5, 1.0][n % 3],
         [2.0, 0.125, None][n % 3], text, None) for n, text in enumerate(TYPED)]


def report(rows: list[tuple], columns: tuple[Column, ...] = COLUMNS) -> Report:
    return Report("ledger", "Hazard ledger", "隐患排查治理台账", columns, rows,
                  date(2026, 3, 31), "occurred")


@pytest.mark.parametrize("rows", [ROWS, ROWS[:1], ROWS[7:8], []],
                         ids=["typed text", "one row", "a multi-line row", "no rows"])
def test_a_report_is_written_as_rich_writes_it(rows):
    assert_as_rich(report(rows))


def test_a_title_wider_than_the_table_wraps_as_in_rich():
    narrow = (Column("n", "N", "数", "int"),)
    assert_as_rich(report([(1,), (22,)], narrow))
    assert_as_rich(report([], narrow))


def test_right_justified_cells_lose_their_trailing_spaces_as_in_rich():
    table = TextTable("t", ("a", "n"), ("left", "right"),
                      [("x ", "12  "), ("yy", " 3"), ("", "   "), ("z", "4 \n 5  ")])
    assert_written_as_rich(table)


def test_random_text_is_laid_out_as_in_rich():
    # Words, runs of spaces, CJK, wide and zero-width characters, newlines and markup in
    # random cells: any column width or padding the fast path gets wrong shows here.
    alphabet = list("ab xy  Z9-[]/:") + list("隐患楼道１２，。") + [
        "\n", "🔥", "👩\u200d🚒", "\ufe0f", "\u0301", "\u200b", "é", "€", "─"]
    rng = random.Random(2026)
    rows = [tuple("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
                  for _ in range(3)) for _ in range(300)]
    table = TextTable("随机 random", ("左 left", "right", "[b]markup[/b]"),
                      ("left", "right", "left"), rows)
    assert_written_as_rich(table)


@pytest.mark.parametrize("cell", ["a\tb", "line\u2028separator", "para\u2029graph", "bell\x07"])
def test_text_rich_would_lay_out_otherwise_is_left_to_rich(cell):
    table = TextTable("t", ("a",), ("left",), [(cell,)])
    assert drawing(FILE(), table) is None
    assert written(table, FILE) == written(table.__rich__(), FILE)


def test_a_typed_tab_is_spaces_to_the_next_tab_stop_and_the_table_stays_fast():
    # rich measured a tab as no width, then expanded it: "住\t所" was "住 …" over two lines,
    # and one such description sent the whole report to rich's slow layout.
    report = Report("ledger", "Hazard ledger", "隐患排查治理台账",
                    (Column("description", "Description", "隐患描述"), Column("n", "N", "数", "int")),
                    [("住\t所", 1), ("abcdefgh\tX\nd\te", 2), ("\t缩进", 3)],
                    date(2026, 3, 31), "occurred")
    table = rich_table(report, "zh")
    assert [row[0] for row in table.rows] == [
        "住" + " " * 6 + "所", "abcdefgh" + " " * 8 + "X\nd" + " " * 7 + "e", " " * 8 + "缩进"]
    assert_as_rich(report)
    shown = render(report, "table", "en").decode("utf-8")
    assert "住      所" in shown and "…" not in shown and "\t" not in shown


def test_a_row_short_of_cells_is_left_to_rich():
    table = TextTable("t", ("a", "b"), ("left", "left"), [("x",)])
    assert drawing(FILE(), table) is None


def test_every_report_kind_is_written_as_rich_writes_it(cases, clock):
    RandomHistory(cases, clock, seed=11).run(150)
    filters = {"risk": [RiskFilter(view) for view in ("places", "communities", "changes")],
               "escalations": [EscalationsFilter(view=view) for view in ("cases", "board")],
               "accountability": [AccountabilityFilter()]}
    for name in ("ledger", "accountability", "audit", "risk", "stats", "escalations"):
        for f in filters.get(name, [None]):
            shown_report = read(cases, name, f)
            assert shown_report.rows, name
            assert_as_rich(shown_report)


# What rich printed for this report before the fast path (rich 15.0.0): the two paths
# agreeing could still both have moved.
BEFORE = (
    "        隐患排查治理台账 — 2026-03-31 (按发生时间)        ",
    "┏━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━┳━━━━━━━━━━━━━━━━━━━┓",
    "┃ 编号           ┃ 发现日期   ┃ 天数 ┃ 隐患描述          ┃",
    "┡━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━╇━━━━━━━━━━━━━━━━━━━┩",
    "│ HZ-2026-000001 │ 2026-03-02 │   12 │ 楼道飞线充电 [/b] │",
    "│ HZ-2026-000002 │            │      │ 第一行            │",
    "│                │            │      │ 第二行            │",
    "└────────────────┴────────────┴──────┴───────────────────┘",
    "",
)


def test_a_small_report_is_written_as_rich_wrote_it_before():
    columns = (COLUMNS[0], COLUMNS[1], COLUMNS[4], COLUMNS[7])
    rows = [("HZ-2026-000001", date(2026, 3, 2), 12, "楼道飞线充电 [/b]"),
            ("HZ-2026-000002", None, None, "第一行\n第二行")]
    assert render(report(rows, columns), "table", "zh").decode("utf-8") == "\n".join(BEFORE)
