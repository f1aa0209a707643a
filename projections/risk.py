"""Risk grades per place (红黄绿分级): red, yellow or green, and every change of grade.

- red: an open major hazard, or an open case that was refused or escalated (this cycle);
- yellow: any other open hazard;
- green: no open hazard.

Each place keeps three counts of its open cases (all, major, refused/escalated), so an event
changes a grade in constant time. A change is recorded with the time the event occurred.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.case import top_state
from domain.errors import DomainError
from projections.db import Db
from projections.framework import Page, Projection, Table
from projections.report import Column, Named, Report, local_day, where

CASES, PLACES, CHANGES = "risk_cases", "risk_places", "risk_changes"
GRADES = ("red", "yellow", "green")
VIEWS = ("places", "communities", "changes")


def grade(open_cases: int, open_major: int, open_flagged: int) -> str:
    if open_major or open_flagged:
        return "red"
    return "yellow" if open_cases else "green"


class RiskGrades(Projection):
    name = "risk"
    # 2: the changes name the case by its number; 3: a place is described by its latest
    # report; 4: a change keeps the community and grid the place was in then (a place moved
    # since, its open cases with it, would relabel its past)
    version = 4
    tables = (
        Table(CASES, (("case_id", "TEXT"), ("number", "TEXT"), ("place_id", "TEXT"),
                      ("is_open", "INTEGER"), ("major", "INTEGER"), ("flagged", "INTEGER")),
              key=("case_id",), by_case=True),
        Table(PLACES, (("place_id", "TEXT"), ("place_name", "TEXT"), ("place_kind", "TEXT"),
                       ("community", "TEXT"), ("grid", "TEXT"), ("open_cases", "INTEGER"),
                       ("open_major", "INTEGER"), ("open_flagged", "INTEGER"),
                       ("grade", "TEXT"), ("since", "TEXT")),
              key=("place_id",), indexes=(("community",),)),
        Table(CHANGES, (("seq", "BIGINT"), ("place_id", "TEXT"), ("changed_at", "TEXT"),
                        ("from_grade", "TEXT"), ("to_grade", "TEXT"), ("case_id", "TEXT"),
                        ("number", "TEXT"), ("trigger_name", "TEXT"), ("community", "TEXT"),
                        ("grid", "TEXT")),
              key=("seq",), kind="append", indexes=(("place_id",),)),
    )

    def handles(self, event: Any) -> bool:
        return True  # any event may open or close a case

    def prefetch(self, events: Sequence[Any], page: Page) -> None:
        super().prefetch(events, page)
        places = {e.place["id"] for e in events if type(e).__name__ == "Reported"}
        for case_id in set(page.case_ids):
            known = page.get(CASES, case_id)
            if known:
                places.add(known["place_id"])
        page.load(self.table(PLACES), places)

    def apply(self, event: Any, page: Page) -> None:
        case_id = page.case_id
        kind = type(event).__name__
        case: dict[str, Any] | None
        if kind == "Reported":
            case = {"case_id": case_id, "number": event.number, "place_id": event.place["id"],
                    "is_open": 0, "major": int(event.severity == "major"), "flagged": 0}
            self._ensure_place(event.place, page)
        else:
            case = page.get(CASES, case_id)
            if case is None:
                return
            if kind == "PlaceMoved":
                self._regrid(event.place, page)
                return
        before = (case["is_open"], case["major"], case["flagged"])
        is_open = int(top_state(event.state) != "closed")
        flagged = case["flagged"]
        if kind in ("RectificationRefused", "CaseEscalated"):
            flagged = 1
        elif kind == "CaseReopened":
            flagged = 0
        after = (is_open, case["major"], flagged)
        if after != before or kind == "Reported":
            case["is_open"], case["flagged"] = is_open, flagged
            page.put(CASES, case)
            self._move(page, case, before, after, event)

    @staticmethod
    def _ensure_place(place: dict[str, str], page: Page) -> None:
        """The place as its latest report gives it: a place moved to another grid
        (``hazardflow places move``) with no open case is graded in that grid from its
        next report on (with one, from the move: ``_regrid``)."""
        described = {"place_name": place["name"], "place_kind": place["kind"],
                     "community": place["community"], "grid": place["grid"]}
        known = page.get(PLACES, place["id"])
        if known is None:
            page.put(PLACES, {"place_id": place["id"], **described, "open_cases": 0,
                              "open_major": 0, "open_flagged": 0, "grade": "green",
                              "since": None})
        elif any(known[key] != value for key, value in described.items()):
            page.put(PLACES, {**known, **described})

    @staticmethod
    def _regrid(place: dict[str, str], page: Page) -> None:
        """The place moved (by an admin) with an open case: graded in its new grid now."""
        known = page.get(PLACES, place["id"])
        moved = {"place_kind": place["kind"], "community": place["community"],
                 "grid": place["grid"]}
        if known is not None and any(known[key] != value for key, value in moved.items()):
            page.put(PLACES, {**known, **moved})

    @staticmethod
    def _move(page: Page, case: dict[str, Any], before: tuple[int, int, int],
              after: tuple[int, int, int], event: Any) -> None:
        place_id = case["place_id"]
        place = page.get(PLACES, place_id)
        assert place is not None
        for state, sign in ((before, -1), (after, 1)):
            is_open, major, flagged = state
            if is_open:
                place["open_cases"] += sign
                place["open_major"] += sign * major
                place["open_flagged"] += sign * flagged
        new = grade(place["open_cases"], place["open_major"], place["open_flagged"])
        if new != place["grade"] or place["since"] is None:
            page.append(CHANGES, {"seq": page.seq, "place_id": place_id,
                                  "changed_at": event.occurred_at, "from_grade": place["grade"],
                                  "to_grade": new, "case_id": case["case_id"],
                                  "number": case["number"], "trigger_name": event.trigger,
                                  "community": place["community"], "grid": place["grid"]})
            place["grade"], place["since"] = new, event.occurred_at
        page.put(PLACES, place)


# -- reading ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RiskFilter:
    """``view``: places (one row per place), communities (counts), changes (history)."""

    view: str = "places"
    community: str | None = None
    grade: str | None = None
    place: str | None = None

    def __post_init__(self) -> None:
        if self.view not in VIEWS:
            raise DomainError(f"risk view must be {', '.join(VIEWS)}, not {self.view!r}")
        if self.grade and self.grade not in GRADES:
            raise DomainError(f"grade must be {', '.join(GRADES)}, not {self.grade!r}")

    def units(self) -> Named:
        return (("community", self.community), ("place", self.place))


PLACE_COLUMNS = (
    Column("place_id", "Place id", "场所编号"),
    Column("place", "Place", "场所"),
    Column("place_kind", "Place kind", "场所类型", vocab="place_kind"),
    Column("community", "Community", "社区"),
    Column("grid", "Grid", "网格"),
    Column("grade", "Grade", "风险等级", vocab="grade"),
    Column("since", "Since", "评定日期", "date"),
    Column("open_cases", "Open hazards", "未销号隐患", "int"),
    Column("open_major", "Open major", "其中重大", "int"),
    Column("open_flagged", "Refused/escalated", "拒改/移交", "int"),
)
COMMUNITY_COLUMNS = (
    Column("community", "Community", "社区"),
    Column("red", "Red", "红", "int"),
    Column("yellow", "Yellow", "黄", "int"),
    Column("green", "Green", "绿", "int"),
    Column("places", "Places", "场所数", "int"),
)
CHANGE_COLUMNS = (
    Column("changed_on", "Changed", "变更日期", "date"),
    Column("place_id", "Place id", "场所编号"),
    Column("place", "Place", "场所"),
    Column("community", "Community", "社区"),
    Column("grid", "Grid", "网格"),
    Column("from_grade", "From", "原等级", vocab="grade"),
    Column("to_grade", "To", "新等级", vocab="grade"),
    Column("number", "Because of case", "相关案件"),
    Column("trigger", "Action", "操作", vocab="trigger"),
)


def query(db: Db, filters: RiskFilter | None = None, *, as_of: date,
          basis: str = "recorded") -> Report:
    f = filters or RiskFilter()
    clause, params = where(("p.community = ?", f.community), ("p.grade = ?", f.grade),
                           ("p.place_id = ?", f.place))
    rows: list[tuple[Any, ...]]
    columns: tuple[Column, ...]
    with db.transaction() as tx:
        if f.view == "places":
            rows = [(pid, name, kind, community, grid, g, local_day(since), n, major, flagged)
                    for pid, name, kind, community, grid, g, since, n, major, flagged
                    in tx.execute(
                        "SELECT place_id, place_name, place_kind, community, grid, grade, "
                        "since, open_cases, open_major, open_flagged FROM risk_places p "
                        f"WHERE {clause} ORDER BY community, grid, place_id", params)]
            columns = PLACE_COLUMNS
        elif f.view == "communities":
            counts: dict[str, dict[str, int]] = {}
            for community, g, n in tx.execute(
                    f"SELECT community, grade, COUNT(*) FROM risk_places p WHERE {clause} "
                    "GROUP BY community, grade", params):
                counts.setdefault(community, dict.fromkeys(GRADES, 0))[g] = int(n)
            rows = [(c, v["red"], v["yellow"], v["green"], sum(v.values()))
                    for c, v in sorted(counts.items())]
            columns = COMMUNITY_COLUMNS
        elif f.view == "changes":
            # where the place was when its grade changed, as the ledger keeps a case's past
            clause, params = where(("c.community = ?", f.community), ("p.grade = ?", f.grade),
                                   ("c.place_id = ?", f.place))
            rows = [(local_day(at), pid, name, community, grid, old, new, number, trigger)
                    for at, pid, name, community, grid, old, new, number, trigger
                    in tx.execute(
                        "SELECT c.changed_at, c.place_id, p.place_name, c.community, c.grid, "
                        "c.from_grade, c.to_grade, c.number, c.trigger_name "
                        "FROM risk_changes c JOIN risk_places p ON p.place_id = c.place_id "
                        f"WHERE {clause} ORDER BY c.place_id, c.changed_at, c.seq", params)]
            columns = CHANGE_COLUMNS
        else:  # RiskFilter allows no other view
            raise AssertionError(f.view)
    return Report("risk", f"Risk grades ({f.view})", f"风险分级({_VIEW_ZH[f.view]})",
                  columns, rows, as_of, basis)


_VIEW_ZH = {"places": "场所", "communities": "社区汇总", "changes": "变更记录"}
