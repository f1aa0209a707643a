"""A randomised history through the real service: interleaved cases on every path.

Each step advances the fixed clock, then either reports a new case, moves a reported place
to another grid (an admin's redrawing: its open cases follow it), or fires a random trigger
the lifecycle allows from a random open (or closed, to reopen) case, as a person of the
right role and unit. Some reports and actions are back-dated (occurred before recorded).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

from domain.clock import FixedClock
from domain.errors import DomainError
from domain.timeutil import local_date
from domain.values import Actor, Evidence, Party, Place
from workflows import lifecycle
from workflows.service import HazardCases

COMMUNITIES = {"YS-C01": ["YS-C01-G01", "YS-C01-G02"], "YS-C02": ["YS-C02-G01"]}
KINDS = ["rental_house", "small_venue", "enterprise"]
CATEGORIES = ["flying_wire_charging", "blocked_fire_exit", "fire_equipment", "gas_safety"]
KNOWN = {"notify", "start_rectification", "submit_rectification", "verify", "refuse",
         "escalate", "accept_escalation", "record_enforcement", "order_rectification", "close",
         "dismiss", "reopen", "extend_deadline", "comment", "attach_evidence"}
EVIDENCE = Evidence("photo.jpg", "image/jpeg", "a" * 64, 1024)
PARTY = Party("房东 陈先生", "landlord", "13800000000")


def places() -> list[Place]:
    found = []
    n = 0
    for community, grids in COMMUNITIES.items():
        for grid in grids:
            for k in range(3):
                n += 1
                found.append(Place(f"P-{n:03d}", f"场所{n}", KINDS[k], f"路 {n} 号", grid,
                                   community))
    return found


def officer(role: str, unit: str) -> Actor:
    return Actor(f"{role[:4]}-{unit}", role, unit)


class RandomHistory:
    def __init__(self, cases: HazardCases, clock: FixedClock, seed: int) -> None:
        self.cases, self.clock, self.rng = cases, clock, random.Random(seed)
        self.places = places()
        self.ids: list[UUID] = []
        self.steps = 0

    def run(self, steps: int, every: Callable[[int], None] = lambda step: None) -> None:
        for step in range(steps):
            self.clock.advance(minutes=self.rng.randint(20, 600))
            draw = self.rng.random()
            if not self.ids or draw < 0.18:
                self._report()
            elif draw > 0.98:
                self._move_place()
            else:
                self._act(self.rng.choice(self.ids))
            every(step)

    def _report(self) -> None:
        rng = self.rng
        place = self._as_registered(rng.choice(self.places))
        backdate = timedelta(days=rng.choice([0, 0, 0, 1, 4])) if self.ids else timedelta()
        result = self.cases.report(
            officer("grid_worker", place.grid), place=place,
            category=rng.choice(CATEGORIES), severity=rng.choice(["general", "major"]),
            description="随机隐患", occurred_at=self.clock.now() - backdate, confirm_new=True)
        self.ids.append(result.case_id)

    def _as_registered(self, place: Place) -> Place:
        """The place as its register has it now (moved, maybe by an earlier history)."""
        register = self.cases.place_register(place.id)
        if register is None or register.identity is None:
            return place
        now = register.identity
        return Place(place.id, place.name, now["kind"], place.address, now["grid"],
                     now["community"])

    def _move_place(self) -> None:
        rng = self.rng
        place = rng.choice(self.places)
        if self.cases.place_register(place.id) is None:
            return  # never reported: its first report registers it
        grid = rng.choice([g for grids in COMMUNITIES.values() for g in grids])
        community = grid.rsplit("-", 1)[0]
        kind = rng.choice([None, *KINDS])
        try:
            self.cases.move_place(place.id, grid=grid, community=community, kind=kind,
                                  reason="网格调整", actor=officer("admin", "YS"))
        except DomainError:
            return  # already there
        self.steps += 1

    def _act(self, case_id: UUID) -> None:
        rng = self.rng
        case = self.cases.get_case(case_id)
        triggers = [t for t in lifecycle.allowed_triggers(case.state) if t in KNOWN]
        trigger = rng.choice(triggers)
        community = case.place["community"]
        so = officer("safety_officer", community)
        dept = officer("department_officer", case.department or "fire")
        now_day = local_date(self.clock.now())
        params: dict = {
            "notify": dict(actor=so, party=PARTY,
                           deadline=rng.choice([None, now_day + timedelta(days=2)])),
            "start_rectification": dict(actor=so),
            "submit_rectification": dict(actor=so, measures="已整改"),
            "verify": dict(actor=officer("inspector", community), passed=rng.random() < 0.7,
                           reason="整改不到位"),
            "refuse": dict(actor=so, reason="拒不整改"),
            "escalate": dict(actor=rng.choice([so, officer("street_supervisor", "YS")]),
                             reason="逾期未改"),
            "accept_escalation": dict(actor=dept),
            "record_enforcement": dict(actor=dept, decision_number=f"罚{rng.randint(1, 99)}",
                                       measure=rng.choice(["warning", "fine"]), amount="500"),
            "order_rectification": dict(actor=dept, deadline=now_day + timedelta(days=3)),
            "close": dict(actor=dept, closing_reason=rng.choice(["enforced", "rectified"])),
            "dismiss": dict(actor=so, closing_reason="unfounded", reason="不构成隐患"),
            "reopen": dict(actor=so, reason="复发"),
            "extend_deadline": dict(actor=officer("street_supervisor", "YS"),
                                    deadline=_later(case.deadline, rng), reason="延期"),
            "comment": dict(actor=officer("street_supervisor", "YS"), text="请抓紧"),
            "attach_evidence": dict(actor=so, evidence=[EVIDENCE], note="现场照片"),
        }[trigger]
        actor = params.pop("actor")
        if rng.random() < 0.1:
            params["occurred_at"] = max(self.clock.now() - timedelta(hours=rng.randint(1, 30)),
                                        _instant(case.last_occurred_at))
        try:
            if params.get("closing_reason") == "enforced" and not case.cycle_enforcements:
                # Closed as enforced only on a decision of record (no draw: the same seed
                # gives the same history as before, plus this one event).
                self.cases.record_enforcement(
                    case_id, actor, decision_number=f"罚{case.number}", measure="warning",
                    occurred_at=params.get("occurred_at"))
            self.cases.act(case_id, trigger, actor, **params)
            self.steps += 1
        except DomainError:
            pass  # e.g. enforcement before acceptance: the history simply moves on


def _later(deadline: str | None, rng: random.Random) -> date:
    base = date.fromisoformat(deadline) if deadline else date(2026, 3, 1)
    return base + timedelta(days=rng.randint(1, 5))


def _instant(text: str):
    from domain.timeutil import parse_instant

    return parse_instant(text)
