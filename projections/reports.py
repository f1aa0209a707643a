"""Reading a report: now (from the store's tables) or as of a past date (rebuilt in memory).

``read(service, "ledger", LedgerFilter(community="YS-C01"))`` catches the ledger up and
queries the store's tables, with "days open" and "overdue" relative to the service clock's
today. ``read(..., as_of=date(2026, 5, 1), basis="occurred")`` replays the log up to the
end of that day into memory and queries that. The CLI and the HTTP API both call this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from domain.errors import DomainError
from domain.timeutil import end_of_local_day, local_date
from projections import by_names
from projections.asof import BASES, rebuild_as_of
from projections.holders import account_holders
from projections.report import Report
from projections.runner import Progress, ProjectionConflict, Runner
from projections.units import Visible, require_known


@dataclass(frozen=True)
class Kind:
    projection: str
    query: Callable[..., Report]
    filters: type


def kinds() -> dict[str, Kind]:
    from projections import accountability, audit, escalations, ledger, risk, stats

    return {
        "ledger": Kind("ledger", ledger.query, ledger.LedgerFilter),
        "accountability": Kind("accountability", accountability.query,
                               accountability.AccountabilityFilter),
        "audit": Kind("audit", audit.query, audit.AuditFilter),
        "risk": Kind("risk", risk.query, risk.RiskFilter),
        "stats": Kind("stats", stats.query, stats.StatsFilter),
        "escalations": Kind("escalations", escalations.query, escalations.EscalationsFilter),
    }


def check(service: Any, name: str, as_of: date | None, basis: str) -> Kind:
    """The report's kind, or a DomainError for an unknown name, basis or a future date."""
    known = kinds()
    if name not in known:
        raise DomainError(f"unknown report {name!r}; expected one of: {', '.join(known)}")
    if basis not in BASES:
        raise DomainError(f"unknown basis {basis!r}; expected one of: {', '.join(BASES)}")
    today = local_date(service.clock.now())
    if as_of is not None and as_of > today:
        raise DomainError(f"as-of date {as_of} is in the future (today is {today})")
    return known[name]


def read(service: Any, name: str, filters: Any = None, *, as_of: date | None = None,
         basis: str = "recorded", progress: Progress | None = None,
         catch_up: bool = True, visible: Visible | None = None) -> Report:
    """Report ``name`` now (``as_of`` None) or as of the end of a past day on ``basis``;
    ``visible`` as ``projections.units.require_known`` takes it."""
    kind = check(service, name, as_of, basis)
    today = local_date(service.clock.now())
    if name == "accountability":
        # a person's waiting and slow cases are their unit's only while they hold it
        until = None if as_of is None else end_of_local_day(as_of)
        filters = replace(filters or kind.filters(), holders=account_holders(service, until))
    if as_of is None:
        runner = Runner(service, by_names([kind.projection]))
        runner.setup()
        if catch_up:
            try:
                runner.catch_up(progress)
            except ProjectionConflict:
                pass  # the worker (or another reader) is applying the same events right now
        return _known(service, filters,
                      kind.query(runner.db, filters, as_of=today, basis="current"), visible)
    db = rebuild_as_of(service, by_names([kind.projection]), as_of, basis, progress)
    try:
        return _known(service, filters, kind.query(db, filters, as_of=as_of, basis=basis),
                      visible)
    finally:
        db.close()


def _known(service: Any, filters: Any, report: Report, visible: Visible | None = None
           ) -> Report:
    """``report``, unless it is empty because a filter names a unit nobody knows (a typo):
    then that is said, rather than an empty report read as "no hazards"."""
    if not report.rows and filters is not None:
        require_known(service, filters.units(), visible)
    return report
