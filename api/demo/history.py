"""A year of hazard cases driven through the real service commands.

Every case follows one path (rectified on time or late, rework after a failed
verification, refused -> escalated -> enforced -> closed, ordered back to rectifying,
dismissed as unfounded or duplicate, reopened, major hazard escalated at once, deadline
extended). All cases' steps are interleaved in time order on a fixed clock that the
driver advances, so the store looks like a year of real work. Steps that would fall after
the end of the year are not taken: those cases are still open, in every state.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

from api.demo.jurisdiction import Jurisdiction, party_for
from domain.clock import FixedClock
from domain.errors import ProbableDuplicate
from domain.timeutil import LOCAL_TZ, end_of_local_day
from domain.values import Actor, Place, PlaceKind
from workflows.service import HazardCases

START = datetime(2025, 11, 24, tzinfo=LOCAL_TZ)
END = datetime(2026, 11, 20, 18, tzinfo=LOCAL_TZ)

PATHS = {  # path -> weight (per cent)
    "on_time": 46, "late": 12, "rework": 8, "refused_enforced": 8, "ordered_back": 6,
    "dismissed": 7, "reopened": 6, "major": 4, "extended": 3,
}
CATEGORIES = {
    PlaceKind.RENTAL_HOUSE: ["flying_wire_charging"] * 4 + ["fire_equipment"] * 2 + [
        "illegal_wiring", "blocked_fire_exit", "mixed_residential_production"],
    PlaceKind.SMALL_VENUE: ["fire_equipment", "illegal_wiring", "flammable_storage",
                            "gas_safety", "blocked_fire_exit", "mixed_residential_production"],
    PlaceKind.ENTERPRISE: ["flammable_storage", "blocked_fire_exit", "fire_equipment",
                           "illegal_wiring", "gas_safety", "other"],
    PlaceKind.CROWDED_PLACE: ["blocked_fire_exit", "fire_equipment"],
    PlaceKind.CONSTRUCTION_SITE: ["unreported_small_works"] * 3 + ["illegal_wiring", "other"],
}
DESCRIPTIONS = {
    "flying_wire_charging": "楼道内电动车飞线充电", "blocked_fire_exit": "消防通道被杂物堵塞",
    "fire_equipment": "灭火器过期失效", "illegal_wiring": "私拉乱接电线",
    "flammable_storage": "易燃物品违规存放", "gas_safety": "燃气软管老化未更换",
    "mixed_residential_production": "生产经营与住宿混合(三合一)",
    "unreported_small_works": "零星工程未报备即动工", "other": "其他安全隐患",
}
# What the party did, as the safety officer records it on the submission (a rework's
# second submission says it was put right).
MEASURES = {
    "flying_wire_charging": "已拆除飞线并引导至集中充电点", "blocked_fire_exit": "已清理通道杂物",
    "fire_equipment": "已更换合格灭火器", "illegal_wiring": "已拆除私拉电线, 由电工重新布线",
    "flammable_storage": "易燃物品已清出并规范存放", "gas_safety": "已更换燃气软管并加装报警器",
    "mixed_residential_production": "住宿已迁出生产经营场所",
    "unreported_small_works": "已补办报备并落实现场防护", "other": "已整改",
}

Step = Iterator[timedelta]


@dataclass
class DemoResult:
    cases: int
    commands: int
    paths: Counter[str]
    states: Counter[str]
    richest: str  # the number of the case with the longest history, to show as an example


class HistoryDriver:
    def __init__(self, cases: HazardCases, clock: FixedClock, where: Jurisdiction,
                 seed: int) -> None:
        self.cases, self.clock, self.where = cases, clock, where
        self.rng = random.Random(seed)
        self.commands = 0
        self._categories: dict[UUID, str] = {}

    def run(self, n_cases: int, on_progress: Callable[[int], None] = lambda n: None
            ) -> DemoResult:
        span = (END - START).total_seconds()
        starts = sorted(START + timedelta(seconds=self.rng.uniform(0, span))
                        for _ in range(n_cases))
        queue: list[tuple[datetime, int, Step]] = []
        paths: Counter[str] = Counter()
        for seq, at in enumerate(starts):
            path = self._pick_path()
            paths[path] += 1
            heapq.heappush(queue, (_daytime(at), seq, self._script(path)))
        case_ids: list[UUID] = []
        self._created = case_ids
        while queue:
            at, seq, script = heapq.heappop(queue)
            if at > END:
                on_progress(1)
                continue
            self.clock.set(at.astimezone(LOCAL_TZ))
            delay = next(script, None)
            if delay is None:
                on_progress(1)
            else:
                heapq.heappush(queue, (_not_at_night(at + delay), seq, script))
        final = [self.cases.get_case(i) for i in case_ids]
        states = Counter(case.state for case in final)
        richest = max(final, key=lambda case: (case.version, case.number)).number
        return DemoResult(len(case_ids), self.commands, paths, states, richest)

    def _pick_path(self) -> str:
        return self.rng.choices(list(PATHS), weights=list(PATHS.values()))[0]

    # -- one case's life ------------------------------------------------------------------

    def _script(self, path: str) -> Step:
        rng = self.rng
        case_id, place = self._report(path)
        if path == "dismissed":
            yield _hours(rng, 2, 48)
            self._dismiss(case_id, place)
            return
        if path == "major":
            yield _hours(rng, 1, 6)
            self._do("escalate", case_id, self._officer(place),
                     reason="重大隐患, 立即上报并挂牌督办")
            yield from self._enforce(case_id, place, ordered_back=rng.random() < 0.3)
            return
        yield _hours(rng, 2, 30)
        deadline = self._notify(case_id, place)
        if path in ("refused_enforced", "ordered_back"):
            yield _hours(rng, 24, 96)
            self._do("refuse", case_id, self._officer(place), reason="责任人拒不整改")
            yield from self._enforce(case_id, place, ordered_back=path == "ordered_back")
            return
        if path == "extended":
            yield _hours(rng, 12, 48)
            deadline += timedelta(days=rng.randint(5, 15))
            self._do("extend_deadline", case_id, rng.choice(self.where.supervisors),
                     deadline=deadline, reason="需采购设备, 申请延期")
        yield from self._rectify(case_id, place, deadline, late=path == "late",
                                 rework=path == "rework")
        if path == "reopened":
            yield timedelta(days=rng.randint(15, 60))
            grid_worker = self.where.grid_workers[place.grid][0]
            try:
                self._do("reopen", case_id, grid_worker, reason="复查发现隐患死灰复燃")
            except ProbableDuplicate:
                return  # found again meanwhile and reported as a new case: that one goes on
            yield _hours(rng, 2, 30)
            deadline = self._notify(case_id, place)
            yield from self._rectify(case_id, place, deadline, late=False, rework=False)

    def _rectify(self, case_id: UUID, place: Place, deadline: date, late: bool,
                 rework: bool, started: bool = False) -> Step:
        rng = self.rng
        officer = self._officer(place)
        if not started:  # a department's order puts the case straight back to rectifying
            yield _hours(rng, 2, 24)
            self._do("start_rectification", case_id, officer)
        due = end_of_local_day(deadline)
        for attempt in range(2 if rework else 1):
            now = self.clock.now()
            if late:
                yield (due - now) + _hours(rng, 6, 120)
            else:
                room = max((due - now).total_seconds() / 3600 - 1, 1)
                yield _hours(rng, min(1, room), room)
            self._do("submit_rectification", case_id, officer,
                     measures=MEASURES[self._categories[case_id]] if attempt == 0
                     else "已整改到位")
            yield _hours(rng, 4, 48)
            passed = not (rework and attempt == 0)
            self._do("verify", case_id, self._inspector(place), passed=passed,
                     reason="" if passed else "整改不彻底, 仍有隐患")

    def _enforce(self, case_id: UUID, place: Place, ordered_back: bool) -> Step:
        rng = self.rng
        department = self.cases.get_case(case_id).department
        assert department is not None  # driven here once refused or escalated
        officer = self.where.departments[department]
        yield _hours(rng, 4, 72)
        self._do("accept_escalation", case_id, officer)
        yield _hours(rng, 24, 240)
        measure = rng.choice(["warning", "fine", "seal_up"] if not ordered_back else ["warning"])
        self._do("record_enforcement", case_id, officer, measure=measure,
                 decision_number=f"深龙{department[:2].upper()}罚〔2026〕{rng.randint(1, 999)}号",
                 amount=str(rng.choice([500, 1000, 2000, 5000])) if measure == "fine" else "0")
        yield _hours(rng, 4, 72)
        if not ordered_back:
            self._do("close", case_id, officer, closing_reason="enforced", reason="执法到位")
            return
        due = (self.clock.now() + timedelta(days=rng.randint(3, 10))).astimezone(LOCAL_TZ)
        self._do("order_rectification", case_id, officer, deadline=due.date(),
                 reason="责令限期整改")
        yield from self._rectify(case_id, place, due.date(), late=False, rework=False,
                                 started=True)

    # -- commands -------------------------------------------------------------------------

    def _report(self, path: str) -> tuple[UUID, Place]:
        rng = self.rng
        severity = "major" if path == "major" else "general"
        for _ in range(20):
            place = rng.choice(self.where.places)
            category = rng.choice(CATEGORIES[place.kind])
            occurred = self.clock.now() - timedelta(minutes=rng.choice([0, 0, 0, 20, 240]))
            try:
                result = self.cases.report(
                    self._reporter(place), place=place, category=category, severity=severity,
                    description=DESCRIPTIONS[category], occurred_at=occurred,
                    confirm_new=path == "dismissed" and rng.random() < 0.5)
            except ProbableDuplicate:
                continue
            self.commands += 1
            self._created.append(result.case_id)
            self._categories[result.case_id] = category
            return result.case_id, place
        raise RuntimeError("no place without an open case of its category was found")

    def _notify(self, case_id: UUID, place: Place) -> date:
        self._do("notify", case_id, self._officer(place), party=party_for(self.rng, place))
        deadline = self.cases.get_case(case_id).deadline
        assert deadline is not None  # just notified
        return date.fromisoformat(deadline)

    def _dismiss(self, case_id: UUID, place: Place) -> None:
        case = self.cases.get_case(case_id)
        register = self.cases._place_register(place.id)
        assert register is not None  # the case was reported at the place
        others = [UUID(c) for c, cat in sorted(register.open_cases.items())
                  if cat == case.category and UUID(c) != case_id]
        if others:
            self._do("dismiss", case_id, self._officer(place), closing_reason="duplicate",
                     reason="与已有案件重复", duplicate_of=str(others[0]))
        else:
            self._do("dismiss", case_id, self._officer(place), closing_reason="unfounded",
                     reason="经核实不构成隐患")

    def _do(self, trigger: str, case_id: UUID, actor: Actor, **params: object) -> None:
        self.cases.act(case_id, trigger, actor, **params)
        self.commands += 1

    def _reporter(self, place: Place) -> Actor:
        return self.rng.choice(self.where.grid_workers[place.grid])

    def _officer(self, place: Place) -> Actor:
        return self.where.safety_officers[place.community][0]

    def _inspector(self, place: Place) -> Actor:
        return self.rng.choice(self.where.inspectors[place.community])


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


def _not_at_night(at: datetime) -> datetime:
    """Nobody acts between midnight and 08:00: such a step waits until the morning."""
    local = at.astimezone(LOCAL_TZ)
    if local.hour >= 8:
        return local
    return datetime.combine(local.date(), time(8), tzinfo=LOCAL_TZ) + timedelta(
        minutes=local.hour * 60 + local.minute) / 8


def _daytime(at: datetime) -> datetime:
    """Patrols report in working hours: move ``at`` to between 08:00 and 18:00 that day."""
    local = at.astimezone(LOCAL_TZ)
    minutes = int((local.hour * 60 + local.minute) / 1440 * 600)
    return datetime.combine(local.date(), time(8), tzinfo=LOCAL_TZ) + timedelta(minutes=minutes)
