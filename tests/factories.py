"""Actors, places and case histories shared by the tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from uuid import UUID

from domain.values import Actor, Party, Place
from workflows.records import PlaceRegister
from workflows.service import HazardCases

GRID = "YS-C01-G01"
COMMUNITY = "YS-C01"
STREET = "YS"

grid_worker = Actor("gw-li", "grid_worker", GRID)
volunteer = Actor("vol-wang", "volunteer", GRID)
property_staff = Actor("ps-zhao", "property_staff", GRID)
safety_officer = Actor("so-chen", "safety_officer", COMMUNITY)
other_safety_officer = Actor("so-liu", "safety_officer", COMMUNITY)
inspector = Actor("in-huang", "inspector", COMMUNITY)
street_supervisor = Actor("sup-zhou", "street_supervisor", STREET)
fire_officer = Actor("fire-wu", "department_officer", "fire")
housing_officer = Actor("housing-xu", "department_officer", "housing")
leader = Actor("lead-sun", "leader", STREET)
auditor = Actor("aud-ma", "auditor", STREET)
admin = Actor("adm-he", "admin", STREET)
system = Actor("system", "system", "system")

ACTOR_BY_ROLE = {a.role.value: a for a in (
    grid_worker, volunteer, property_staff, safety_officer, inspector, street_supervisor,
    fire_officer, leader, auditor, admin, system)}

landlord = Party("房东 陈先生", "landlord", "13800000000")


def place(n: int = 1, kind: str = "rental_house") -> Place:
    return Place(f"P-{n:04d}", f"出租屋 {n}号", kind, f"园山路 {n} 号", GRID, COMMUNITY)


def report(cases: HazardCases, n: int = 1, category: str = "flying_wire_charging",
           severity: str = "general", kind: str = "rental_house") -> UUID:
    return cases.report(grid_worker, place=place(n, kind), category=category,
                        severity=severity, description="楼道飞线充电").case_id


def to_notified(cases: HazardCases, n: int = 1, **kw) -> UUID:
    case_id = report(cases, n, **kw)
    cases.notify(case_id, safety_officer, party=landlord, deadline=date(2026, 3, 9))
    return case_id


def to_rectifying(cases: HazardCases, n: int = 1, **kw) -> UUID:
    case_id = to_notified(cases, n, **kw)
    cases.start_rectification(case_id, safety_officer)
    return case_id


def to_awaiting_verification(cases: HazardCases, n: int = 1, **kw) -> UUID:
    case_id = to_rectifying(cases, n, **kw)
    cases.submit_rectification(case_id, safety_officer, measures="拆除飞线, 引导集中充电")
    return case_id


def to_escalated(cases: HazardCases, n: int = 1, accepted: bool = True, **kw) -> UUID:
    case_id = to_notified(cases, n, **kw)
    cases.refuse(case_id, safety_officer, reason="房东拒不整改")
    if accepted:
        cases.accept_escalation(case_id, fire_officer)
    return case_id


def to_enforced(cases: HazardCases, n: int = 1, **kw) -> UUID:
    """Escalated, accepted and an enforcement recorded: ready to close as enforced."""
    case_id = to_escalated(cases, n, **kw)
    cases.record_enforcement(case_id, fire_officer, decision_number=f"园消罚〔2026〕{n}号",
                             measure="warning")
    return case_id


def comment_as_recorded_before(cases: HazardCases, ref: UUID | str, text: str,
                               actor: Actor = safety_officer) -> None:
    """A comment recorded as hazardflow did before the domain refused control characters:
    the log may hold such text, and everything that reads the log must still cope."""
    from domain.case import Act
    from domain.events import CommentAdded

    case = cases.get_case(ref)
    now = cases.clock.now()
    case.trigger_event(CommentAdded, **Act(actor, "comment", case.state, now, now).fields(text))
    cases.save(case)


@contextmanager
def places_as_registered_before_described() -> Iterator[None]:
    """Inside, place registers are written as before places were described (no
    ``PlaceRegister.Described``): a store from then may hold one place id in two grids."""
    described = PlaceRegister.describe
    PlaceRegister.describe = lambda self, identity, at: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        PlaceRegister.describe = described  # type: ignore[method-assign]
