"""A report filter naming a unit the system does not know is refused, naming it: an empty
report would read as "no hazards there". Known: every unit an account holds or held, every
grid and community a case was reported in (with the units they lie in), the departments;
people are account names and whoever acted on a case; cases are the store's. A grid named
with a community must lie in it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from eventsourcing.utils import get_topic

from api.accounts import Account, Accounts
from domain.errors import DomainError
from projections import holders
from projections.accountability import AccountabilityFilter
from projections.audit import AuditFilter
from projections.escalations import EscalationsFilter
from projections.ledger import LedgerFilter
from projections.reports import read
from projections.risk import RiskFilter
from projections.stats import StatsFilter
from projections.units import ACCOUNT_TOPICS
from tests import factories as f
from tests.api.conftest import make_api
from tests.conftest import START

DAY1 = START.date()


def test_the_account_topics_are_the_account_classes():
    assert ACCOUNT_TOPICS == (get_topic(Account.Registered), get_topic(Account.Changed))
    assert (holders.REGISTERED, holders.CHANGED, holders.REVOKED, holders.REISSUED) == tuple(
        get_topic(c) for c in (Account.Registered, Account.Changed, Account.Revoked,
                               Account.Reissued))


@pytest.mark.parametrize("name, filters, message", [
    ("ledger", LedgerFilter(community="YS-C99"), "unknown community 'YS-C99'"),
    ("ledger", LedgerFilter(grid="YS-C01-G99"), "unknown grid 'YS-C01-G99'"),
    ("ledger", LedgerFilter(community="YS-C01-G01"), "'YS-C01-G01' is a grid, not a community"),
    ("ledger", LedgerFilter(grid="YS-C01"), "'YS-C01' is a community, not a grid"),
    ("accountability", AccountabilityFilter(level="grid", unit="YS-C01"),
     "'YS-C01' is a community, not a grid"),
    ("accountability", AccountabilityFilter(level="department", unit="YS"),
     "'YS' is a street, not a department"),
    ("accountability", AccountabilityFilter(level="community", unit="YS-C99"),
     "unknown community 'YS-C99'"),
    ("ledger", LedgerFilter(community="ys-c01"), "did you mean YS-C01?"),
    ("risk", RiskFilter(community="YS-C99"), "unknown community 'YS-C99'"),
    ("risk", RiskFilter(place="P-0999"), "unknown place 'P-0999': no case was reported at it"),
    ("risk", RiskFilter(view="changes", place="p-0001"), "unknown place 'p-0001'"),
    ("stats", StatsFilter(community="YS-C99"), "unknown community 'YS-C99'"),
    ("accountability", AccountabilityFilter(unit="YS-C99"), "unknown unit or person 'YS-C99'"),
    ("accountability", AccountabilityFilter(street="ZS"), "unknown street 'ZS'"),
    ("escalations", EscalationsFilter(community="YS-C99"), "unknown community 'YS-C99'"),
    ("escalations", EscalationsFilter(department="fir"), "unknown department 'fir'"),
    ("audit", AuditFilter(actor="wang"), "unknown actor 'wang': no account has that name"),
    ("audit", AuditFilter(actor="gw-lii"), "did you mean gw-li?"),  # who reported it
    ("audit", AuditFilter(case="HZ-2026-999999"),
     "unknown case 'HZ-2026-999999': no case has that number or id"),
    ("audit", AuditFilter(case="0b4e7c1a-2f6d-4c35-9a4e-8d2f5b6c7e10"), "unknown case '0b4e"),
    ("accountability", AccountabilityFilter(unit="gw-lii"), "did you mean gw-li?"),
])
def test_an_unknown_unit_is_refused_naming_it(cases, clock, name, filters, message):
    f.report(cases, 1)  # in YS-C01-G01
    with pytest.raises(DomainError, match=message):
        read(cases, name, filters)
    clock.set(START + timedelta(days=3))
    with pytest.raises(DomainError, match=message):  # as of a past date too
        read(cases, name, filters, as_of=DAY1)


def test_a_known_unit_without_rows_is_answered_empty(cases, clock):
    f.report(cases, 1)
    accounts = Accounts(cases)
    accounts.add("wang", "grid_worker", "YS-C02-G03")  # a grid with no case yet
    accounts.add("zhao", "grid_worker", "YS-C03-G01")
    accounts.change("zhao", unit="YS-C03-G02")  # YS-C03-G01 is held by nobody now
    accounts.add("qian", "safety_officer", "YS-C04")
    accounts.revoke("qian")  # a revoked account's unit stays known
    clock.set(START + timedelta(days=3))
    cases.report(f.grid_worker, place=f.Place("P-0900", "出租屋", "rental_house", "某路",
                                              "YS-C05-G01", "YS-C05"),
                 category="gas_safety", severity="general", description="燃气")
    wanted = [("ledger", LedgerFilter(grid="YS-C02-G03")),
              ("ledger", LedgerFilter(community="YS-C02")),  # the community of a grid's
              ("ledger", LedgerFilter(grid="YS-C03-G01")),
              ("ledger", LedgerFilter(community="YS-C01", severity="major")),
              ("risk", RiskFilter(community="YS-C04")),
              ("risk", RiskFilter(place="P-0001", grade="red")),  # known, not red
              ("stats", StatsFilter(community="YS-C02")),
              ("accountability", AccountabilityFilter(unit="zhao")),  # a person, no action
              ("accountability", AccountabilityFilter(unit="housing")),
              ("escalations", EscalationsFilter(street="YS", department="housing"))]
    for name, filters in wanted:
        assert read(cases, name, filters).rows == [], (name, filters)
        assert read(cases, name, filters, as_of=DAY1).rows == [], (name, filters)
    # A grid first reported in after the day asked for is known: nothing there that day.
    assert read(cases, "ledger", LedgerFilter(grid="YS-C05-G01"), as_of=DAY1).rows == []
    assert len(read(cases, "ledger", LedgerFilter(grid="YS-C05-G01")).rows) == 1
    assert read(cases, "risk", RiskFilter(place="P-0900"), as_of=DAY1).rows == []  # likewise


def test_over_http_an_unknown_unit_is_a_422_naming_it(cases):
    for api in make_api(cases):
        api.report(1)
        for path, params in (("/api/ledger", {"community": "YS-C99"}),
                             ("/api/cases", {"grid": "YS-C01-G99"}),
                             ("/api/risk", {"community": "YS-C99"}),
                             ("/api/risk", {"place": "P-0999"}),
                             ("/api/stats", {"community": "YS-C99"}),
                             ("/api/accountability", {"unit": "YS-C99"})):
            response = api.get(path, "street_supervisor", **params)
            assert response.status_code == 422, (path, response.text)
            assert "unknown" in response.json()["detail"] and (
                next(iter(params.values())) in response.json()["detail"])
        # A unit with an account and no case (the other community's officer's) is answered.
        response = api.get("/api/ledger", "street_supervisor", community="YS-C02")
        assert response.status_code == 200 and response.json()["rows"] == []


def test_an_actor_or_case_is_refused_only_when_nobody_knows_it(cases, clock):
    case = f.report(cases, 1)  # by gw-li, who has no account (as the demo's people)
    Accounts(cases).add("wang", "grid_worker", "YS-C02-G03")  # an account that never acted
    clock.set(START + timedelta(days=3))
    later = DAY1 + timedelta(days=2)
    number = cases.get_case(case).number
    wanted = [AuditFilter(actor="gw-li", since=later), AuditFilter(actor="wang"),
              AuditFilter(actor=f.grid_worker.id, case=number, since=later),
              AuditFilter(case=number.lower(), since=later), AuditFilter(case=str(case),
                                                                         since=later)]
    for filters in wanted:
        assert read(cases, "audit", filters).rows == [], filters
        assert read(cases, "audit", filters, as_of=later).rows == [], filters
    assert read(cases, "accountability", AccountabilityFilter(unit="wang")).rows == []
    # A case reported after the day asked for is known: nothing of it that day.
    clock.set(START + timedelta(days=4))
    assert read(cases, "audit", AuditFilter(case=number), as_of=DAY1 - timedelta(days=1)
                ).rows == []
    # Their misspellings, with the same dates, are said.
    with pytest.raises(DomainError, match="unknown actor 'gw-l'.*did you mean gw-li"):
        read(cases, "audit", AuditFilter(actor="gw-l", since=later))
    with pytest.raises(DomainError, match=f"unknown case '{number}0'"):
        read(cases, "audit", AuditFilter(case=f"{number}0", since=later), as_of=later)


def test_a_grid_named_with_a_community_it_does_not_lie_in_is_refused(cases, clock):
    f.report(cases, 1)  # in YS-C01-G01
    Accounts(cases).add("wang", "grid_worker", "YS-C02-G01")
    for name, filters in (("ledger", LedgerFilter(community="YS-C01", grid="YS-C02-G01")),
                          ("escalations", EscalationsFilter(community="YS-C01",
                                                            grid="YS-C02-G01"))):
        with pytest.raises(DomainError,
                           match="^grid YS-C02-G01 lies in community YS-C02, not YS-C01$"):
            read(cases, name, filters)
        clock.set(START + timedelta(days=3))
        with pytest.raises(DomainError, match="lies in community YS-C02, not YS-C01"):
            read(cases, name, filters, as_of=DAY1)
    with pytest.raises(DomainError, match="grid YS-C01-G01 lies in community YS-C01, not"):
        read(cases, "ledger", LedgerFilter(community="YS-C02", grid="YS-C01-G01"))
    # Where it lies answers the report, empty or not.
    assert read(cases, "ledger", LedgerFilter(community="YS-C02", grid="YS-C02-G01")).rows == []
    assert len(read(cases, "ledger", LedgerFilter(community="YS-C01", grid="YS-C01-G01")
                    ).rows) == 1


def test_over_http_a_grid_outside_the_community_named_is_a_422(cases):
    for api in make_api(cases):
        api.report(1)
        response = api.get("/api/ledger", "street_supervisor", community="YS-C01",
                           grid="YS-C02-G01")
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == "grid YS-C02-G01 lies in community YS-C02, not YS-C01"
        response = api.get("/api/cases", "street_supervisor", community="YS-C02",
                           grid="YS-C01-G01")
        assert response.status_code == 422 and "lies in community YS-C01" in response.text
        # A grid worker naming another community (their own grid is not filled in with it)
        # and a safety officer naming another community's grid: outside their area, so
        # answered as units nobody knows (an empty report told that they exist).
        for who, (key, value) in (("grid_worker", ("community", "YS-C02")),
                                  ("safety_officer", ("grid", "YS-C02-G01"))):
            response = api.get("/api/ledger", who, **{key: value})
            assert (response.status_code, response.json()["detail"].split(";")[0]) == (422, (
                f"unknown {key} {value!r}: no account holds it and no case was reported "
                "in it")), (who, key)  # hinted at a unit of their own area, if one is near
        response = api.get("/api/accountability", "street_supervisor", unit="grid_workr")
        assert response.status_code == 422 and "did you mean grid_worker?" in response.text
