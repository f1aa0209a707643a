"""The deadline and escalation tick (``hazardflow escalate-due``, and inside the worker).

One tick, at one instant (the clock's now, or an earlier ``now`` to catch up a missed run):
1. brings the due index up to date and asks it which cases may be due (``Horizons``);
2. loads each candidate and decides, on the aggregate, what is due (``workflows.deadlines``);
3. runs each due action as a command of the system actor with a deterministic command id,
   occurring at the tick's instant and recorded at the clock's.

Exactly once: two ticks at the same time decide the same actions with the same command
ids. The first to commit wins; the other's save collides on the case version (or on the
command record), and its retry finds the record and replays it (a tick at another instant
finds the same id with another fingerprint: also already done). Nothing is appended twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.errors import DomainError, IdempotencyMismatch
from domain.timeutil import shown
from domain.values import SYSTEM_ACTOR
from workflows.deadlines import Due, Horizons, due_actions

log = logging.getLogger("hazardflow.escalation")

MAX_ROUNDS = 4
Progress = Callable[[int, int], None]  # (done, total) candidates


class DueIndex(Protocol):
    def refresh(self) -> None:
        ...

    def candidates(self, horizons: Horizons) -> list[UUID]:
        ...


@dataclass
class TickReport:
    """What one tick did: actions applied, replayed (done by a concurrent tick), skipped."""

    candidates: int = 0
    applied: Counter[str] = field(default_factory=Counter)
    replayed: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    # Candidates with nothing due once loaded: a concurrent tick acted on them between the
    # index's answer and the load, or the index was behind the case (it is only an index).
    # Said, so that every candidate is accounted for in the summary an operator reads.
    settled: int = 0

    def summary(self) -> str:
        def part(counter: Counter[str]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "none"

        return (f"{self.candidates} candidates; applied: {part(self.applied)}; "
                f"already done by another tick: {part(self.replayed)}; "
                f"no longer due: {part(self.skipped)}; "
                f"nothing due once loaded: {self.settled} case(s)")


class EscalationTick:
    """Runs what is due on ``service``'s cases, found through ``index``."""

    def __init__(self, service: Any, index: DueIndex) -> None:
        self.service = service
        self.index = index

    def run(self, now: datetime | None = None, progress: Progress | None = None) -> TickReport:
        """Everything due at ``now`` (default: the clock's now; never in the future)."""
        clock_now = self.service.clock.now()
        now = now or clock_now
        if now > clock_now:
            raise DomainError(f"cannot run the tick at {shown(now)}: it is in the future "
                              f"(now {shown(clock_now)})")
        self.index.refresh()
        found = self.index.candidates(Horizons.of(self.service.policy, now))
        report = TickReport(candidates=len(found))
        for done, case_id in enumerate(found, 1):
            self._run_case(case_id, now, report)
            if progress is not None:
                progress(done, len(found))
        return report

    def _run_case(self, case_id: UUID, now: datetime, report: TickReport) -> None:
        # One action can make the next one due (a missed deadline recorded alone, then its
        # escalation): decide again from the stored case after each round, a few at most.
        tried: set[str] = set()
        for _ in range(MAX_ROUNDS):
            case = self.service.get_case(case_id)
            due = [d for d in due_actions(case, self.service.policy, now)
                   if d.command_id not in tried]
            if not due:
                report.settled += not tried  # nothing at all for this candidate
                return
            for action in due:
                tried.add(action.command_id)
                self._run_action(case, action, now, report)

    def _run_action(self, case: Any, due: Due, now: datetime, report: TickReport) -> None:
        command = getattr(self.service, due.action)
        try:
            result = command(case.id, SYSTEM_ACTOR, command_id=due.command_id, occurred_at=now)
        except IdempotencyMismatch:
            # The same action (same deterministic id) was recorded by a tick at another time.
            report.replayed[due.action] += 1
            return
        except DomainError as error:
            # The case moved on since it was loaded (accepted, rectified, closed...).
            log.info("tick: %s on %s not applied: %s", due.action, case.number, error)
            report.skipped[due.action] += 1
            return
        (report.replayed if result.replayed else report.applied)[due.action] += 1


def tick(service: Any, now: datetime | None = None,
         progress: Progress | None = None) -> TickReport:
    """One tick over the store's own due index: what the CLI and the worker run."""
    from projections.due import StoreDueIndex  # the index lives with the read models

    report = EscalationTick(service, StoreDueIndex(service)).run(now, progress)
    if report.applied:
        log.info("tick: %s", report.summary())
    return report
