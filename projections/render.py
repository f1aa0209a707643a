"""Reports out: a terminal table, CSV, XLSX or JSON, with Chinese or English headings.

Output depends only on the report (its rows, ``as_of`` and basis), never on the wall
clock, so the same report renders to the same bytes every time. XLSX needs care for that:
openpyxl stamps the workbook and every zip entry with the current time, so both are fixed.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any, cast
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from rich.measure import Measurement
from rich.table import Table

from domain.errors import DomainError
from domain.timeutil import LOCAL_TZ
from projections.display import not_a_formula, on_terminal, visible
from projections.report import Column, Report
from projections.texttable import NATURAL_LIMIT, TextTable, drawing
from projections.vocab import label

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet
    from rich.console import Console

FORMATS = ("table", "csv", "xlsx", "json")
LANGS = ("zh", "en")
BOOL = {"zh": ("是", "否"), "en": ("yes", "no")}
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
XLSX_MAX_ROWS = 1_048_576  # a worksheet's rows in Excel, the heading's included
NUMBER_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss",
                  "local_datetime": "yyyy-mm-dd hh:mm:ss", "rate": "0.0%"}


def text(column: Column, value: Any, lang: str) -> str:
    """A value as text for a table or CSV cell."""
    if value is None:
        return ""
    if column.kind == "bool":
        return BOOL[lang][0 if value else 1]
    if column.kind == "rate":
        return f"{value * 100:.1f}%"
    if column.kind == "float":
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):  # counts by code, e.g. actions by trigger
        return ", ".join(f"{label(column.vocab or '', k, lang)} {n}" for k, n in value.items())
    if column.vocab:
        return label(column.vocab, str(value), lang)
    return str(value)


def render(report: Report, fmt: str, lang: str) -> bytes:
    """``report`` in ``fmt`` (table, csv, xlsx, json) with ``lang`` (zh, en) headings."""
    if fmt not in FORMATS:
        raise DomainError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise DomainError(f"unknown language {lang!r}; expected one of: {', '.join(LANGS)}")
    return {"table": _table_text, "csv": _csv, "xlsx": _xlsx, "json": _json}[fmt](report, lang)


def rich_table(report: Report, lang: str) -> TextTable:
    """``report`` as a terminal table: rich's, written fast by ``print_table``."""
    basis = report.basis if lang == "en" else {"recorded": "按记录时间", "occurred": "按发生时间",
                                               "current": "当前"}.get(report.basis, report.basis)
    return TextTable(
        f"{report.title(lang)} — {report.as_of.isoformat()} ({basis})",
        tuple(column.heading(lang) for column in report.columns),
        tuple("right" if column.kind in ("int", "float", "rate") else "left"
              for column in report.columns),
        [tuple(on_terminal(text(c, v, lang)) for c, v in zip(report.columns, row))
         for row in report.rows])


def print_table(table: Table | TextTable, file: Any = None, terminal: bool | None = None) -> None:
    """Print ``table`` no narrower than its natural width (see ``show``)."""
    from rich.console import Console

    show(Console(file=file, force_terminal=terminal, color_system=None if file else "auto"),
         table)


def show(console: Console, table: Table | TextTable) -> None:
    """Print ``table`` on ``console`` no narrower than its natural width.

    A report is a wide sheet (the ledger has 24 columns): squeezed into an 80-column terminal
    every cell becomes "…". At its natural width the terminal wraps lines instead, or the
    reader scrolls it with ``less -S``; nothing is cut off. A ``TextTable`` is written by
    ``projections.texttable`` where it can be, as rich would write it, else by rich.
    """
    if isinstance(table, TextTable):
        drawn = drawing(console, table)
        if drawn is not None:
            console.width = max(console.width, drawn.width)
            # Not cropped: no line is wider than the console, and cropping would measure
            # every line again.
            console.print(drawn, crop=False)
            return
        table = table.__rich__()
    natural = Measurement.get(console, console.options.update_width(NATURAL_LIMIT),
                              table).maximum
    console.width = max(console.width, natural)
    console.print(table)


def _table_text(report: Report, lang: str) -> bytes:
    out = io.StringIO()
    print_table(rich_table(report, lang), file=out, terminal=False)
    return out.getvalue().encode("utf-8")


def _csv(report: Report, lang: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.heading(lang) for c in report.columns])
    for row in report.rows:
        writer.writerow([_csv_cell(c, v, lang) for c, v in zip(report.columns, row)])
    # Excel opens UTF-8 Chinese correctly only with a byte-order mark; English headings
    # still head Chinese places, names and descriptions.
    return out.getvalue().encode("utf-8-sig")


def _csv_cell(column: Column, value: Any, lang: str) -> str:
    shown = text(column, value, lang)
    return not_a_formula(shown) if column.kind == "text" else shown


def _json(report: Report, lang: str) -> bytes:
    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, date) else value

    document = {
        "report": report.name, "title": report.title(lang), "as_of": report.as_of.isoformat(),
        "basis": report.basis, **report.meta,
        "columns": [{"key": c.key, "label": c.heading(lang), "kind": c.kind}
                    for c in report.columns],
        "rows": [{c.key: plain(v) for c, v in zip(report.columns, row)} for row in report.rows],
    }
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


class _FixedTimeZip(ZipFile):
    """A zip whose entries carry a fixed timestamp, so equal content gives equal bytes."""

    def writestr(self, name: Any, data: Any, compress_type: Any = None,
                 compresslevel: Any = None) -> None:
        if not isinstance(name, ZipInfo):
            name = ZipInfo(name, date_time=ZIP_EPOCH)
            name.compress_type = ZIP_DEFLATED
        super().writestr(name, data, compress_type, compresslevel)

    def write(self, filename: Any, arcname: Any = None, compress_type: Any = None,
              compresslevel: Any = None) -> None:
        # openpyxl writes worksheets to a temporary file first: its mtime would leak in.
        with open(filename, "rb") as source:
            self.writestr(arcname or filename, source.read())


def _xlsx(report: Report, lang: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    if len(report.rows) >= XLSX_MAX_ROWS:
        raise DomainError(
            f"the {report.name} report has {len(report.rows):,} rows; an XLSX sheet holds at "
            f"most {XLSX_MAX_ROWS - 1:,} below its headings: narrow it or use csv")
    book = Workbook()
    sheet = cast("Worksheet", book.active)  # a new workbook's one sheet, never None
    sheet.title = report.sheet(lang)
    sheet.append([c.heading(lang) for c in report.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, row in enumerate(report.rows, start=2):
        values = [_cell(c, v, lang) for c, v in zip(report.columns, row)]
        sheet.append(values)
        for index, value in enumerate(values, start=1):
            # openpyxl takes text beginning with "=" for a formula. (The cell by its
            # coordinates: asking the sheet for its last row walks every cell.)
            if isinstance(value, str) and value.startswith("="):
                sheet.cell(row=number, column=index).data_type = "s"
    for index, column in enumerate(report.columns, start=1):
        letter = get_column_letter(index)
        if column.kind in NUMBER_FORMATS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = NUMBER_FORMATS[column.kind]
        if column.kind in ("datetime", "local_datetime"):  # shown as its number format
            widest = max(_width(column.heading(lang)), len(NUMBER_FORMATS[column.kind]))
        else:
            widest = max([_width(column.heading(lang))] + [
                _width(text(column, row[index - 1], lang)) for row in report.rows[:2000]])
        sheet.column_dimensions[letter].width = min(60, max(8, widest + 2))
    sheet.freeze_panes = "A2"
    if report.rows:
        sheet.auto_filter.ref = sheet.dimensions
    # The report's own date stands for "created": no wall-clock time in the file.
    stamp = datetime.combine(report.as_of, time(0))
    book.properties.created = book.properties.modified = stamp
    book.properties.creator = book.properties.lastModifiedBy = "hazardflow"
    book.properties.title = f"{report.title(lang)} {report.as_of.isoformat()} {report.basis}"
    out = io.BytesIO()
    ExcelWriter(book, _FixedTimeZip(out, "w", ZIP_DEFLATED, allowZip64=True)).save()
    return out.getvalue()


def _cell(column: Column, value: Any, lang: str) -> Any:
    if value is None:
        return None
    if column.kind == "date":
        return value  # a real date cell, formatted yyyy-mm-dd
    if column.kind == "datetime":
        # Excel's date-times carry no zone: the instant in UTC, as the heading and the
        # table and CSV give it (a float of the instant alone, so the same bytes each time).
        return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
    if column.kind == "local_datetime":  # China time, as the table and CSV give it
        return datetime.fromisoformat(value).astimezone(LOCAL_TZ).replace(tzinfo=None)
    if column.kind in ("int", "float", "rate"):
        return value
    return visible(text(column, value, lang))


def _width(value: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in value)
