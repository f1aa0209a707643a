"""Read endpoints: the case list and the reports, inside the caller's jurisdiction, now or
as of a past day, as JSON, CSV or XLSX."""

from __future__ import annotations

import csv
import io

import pytest

from tests import factories as f
from tests.api.conftest import Api, place_body
from tests.api.test_errors import assert_problem


@pytest.fixture
def three_cases(api: Api) -> Api:
    f.report(api.cases, 1)
    f.to_escalated(api.cases, 2)  # refused: escalated to fire by routing
    f.to_notified(api.cases, 3)
    return api


@pytest.mark.parametrize("who,total", [
    ("leader", 3), ("auditor", 3), ("grid_worker", 3), ("safety_officer", 3),
    ("department_officer", 1), ("department_officer-x", 0), ("grid_worker-x", 0),
    ("safety_officer-x", 0), ("leader-x", 0),
])
def test_case_list_holds_only_the_callers_jurisdiction(three_cases: Api, who: str,
                                                       total: int) -> None:
    page = three_cases.get("/api/cases", who)
    assert page.status_code == 200, page.text
    assert page.json()["total"] == total


def test_case_list_pages_and_filters(three_cases: Api) -> None:
    page = three_cases.get("/api/cases", "leader", limit=2, offset=1).json()
    assert (page["total"], len(page["items"]), page["offset"]) == (3, 2, 1)
    notified = three_cases.get("/api/cases", "leader", state="notified").json()
    assert [i["state"] for i in notified["items"]] == ["notified"]
    assert_problem(three_cases.get("/api/cases", "leader", limit=0), 422)


@pytest.mark.parametrize("path", ["/api/ledger", "/api/accountability", "/api/risk",
                                  "/api/stats"])
def test_reports_as_json(three_cases: Api, path: str) -> None:
    report = three_cases.get(path, "leader", lang="en")
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["rows"] and {c["key"] for c in body["columns"]} >= set(body["rows"][0])


def test_ledger_as_csv_and_xlsx(three_cases: Api) -> None:
    csv = three_cases.get("/api/ledger", "leader", format="csv", lang="en")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.lstrip("\ufeff").splitlines()[0].startswith("Case number") and len(
        csv.text.strip().splitlines()) == 4
    xlsx = three_cases.get("/api/ledger", "leader", format="xlsx")
    assert xlsx.content[:2] == b"PK" and "attachment" in xlsx.headers["content-disposition"]


def test_reports_are_scoped_and_dated(three_cases: Api) -> None:
    fire = three_cases.get("/api/ledger", "department_officer").json()
    assert [r["state"] for r in fire["rows"]] == ["escalated"]
    before = three_cases.get("/api/ledger", "leader", as_of="2026-03-01").json()
    assert (before["as_of"], before["rows"]) == ("2026-03-01", [])
    future = assert_problem(three_cases.get("/api/ledger", "leader", as_of="2099-01-01"), 422)
    assert "2099-01-01 is in the future" in future["detail"] and "--" not in future["detail"]
    assert_problem(three_cases.get("/api/ledger", "leader", format="pdf"), 422)
    # a state that does not exist is named, not answered with an empty ledger
    for path in ("/api/ledger", "/api/cases"):
        bad = assert_problem(three_cases.get(path, "leader", state="open"), 422)
        assert bad["detail"].startswith("unknown state 'open'; expected one of: found, ")
    rectifying = three_cases.get("/api/cases", "leader", state="rectifying")
    assert rectifying.status_code == 200, rectifying.text
    units = {r["unit"] for r in three_cases.get("/api/accountability", "grid_worker-x")
             .json()["rows"]}
    assert units <= {"YS-C01-G02"}


@pytest.mark.parametrize("who,streets", [
    ("street_supervisor", ["YS"]), ("leader", ["YS"]), ("auditor", ["YS"]), ("admin", ["YS"]),
    ("leader-x", []), ("safety_officer", []), ("grid_worker", []), ("department_officer", []),
])
def test_the_streets_accountability_row_is_shown_to_that_street(three_cases: Api, who: str,
                                                                 streets: list[str]) -> None:
    """The street's own row was keyed "all" and so lay in nobody's territory: a street
    supervisor asking for level=street got no rows, though `hazardflow report
    accountability` shows it. It is now the row of street YS, for YS's roles only."""
    rows = three_cases.get("/api/accountability", who, level="street").json()["rows"]
    assert [r["unit"] for r in rows] == streets
    if streets:
        community = three_cases.get("/api/accountability", who, level="community",
                                    unit="YS-C01").json()["rows"][0]
        assert rows[0]["actions"] == community["actions"] == 7


def test_a_grid_sees_the_risk_changes_of_its_own_places_only(three_cases: Api) -> None:
    """view=changes rows carried no grid, so they were taken for a per-community figure:
    a grid worker read every place of the community, with its case numbers, though each
    of those cases answers them 404."""
    other = three_cases.post("/api/cases", "grid_worker-x", {
        "place": place_body(4, grid="YS-C01-G02"), "category": "gas_safety",
        "description": "煤气罐放在楼道"})
    assert other.status_code == 201, other.text

    def places(who: str) -> set[str]:
        rows = three_cases.get("/api/risk", who, view="changes").json()["rows"]
        return {r["place_id"] for r in rows}

    assert places("grid_worker") == {"P-0001", "P-0002", "P-0003"}
    assert places("grid_worker-x") == {"P-0004"}
    assert places("safety_officer") == places("leader") == {"P-0001", "P-0002", "P-0003",
                                                            "P-0004"}


def test_a_department_is_named_in_chinese_in_the_unit_column(three_cases: Api) -> None:
    """In Chinese, accountability's 单位 column showed the fire department's code, "fire",
    on its department row and its officer's row, where the ledger and the board say 消防."""
    zh = three_cases.get("/api/accountability", "leader", format="csv").text.lstrip("\ufeff")
    units = {row[1] for row in csv.reader(io.StringIO(zh))}
    assert "消防" in units and "fire" not in units and "YS-C01-G01" in units
    en = three_cases.get("/api/accountability", "leader", lang="en").json()["rows"]
    assert "fire" in {r["unit"] for r in en}  # English and JSON keep the code


def test_a_departments_accountability_is_its_part_in_the_callers_street(three_cases: Api
                                                                        ) -> None:
    """The fire department serves streets YS and XS. Its accountability row (shown to
    every street's roles) summed its work in both: YS's leader read XS's waiting case in
    it, and XS's leader YS's acceptance."""
    xs = f.Place("P-0900", "出租屋", "rental_house", "某路", "XS-C01-G01", "XS-C01")
    case = three_cases.cases.report(f.grid_worker, place=xs, category="flying_wire_charging",
                                    severity="general", description="飞线充电").case_id
    three_cases.cases.notify(case, f.safety_officer, party=f.landlord)
    three_cases.cases.refuse(case, f.safety_officer, reason="拒不整改")  # to fire, not accepted

    def fire(who: str, **params: str) -> tuple[int, int]:
        answer = three_cases.get("/api/accountability", who, lang="en", level="department",
                                 **params)
        assert answer.status_code == 200, answer.text
        (row,) = answer.json()["rows"]
        return row["actions"], row["waiting"]

    assert fire("leader") == (1, 1)  # YS: case 2 accepted, waiting for a decision
    assert fire("leader-x") == (0, 1)  # XS: the new case, waiting for acceptance
    assert fire("department_officer") == (1, 2)  # the department's own view: every street
    assert fire("department_officer", street="XS") == (0, 1)
    assert fire("leader", street="YS") == (1, 1)
    refused = assert_problem(three_cases.get("/api/accountability", "leader", street="XS"),
                             403)
    assert refused["detail"] == "you may read the accountability of street YS, not XS"
