"""Renderers: headings in both languages, real dates in XLSX, no wall-clock bytes."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from domain.errors import DomainError
from projections import escalations, ledger, risk
from projections.render import render
from projections.report import Column, Report
from projections.reports import kinds, read
from tests.factories import report

REPORT = Report(
    "ledger", "Hazard ledger", "隐患排查治理台账",
    (Column("number", "Case number", "编号"), Column("found", "Found", "发现日期", "date"),
     Column("category", "Category", "隐患类别", vocab="category"),
     Column("overdue", "Overdue", "是否逾期", "bool"), Column("rate", "Rate", "整改率", "rate"),
     Column("description", "Description", "隐患描述")),
    [("HZ-2026-000001", date(2026, 3, 2), "flying_wire_charging", True, 0.5,
      "楼道内电动车飞线充电, 多辆电动车在楼梯间充电"),
     ("HZ-2026-000002", None, "gas_safety", False, None, "x")],
    date(2026, 3, 31), "occurred")


def test_csv_headings_and_values_in_chinese_and_english():
    zh = list(csv.reader(io.StringIO(render(REPORT, "csv", "zh").decode("utf-8-sig"))))
    en = list(csv.reader(io.StringIO(render(REPORT, "csv", "en").decode("utf-8-sig"))))
    assert zh[0] == ["编号", "发现日期", "隐患类别", "是否逾期", "整改率", "隐患描述"]
    assert zh[1][:5] == ["HZ-2026-000001", "2026-03-02", "飞线充电", "是", "50.0%"]
    assert en[0][:3] == ["Case number", "Found", "Category"]
    assert en[2][:5] == ["HZ-2026-000002", "", "gas_safety", "no", ""]


def test_csv_has_a_byte_order_mark_in_either_language():
    # English headings, Chinese places and descriptions: without the mark Excel reads the
    # UTF-8 as the local code page and shows mojibake
    for lang in ("zh", "en"):
        assert render(REPORT, "csv", lang).startswith(b"\xef\xbb\xbf")


def test_json_keeps_codes_and_iso_dates():
    document = json.loads(render(REPORT, "json", "zh"))
    assert document["as_of"] == "2026-03-31" and document["basis"] == "occurred"
    assert document["columns"][1] == {"key": "found", "label": "发现日期", "kind": "date"}
    assert document["rows"][0]["found"] == "2026-03-02"
    assert document["rows"][0]["category"] == "flying_wire_charging"


def test_xlsx_has_frozen_headings_real_dates_and_readable_widths(tmp_path):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(render(REPORT, "xlsx", "zh"))
    sheet = load_workbook(path).active
    assert [c.value for c in sheet[1]][:3] == ["编号", "发现日期", "隐患类别"]
    assert sheet.freeze_panes == "A2"
    assert sheet["B2"].value == datetime(2026, 3, 2) and sheet["B2"].number_format == "yyyy-mm-dd"
    assert sheet["E2"].value == 0.5 and sheet["E2"].number_format == "0.0%"
    assert sheet["C2"].value == "飞线充电"
    assert sheet.column_dimensions["F"].width > sheet.column_dimensions["A"].width >= 16
    english = load_workbook(io.BytesIO(render(REPORT, "xlsx", "en"))).active
    assert english["A1"].value == "Case number"


def test_xlsx_carries_no_wall_clock_time():
    content = render(REPORT, "xlsx", "en")
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    core = archive.read("docProps/core.xml").decode()
    assert "2026-03-31T00:00:00Z" in core
    assert render(REPORT, "xlsx", "en") == content


def test_unknown_format_or_language_is_a_domain_error():
    with pytest.raises(DomainError, match="format"):
        render(REPORT, "pdf", "zh")
    with pytest.raises(DomainError, match="language"):
        render(REPORT, "csv", "fr")


def test_the_fast_local_day_agrees_with_the_time_zone():
    from datetime import timedelta

    from domain.timeutil import iso
    from projections.report import local_day, local_day_text

    start = datetime(2025, 12, 31, 15, 0, tzinfo=UTC)
    for minutes in range(0, 3 * 24 * 60, 17):
        instant = iso(start + timedelta(minutes=minutes))
        assert local_day_text(instant) == local_day(instant).isoformat()
    assert local_day_text("2026-03-01T20:00:00+08:00") == "2026-03-01"


def test_enforcement_measures_are_labelled_in_chinese_and_codes_kept_in_english():
    column = next(c for c in ledger.COLUMNS if c.key == "enforcement")
    summary = "fine 深龙FI罚〔2026〕12号 500.00; seal_up 深龙FI封 3号"
    report = Report("ledger", "Hazard ledger", "隐患排查治理台账", (column,),
                    [(summary,), ("warning",), (None,)], date(2026, 3, 31), "recorded")
    zh = list(csv.reader(io.StringIO(render(report, "csv", "zh").decode("utf-8-sig"))))
    en = list(csv.reader(io.StringIO(render(report, "csv", "en").decode("utf-8"))))
    assert [row[0] for row in zh[1:]] == ["罚款 深龙FI罚〔2026〕12号 500.00; 查封 深龙FI封 3号",
                                          "警告", ""]
    assert [row[0] for row in en[1:]] == [summary, "warning", ""]


# Text as typed by citizens and owners, kept for ever in the log: in every format it is shown,
# never acted on (a formula, rich markup, a terminal escape) and never stops the export.
HOSTILE = ['=HYPERLINK("http://evil.example","点我")', "[/bold] 楼道 [red]x[/red]",
           "清屏\x1b[2J响铃\x07回车\r覆盖", "-1+1", "@SUM(A1)"]
TYPED = Report("ledger", "Hazard ledger", "隐患排查治理台账",
               (Column("description", "Description", "隐患描述"), Column("n", "N", "数", "int")),
               [(value, -1) for value in HOSTILE], date(2026, 3, 31), "occurred")


def test_xlsx_cells_hold_typed_text_as_text_never_as_a_formula_or_a_failure():
    sheet = load_workbook(io.BytesIO(render(TYPED, "xlsx", "en"))).active
    cells = [sheet.cell(row=n, column=1) for n in range(2, 2 + len(HOSTILE))]
    assert {c.data_type for c in cells} == {"s"}
    assert cells[0].value == HOSTILE[0] and cells[1].value == HOSTILE[1]
    assert cells[2].value == "清屏␛[2J响铃␇回车␍覆盖"  # control pictures: visible, legal XML
    assert sheet.cell(row=2, column=2).value == -1  # numbers stay numbers


def test_csv_cells_that_excel_would_run_get_a_leading_apostrophe():
    rows = list(csv.reader(io.StringIO(render(TYPED, "csv", "en").decode("utf-8"))))[1:]
    assert [r[0] for r in rows] == [
        "'" + HOSTILE[0], HOSTILE[1], HOSTILE[2], "'-1+1", "'@SUM(A1)"]
    assert {r[1] for r in rows} == {"-1"}  # a number column is not text: left alone


def test_the_terminal_table_shows_markup_as_typed_and_escapes_as_symbols():
    shown = render(TYPED, "table", "en").decode("utf-8")
    assert "[/bold] 楼道 [red]x[/red]" in shown
    assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown
    assert "清屏␛[2J响铃␇回车␍覆盖" in shown


def test_a_line_break_sent_by_a_web_form_is_a_line_break_and_a_lone_cr_stays_visible():
    # A browser sends a textarea's line breaks as CRLF, and the log keeps them as typed:
    # shown as ␍ at the end of every line of the description before.
    report = Report("ledger", "Hazard ledger", "隐患排查治理台账",
                    (Column("description", "Description", "隐患描述"),),
                    [("楼道堆物\r\n电动车飞线充电",), ("回车\r覆盖",)], date(2026, 3, 31),
                    "occurred")
    shown = render(report, "table", "en").decode("utf-8")
    assert shown.count("␍") == 1  # the lone CR, which would overwrite its line
    lines = [line for line in shown.splitlines() if "楼道堆物" in line or "电动车" in line]
    assert len(lines) == 2 and "电动车" not in lines[0]
    sheet = load_workbook(io.BytesIO(render(report, "xlsx", "en"))).active
    assert sheet.cell(row=2, column=1).value == "楼道堆物\n电动车飞线充电"
    assert sheet.cell(row=3, column=1).value == "回车␍覆盖"
    rows = list(csv.reader(io.StringIO(render(report, "csv", "en").decode("utf-8"), newline="")))
    assert rows[1] == ["楼道堆物\r\n电动车飞线充电"]  # CSV keeps the text as typed


def test_xlsx_never_walks_the_sheet_once_per_row(monkeypatch):
    # Each row asked openpyxl for the sheet's last row, a walk over every cell so far: a
    # 3,000-case ledger took 9 s, the 16,507-event audit trail of that store 4 min 21 s,
    # a year's would take hours (and hold an HTTP worker all along). Counted, not timed:
    # the sheet's extent is looked up a fixed number of times, whatever the rows.
    from openpyxl.worksheet.worksheet import Worksheet

    walks = []
    extent = Worksheet.max_row
    monkeypatch.setattr(Worksheet, "max_row", property(
        lambda sheet: walks.append(1) or extent.fget(sheet)))
    columns = (Column("n", "N", "序号", "int"), Column("text", "Text", "内容"),
               Column("day", "Day", "日期", "date"))
    rows = [(i, f"=row {i}", date(2026, 3, 2)) for i in range(2_000)]
    content = render(Report("audit", "Audit", "审计", columns, rows, date(2026, 3, 2)),
                     "xlsx", "en")
    assert len(walks) < 10
    monkeypatch.undo()
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.max_row == 2_001 and sheet["B2001"].value == "=row 1999"
    assert sheet["B2001"].data_type == "s" and sheet["C2"].number_format == "yyyy-mm-dd"


def test_xlsx_past_a_sheets_rows_is_refused_not_a_broken_file(monkeypatch):
    # openpyxl writes rows past Excel's 1,048,576 without a word: Excel then calls the file
    # damaged and drops the rest.
    from projections import render as renderer

    monkeypatch.setattr(renderer, "XLSX_MAX_ROWS", 3)  # the heading and two rows
    columns = (Column("n", "N", "序号", "int"),)
    two = Report("audit", "Audit", "审计", columns, [(1,), (2,)], date(2026, 3, 2))
    assert load_workbook(io.BytesIO(render(two, "xlsx", "en"))).active.max_row == 3
    three = Report("audit", "Audit", "审计", columns, [(1,), (2,), (3,)], date(2026, 3, 2))
    with pytest.raises(DomainError, match="3 rows; an XLSX sheet holds at most 2"):
        render(three, "xlsx", "en")


def test_every_reports_sheet_is_named_by_its_title_or_a_tidy_short_one(cases):
    # Cut to Excel's 31 characters, the statistics sheet was "Statistics by month,
    # community " (a trailing space, the category gone).
    filters = [(name, None) for name in kinds()]
    filters += [("risk", risk.RiskFilter(view=v)) for v in risk.VIEWS]
    filters += [("escalations", escalations.EscalationsFilter(view=v))
                for v in escalations.VIEWS]
    titles = {}
    for name, wanted in filters:
        report = read(cases, name, wanted)
        for lang in ("zh", "en"):
            sheet = load_workbook(io.BytesIO(render(report, "xlsx", lang))).active.title
            titles[(name, getattr(wanted, "view", None), lang)] = (report.title(lang), sheet)
    untidy = {k: sheet for k, (_, sheet) in titles.items()
              if len(sheet) > 31 or sheet != sheet.strip()}
    assert untidy == {}
    assert {k: sheet for k, (title, sheet) in titles.items() if title != sheet} == {
        ("stats", None, "en"): "Statistics by month"}  # its title has 44 characters


def test_the_audit_trails_times_are_date_time_cells_in_utc_in_xlsx(cases):
    # They were text cells ("2026-03-02T01:00:00.000000+00:00"), which Excel neither sorts
    # by time nor reads as dates.
    report(cases, 1)
    audit = read(cases, "audit")
    occurred, recorded = audit.rows[0][8], audit.rows[0][9]
    first = datetime.fromisoformat(occurred)
    assert first.utcoffset().total_seconds() == 0  # stored, and shown in a table, in UTC
    for lang in ("zh", "en"):
        sheet = load_workbook(io.BytesIO(render(audit, "xlsx", lang))).active
        cells = sheet["I2"], sheet["J2"]
        assert [c.value for c in cells] == [
            datetime.fromisoformat(t).replace(tzinfo=None) for t in (occurred, recorded)]
        assert {c.number_format for c in cells} == {"yyyy-mm-dd hh:mm:ss"}
        assert sheet.column_dimensions["I"].width < 30  # the time as shown, not the text
    assert render(audit, "xlsx", "zh") == render(audit, "xlsx", "zh")
    # Table, CSV and JSON keep the instant as stored.
    rows = list(csv.reader(io.StringIO(render(audit, "csv", "en").decode("utf-8-sig"))))
    assert rows[0][8:10] == ["Occurred at (UTC)", "Recorded at (UTC)"]
    assert rows[1][8:10] == [occurred, recorded]
    assert json.loads(render(audit, "json", "en"))["rows"][0]["occurred_at"] == occurred
