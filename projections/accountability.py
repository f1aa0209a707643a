"""Accountability (一岗双责, 失职追责): who is waited on, who acted, and how fast.

While a case is open somebody's action is due. A *task* records who is waited on, from
when, and until when; it ends with the action that moves the case on:

| the case is            | waiting for                         | due                      |
|------------------------|-------------------------------------|--------------------------|
| found                  | the community's safety officer      | ``notice_due`` of        |
|                        |   (the rectification notice)        |   Reported/CaseReopened  |
| notified / rectifying  | the responsible party (the safety   | the rectification        |
|   (in progress)        |   officer of the community watches) |   deadline               |
| awaiting verification  | the community's inspectors          | ``verify_due`` of        |
|                        |                                     |   RectificationSubmitted |
| escalated, not accepted| the department                      | ``accept_due`` of        |
|                        |                                     |   CaseEscalated /        |
|                        |                                     |   RectificationRefused   |
| escalated, accepted    | the department (enforce, order back | ``decide_due`` of        |
|                        |   or close)                         |   EscalationAccepted     |

Every limit is the rules' (working days, holidays and make-up days counted where the rule
says working days; per escalation level), and only the service and the tick apply the
rules' calendar, so this view takes the due days from the events instead of estimating
them: a guess in calendar days would name an official slow over a weekend or holiday that
the rules do not count. The service records each due day on the event that starts the
task (``notice.within``, ``verification.within``, the first level's ``accept_within`` of
``escalation.chain``, ``escalation.decide_within``), so an official is judged slow
whether or not the deadline tick ever runs, and an acceptance under a one-level chain too
(where the tick raises nothing). Events recorded before these due days were carry none
(class version 1), and for those the view keeps its old judgement, so an old history
rebuilds unchanged: a notice and a decision by the old estimate (``DUE_DAYS`` calendar
days); a re-inspection and an acceptance only once the tick records them late
(``VerificationOverdue``, ``EscalationLevelRaised``, whose ``due`` is then taken), so for
those an acceptance under a one-level chain is still never judged slow here (the
escalations board shows it overdue).

Slow action (慢作为) is an official's task still open after its due day; the party's
overdue rectifications are counted apart. The on-time rate counts the party's tasks that
owed a rectification: not one ended by a dismissal, nor one ended by a submission that
then failed verification (the next task owes it). The median time to act leaves out the
tasks the tick ended (a major hazard escalated at once): no official acted. Figures per
grid roll up to the community and the street (a case belongs to one grid: an open case
whose place an admin moves to another grid is waited on there from then, its actions before
stay counted where they were done); departments and persons are listed too.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from domain.case import top_state
from domain.errors import DomainError
from domain.values import SYSTEM_ACTOR
from projections.db import Db
from projections.framework import Page, Projection, Table
from projections.report import Column, Named, Report, local_day, local_day_text, rate

CASES, TASKS, ACTIONS = "acc_cases", "acc_tasks", "acc_actions"
# The field of the event starting an official's task that holds its due day (the rules'),
# and, for an event recorded before it had one, the estimate in calendar days for a notice
# or a decision; a re-inspection or an acceptance then waits for the tick's judgement.
_RECORDED_DUE = {"notify": "notice_due", "decide": "decide_due", "verify": "verify_due",
                 "accept": "accept_due"}
DUE_DAYS = {"notify": 3, "decide": 30}
# Events of the tick that judge an official's task late under the rules: the task kind each
# one judges (their ``due`` is the last day in time). Only a task whose starting event
# recorded no due day (a version 1 event) takes it.
_JUDGED = {"VerificationOverdue": "verify", "EscalationLevelRaised": "accept"}
PARTY = "party"
SUBMITTED, FAILED = "submit_rectification", "submit_rectification_failed"
# A task ended by its case's move to another community (``Accountability._moved``): no one
# waited on acted, and the new community's task owes what it owed.
MOVED = "move_place"
# A party's task ended thus owes no rectification: the case was dismissed (unfounded,
# duplicate), the submission failed verification, or the case moved to another community
# (the next task owes it).
NOT_DUE = frozenset({"dismiss", FAILED, MOVED})


class Accountability(Projection):
    name = "accountability"
    version = 7  # 2: a re-inspection is slow from the tick's VerificationOverdue only;
    # 3: an acceptance from the tick's EscalationLevelRaised only; 4: a notice and a
    # decision from the due day their starting event records (the rules'); 5: a
    # re-inspection and an acceptance too (the tick's events for older events only);
    # 6: a submission failing verification is no rectification (acc_cases.submitted_task);
    # 7: a task's time to act goes to the doer's row of the unit they acted in (done_unit)
    tables = (
        Table(CASES, (("case_id", "TEXT"), ("grid", "TEXT"), ("community", "TEXT"),
                      ("department", "TEXT"), ("accepted", "INTEGER"), ("deadline", "TEXT"),
                      ("task_id", "TEXT"), ("task_kind", "TEXT"), ("submitted_task", "TEXT")),
              key=("case_id",), by_case=True),
        Table(TASKS, (("task_id", "TEXT"), ("case_id", "TEXT"), ("grid", "TEXT"),
                      ("community", "TEXT"), ("kind", "TEXT"), ("waiter_role", "TEXT"),
                      ("waiter_unit", "TEXT"), ("assigned_at", "TEXT"), ("due", "TEXT"),
                      ("done_at", "TEXT"), ("done_by", "TEXT"), ("done_unit", "TEXT"),
                      ("done_trigger", "TEXT")),
              key=("task_id",)),
        Table(ACTIONS, (("actor_id", "TEXT"), ("role", "TEXT"), ("unit", "TEXT"),
                        ("grid", "TEXT"), ("community", "TEXT"), ("trigger_name", "TEXT"),
                        ("n", "BIGINT")),
              key=("actor_id", "role", "unit", "grid", "community", "trigger_name"),
              kind="counter"),
    )

    def handles(self, event: Any) -> bool:
        return True  # every action is counted

    def prefetch(self, events: Sequence[Any], page: Page) -> None:
        super().prefetch(events, page)
        tasks: set[str] = set()
        for case_id in set(page.case_ids):
            case = page.get(CASES, case_id)
            if case:
                tasks.update(t for t in (case["task_id"], case["submitted_task"]) if t)
        page.load(self.table(TASKS), tasks)

    def apply(self, event: Any, page: Page) -> None:
        kind = type(event).__name__
        case_id = page.case_id
        case: dict[str, Any] | None
        if kind == "Reported":
            case = {"case_id": case_id, "grid": event.place["grid"],
                    "community": event.place["community"], "department": None, "accepted": 0,
                    "deadline": None, "task_id": None, "task_kind": None,
                    "submitted_task": None}
        else:
            case = page.get(CASES, case_id)
            if case is None:
                return
        actor = event.actor
        page.count(ACTIONS, (actor["id"], actor["role"], actor["unit"], case["grid"],
                             case["community"], event.trigger))
        if kind == "PlaceMoved":
            self._moved(page, case, event)
            return
        if kind in _JUDGED and case["task_kind"] == _JUDGED[kind]:
            # The tick judged the re-inspection or the acceptance late under the rules in force
            # (working days; the rule is on the event). A task whose starting event recorded
            # its due day keeps that one; for an older event the tick's due day, not an
            # estimate of ours, makes it slow. A later level raise keeps the first level's.
            task = page.get(TASKS, case["task_id"])
            if task is not None and task["due"] is None:
                task["due"] = event.due or _days_after(local_day_text(event.occurred_at), -1)
                page.put(TASKS, task)
            return
        if kind not in _NOTED and kind != "Reported" and case["task_kind"] == _KIND.get(
                event.state, "rectify"):
            return  # the same person is still waited on for the same thing
        _note(kind, event, case)
        if kind == "RectificationVerified" and not event.passed:
            _unsubmit(page, case)
        want = _waiting_for(event.state, case)
        task = page.get(TASKS, case["task_id"]) if case["task_id"] else None
        if want is None or want[0] != case["task_kind"]:
            if task is not None:
                task.update(done_at=event.occurred_at, done_by=actor["id"],
                            done_unit=actor["unit"], done_trigger=event.trigger)
                page.put(TASKS, task)
                if task["kind"] == "rectify" and event.trigger == SUBMITTED:
                    case["submitted_task"] = task["task_id"]
            case["task_id"] = case["task_kind"] = None
            if want is not None:
                self._assign(page, case, want, event)
        elif task is not None and want[0] == "rectify" and task["due"] != case["deadline"]:
            task["due"] = case["deadline"]  # a deadline extension moves the party's due day
            page.put(TASKS, task)
        page.put(CASES, case)

    def _moved(self, page: Page, case: dict[str, Any], event: Any) -> None:
        """The open case moved with its place (grids redrawn). Within its community only
        the grid changes, and the task with it. Moved to another community, a task its
        community owed (a notice, a re-inspection, the party's rectification it watches)
        ends with the move (``MOVED``: no time to act, no rectification owed) and the new
        community's begins, due by the day the move recorded (the rules' time from the
        move) or, for the party, by its deadline; a department's task only changes grid."""
        place, old_community = event.place, case["community"]
        case["grid"], case["community"] = place["grid"], place["community"]
        task = page.get(TASKS, case["task_id"]) if case["task_id"] else None
        if task is not None and task["waiter_unit"] == old_community != case["community"]:
            task.update(done_at=event.occurred_at, done_by=event.actor["id"],
                        done_unit=event.actor["unit"], done_trigger=MOVED)
            page.put(TASKS, task)
            case["task_id"] = case["task_kind"] = None
            self._assign(page, case, (task["kind"], task["waiter_role"], case["community"]),
                         event)
        elif task is not None:
            task.update(grid=case["grid"], community=case["community"])
            page.put(TASKS, task)
        page.put(CASES, case)

    @staticmethod
    def _assign(page: Page, case: dict[str, Any], want: tuple[str, str, str], event: Any
                ) -> None:
        task_kind, role, unit = want
        if task_kind == "rectify":
            due = case["deadline"]
        else:
            due = getattr(event, _RECORDED_DUE[task_kind], None)
            if due is None and task_kind in DUE_DAYS:
                due = _days_after(local_day_text(event.occurred_at), DUE_DAYS[task_kind])
            # else a re-inspection or acceptance: set when the tick records it late (apply)
        task_id = f"{case['case_id']}:{event.originator_version}"
        page.put(TASKS, {
            "task_id": task_id, "case_id": case["case_id"], "grid": case["grid"],
            "community": case["community"], "kind": task_kind, "waiter_role": role,
            "waiter_unit": unit, "assigned_at": event.occurred_at, "due": due,
            "done_at": None, "done_by": None, "done_unit": None, "done_trigger": None,
        })
        case["task_id"], case["task_kind"] = task_id, task_kind


def _unsubmit(page: Page, case: dict[str, Any]) -> None:
    """The party's task ended by the submission the inspector just failed: not a
    rectification (the party is waited on again, in a new task, until the deadline)."""
    task = page.get(TASKS, case["submitted_task"]) if case["submitted_task"] else None
    if task is not None:
        task["done_trigger"] = FAILED
        page.put(TASKS, task)
    case["submitted_task"] = None


@lru_cache(maxsize=4096)
def _days_after(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


_NOTED = frozenset({"NoticeIssued", "RectificationOrdered", "DeadlineExtended",
                    "RectificationRefused", "CaseEscalated", "EscalationAccepted",
                    "CaseReopened"})
# The task kind each state waits on, where the state alone decides it.
_KIND = {"found": "notify", "rectifying.awaiting_verification": "verify", "closed": None}


def _note(kind: str, event: Any, case: dict[str, Any]) -> None:
    """Keep the facts the next task depends on."""
    if kind in ("NoticeIssued", "RectificationOrdered", "DeadlineExtended"):
        case["deadline"] = event.deadline
    elif kind in ("RectificationRefused", "CaseEscalated"):
        case["department"], case["accepted"] = event.department, 0
    elif kind == "EscalationAccepted":
        case["accepted"] = 1
    elif kind == "CaseReopened":
        case["deadline"], case["department"], case["accepted"] = None, None, 0


def _waiting_for(state: str, case: dict[str, Any]) -> tuple[str, str, str] | None:
    """(task kind, role, unit) of whoever must act next in ``state``, or None when closed."""
    top = top_state(state)
    if top == "closed":
        return None
    if state == "found":
        return "notify", "safety_officer", case["community"]
    if state == "rectifying.awaiting_verification":
        return "verify", "inspector", case["community"]
    if top == "escalated":
        return ("decide" if case["accepted"] else "accept"), "department_officer", \
            case["department"]
    return "rectify", PARTY, case["community"]


# -- reading ----------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountabilityFilter:
    """Only rows of one ``level`` (street, community, grid, department, actor) or ``unit``;
    with ``street``, only the work on that street's cases is counted, so a department's
    row (and its officers') is its part in that street, not its total over every street
    it serves."""

    level: str | None = None
    unit: str | None = None
    street: str | None = None
    # Who held which role and unit on the day read (``projections.holders``; filled in by
    # ``projections.reports.read``): a person's row counts cases waiting on its role and
    # unit only while they hold it. None: every row counts them (no accounts read).
    holders: Mapping[str, tuple[str, str] | None] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.level and self.level not in LEVELS:
            raise DomainError(f"level must be one of {', '.join(LEVELS)}, not {self.level!r}")

    def units(self) -> Named:
        # with a unit's level, the unit must be one of that level (YS-C01 is no grid's row)
        kind = self.level if self.level in UNIT_LEVELS else "unit or person"
        return ((kind, self.unit), ("street", self.street))


COLUMNS = (
    Column("level", "Level", "层级", vocab="level"),
    Column("unit", "Unit", "单位", vocab="department"),  # a department officer's: 消防
    Column("actor", "Person", "人员"),
    Column("role", "Role", "角色", vocab="role"),
    Column("actions", "Actions", "操作次数", "int"),
    Column("actions_by_type", "Actions by type", "按类型", vocab="trigger"),
    Column("waiting", "Waiting for action", "待办", "int"),
    Column("slow", "Overdue while waiting (slow action)", "超期未办(慢作为)", "int"),
    Column("party_waiting", "Awaiting rectification", "待整改", "int"),
    Column("party_overdue", "Rectification overdue", "逾期未整改", "int"),
    Column("median_days", "Median days to act", "办理用时中位数(天)", "float"),
    Column("on_time_rate", "On-time rectification rate", "按期整改率", "rate"),
)
LEVELS = ("street", "community", "grid", "department", "actor")
UNIT_LEVELS = LEVELS[:4]


@dataclass
class _Tally:
    actions: dict[str, int]
    waiting: int = 0
    slow: int = 0
    party_waiting: int = 0
    party_overdue: int = 0
    days: list[float] | None = None
    due_rectifications: int = 0
    on_time: int = 0

    def row(self, level: str, unit: str, actor: str | None, role: str | None,
            jurisdiction: bool) -> tuple[Any, ...]:
        days = self.days or []
        return (level, unit, actor, role, sum(self.actions.values()),
                dict(sorted(self.actions.items())), self.waiting, self.slow,
                self.party_waiting if jurisdiction or role == "safety_officer" else None,
                self.party_overdue if jurisdiction or role == "safety_officer" else None,
                round(statistics.median(days), 2) if days else None,
                rate(self.on_time, self.due_rectifications) if jurisdiction else None)


def _tally() -> _Tally:
    return _Tally(actions=defaultdict(int), days=[])


def query(db: Db, filters: AccountabilityFilter | None = None, *, as_of: date,
          basis: str = "recorded") -> Report:
    f = filters or AccountabilityFilter()
    today = as_of.isoformat()
    units: dict[tuple[str, str], _Tally] = defaultdict(_tally)
    people: dict[tuple[str, str, str], _Tally] = defaultdict(_tally)
    # the street's cases: its communities are the street id, a dash and a code
    where, params = (" WHERE community LIKE ?", (f"{f.street}-%",)) if f.street else ("", ())
    with db.transaction() as tx:
        actions = tx.execute(f"SELECT actor_id, role, unit, grid, community, trigger_name, n "
                             f"FROM {ACTIONS}{where}", params)
        tasks = tx.execute(f"SELECT grid, community, waiter_role, waiter_unit, assigned_at, "
                           f"due, done_at, done_by, done_unit, done_trigger FROM {TASKS}"
                           f"{where}", params)
    grids_of: dict[str, set[str]] = defaultdict(set)
    for actor_id, role, unit, grid, community, trigger, n in actions:
        grids_of[community].add(grid)
        # a place's move is the street's work (its admin's), not the grid's or community's
        # the case left: counted there, it read as work the old grid did
        levels = ((("street", _street(community)),) if trigger == MOVED else
                  (("street", _street(community)), ("community", community), ("grid", grid)))
        for key in levels:
            units[key].actions[trigger] += int(n)
        people[(actor_id, role, unit)].actions[trigger] += int(n)
        if role == "department_officer":
            units[("department", unit)].actions[trigger] += int(n)
    waiting_on: dict[tuple[str, str], list[bool]] = defaultdict(list)  # (role, unit) -> slow?
    for grid, community, role, unit, assigned, due, done_at, done_by, done_unit, trigger in tasks:
        grids_of[community].add(grid)  # a case moved in with its place: waited on, no action
        keys = [("street", _street(community)), ("community", community), ("grid", grid)]
        if role == "department_officer":
            keys.append(("department", unit))
        late = bool(due) and due < today
        for key in keys:
            _count_task(units[key], role, assigned, due, done_at, done_by, trigger, late)
        if done_at is None:
            waiting_on[(role, unit)].append(late)
        elif role != PARTY and trigger != MOVED and (done_by, role, done_unit) in people:
            # The row of the unit the person acted in: one who moved to another grid or
            # community has a row for each, and each keeps its own time to act.
            people[(done_by, role, done_unit)].days.append(_days(assigned, done_at))  # type: ignore
    for (actor_id, role, unit), tally in people.items():
        if f.holders is not None and actor_id in f.holders and (
                f.holders[actor_id] != (role, unit)):
            continue  # moved away or revoked: what waits there now is not theirs (zero)
        slows = waiting_on.get((role, unit), [])
        tally.waiting, tally.slow = len(slows), sum(slows)
        if role == "safety_officer":
            watched = waiting_on.get((PARTY, unit), [])
            tally.party_waiting, tally.party_overdue = len(watched), sum(watched)
    rows = _ordered(units, people, grids_of)
    rows = [r for r in rows if (not f.level or r[0] == f.level)
            and (not f.unit or f.unit in (r[1], r[2]))]
    return Report("accountability", "Accountability", "履职情况", COLUMNS, rows, as_of, basis)


def _count_task(t: _Tally, role: str, assigned: str, due: str | None, done_at: str | None,
                done_by: str | None, trigger: str | None, late: bool) -> None:
    if role == PARTY:
        if done_at is None:
            t.party_waiting += 1
            t.party_overdue += late
        if (done_at is not None and trigger not in NOT_DUE) or (done_at is None and late):
            t.due_rectifications += 1
            # on time: the party's rectification was submitted by the end of its due day
            t.on_time += bool(trigger == SUBMITTED and due
                              and local_day(done_at).isoformat() <= due)  # type: ignore
        return
    if done_at is None:
        t.waiting += 1
        t.slow += late
    elif done_by != SYSTEM_ACTOR.id and trigger != MOVED:
        # (left out: a task the tick ended, escalating a major hazard, or a move ended: no
        # official acted, so no time to act)
        t.days.append(_days(assigned, done_at))  # type: ignore[union-attr]


def _street(community: str) -> str:
    """``YS-C01`` -> ``YS``: the street's row is its own unit, so the API's scope (units
    nest by prefix) shows it to that street's roles, and to no other street's."""
    return community.split("-", 1)[0]


def _days(start: str, end: str) -> float:
    span = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return span.total_seconds() / 86400


def _ordered(units: dict[tuple[str, str], _Tally], people: dict[tuple[str, str, str], _Tally],
             grids_of: dict[str, set[str]]) -> list[tuple[Any, ...]]:
    rows = [units[("street", s)].row("street", s, None, None, True)
            for s in sorted(k[1] for k in units if k[0] == "street")]
    communities = sorted(k[1] for k in units if k[0] == "community")
    for community in communities:
        rows.append(units[("community", community)].row("community", community, None, None,
                                                        True))
        grids = sorted(k[1] for k in units if k[0] == "grid" and k[1] in grids_of[community])
        rows += [units[("grid", g)].row("grid", g, None, None, True) for g in grids]
    for dept in sorted(k[1] for k in units if k[0] == "department"):
        rows.append(units[("department", dept)].row("department", dept, None, None, False))
    for (actor_id, role, unit) in sorted(people, key=lambda k: (k[1], k[2], k[0])):
        rows.append(people[(actor_id, role, unit)].row("actor", unit, actor_id, role, False))
    return rows
