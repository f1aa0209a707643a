"""``hazardflow case``: report hazards, act on cases, show a case's full history."""

from __future__ import annotations

import inspect
import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from api import conflicts, scopes
from api.cli.context import caller, service
from api.reporting import report_in_scope
from api.schemas.commands import TRIGGER_BODIES, ReportIn, sane_year
from domain.errors import DomainError
from domain.timeutil import LOCAL_TZ
from domain.values import Actor, Category, PartyRole, PlaceKind, Severity
from projections.display import on_terminal, visible
from workflows import lifecycle

# Triggers with a command of their own, and the engine's (run by `hazardflow escalate-due`
# and the worker): not offered by `case act`, whose options cannot carry them.
ELSEWHERE = {"report": "use `hazardflow case report`",
             "attach_evidence": "use `hazardflow case attach CASE FILE...`",
             "move_place": "a case follows its place: use `hazardflow places move`"}
ACT_TRIGGERS = tuple(t for t in lifecycle.TRIGGERS if t not in ELSEWHERE and any(
    role.value != "system" for rule in lifecycle.RULES if rule.trigger == t
    for role in rule.roles))

app = typer.Typer(help="Report hazards, act on cases, show their history.",
                  no_args_is_help=True)

TOKEN = typer.Option(None, "--token", envvar="HAZARDFLOW_TOKEN",
                     help="your bearer token (from `hazardflow users add`); the actor on the record")


def parse_instant(text: str | None) -> datetime | None:
    """An ISO instant; without an offset it is read as China local time."""
    if text is None:
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise DomainError(f"{text!r} is not a date-time like 2026-03-01T09:30") from None
    return _served(instant if instant.tzinfo else instant.replace(tzinfo=LOCAL_TZ), text)


def parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise DomainError(f"{text!r} is not a date like 2026-03-09") from None
    return _served(day, text)


def _served(value: Any, text: str) -> Any:
    """The API's year check (``sane_year``): 0001-01-01T00:00+14:00 has no UTC instant."""
    try:
        return sane_year(value)
    except ValueError as error:
        raise DomainError(f"{text}: {error}") from None


@app.command("report")
def report(
    place_id: str = typer.Option(..., help="the place's id"),
    place_name: str = typer.Option(..., help="the place's name"),
    place_kind: PlaceKind = typer.Option(..., help="kind of place"),
    grid: str = typer.Option(..., help="grid id, e.g. YS-C01-G01"),
    community: str = typer.Option(..., help="community id, e.g. YS-C01"),
    category: Category = typer.Option(..., help="hazard category"),
    description: str = typer.Option(..., help="what was found"),
    address: str = typer.Option("", help="street address"),
    severity: Severity = typer.Option(Severity.GENERAL, help="general or major"),
    occurred_at: str | None = typer.Option(None, help="when it was found (default: now)"),
    confirm_new: bool = typer.Option(False, "--confirm-new",
                                     help="report even if the place has an open case "
                                          "of this category"),
    command_id: str | None = typer.Option(None, help="client command id (idempotency)"),
    token: str | None = TOKEN,
) -> None:
    """Report a hazard found on patrol (上报)."""
    actor = caller(token)
    # The same checks as POST /api/cases: the body's shape, the role, the reporter's territory.
    body = ReportIn.model_validate({
        "place": {"id": place_id, "name": place_name, "kind": place_kind, "address": address,
                  "grid": grid, "community": community},
        "category": category, "severity": severity, "description": description,
        "occurred_at": parse_instant(occurred_at), "confirm_new": confirm_new})
    result = report_in_scope(service(), actor, command_id=command_id, **body.params())
    note = " (replayed: nothing appended)" if result.replayed else ""
    typer.echo(f"{result.number} {result.state} v{result.version} ({result.case_id}){note}")


@app.command("act")
def act(
    case: str = typer.Argument(..., help="case number (HZ-2026-000123) or id"),
    trigger: str = typer.Argument(..., help="one of: " + ", ".join(ACT_TRIGGERS)),
    reason: str | None = typer.Option(None, help="why (required by refuse, escalate, "
                                                    "dismiss, reopen, extend_deadline)"),
    deadline: str | None = typer.Option(None, help="YYYY-MM-DD (notify: default by policy)"),
    party_name: str | None = typer.Option(None, help="notify: responsible party's name"),
    party_role: PartyRole | None = typer.Option(None, help="notify: party's role"),
    party_contact: str = typer.Option("", help="notify: party's phone or address"),
    measures: str | None = typer.Option(None, help="submit_rectification: measures taken"),
    outcome: str | None = typer.Option(None, help="verify: passed or failed"),
    department: str | None = typer.Option(None, help="refuse/escalate: override routing"),
    decision_number: str | None = typer.Option(None, help="record_enforcement: 决定书编号"),
    measure: str | None = typer.Option(None, help="record_enforcement: warning, fine, "
                                                     "seal_up or suspension"),
    amount: str = typer.Option("0", help="record_enforcement: fine in yuan"),
    closing_reason: str | None = typer.Option(None, help="close/dismiss: rectified, "
                                                            "enforced, unfounded, duplicate"),
    duplicate_of: str = typer.Option("", help="dismiss: the case this one duplicates"),
    confirm_new: bool = typer.Option(False, "--confirm-new",
                                     help="reopen: even if the place has another open case "
                                          "of this category"),
    text: str | None = typer.Option(None, help="comment: the text"),
    occurred_at: str | None = typer.Option(None, help="when it happened (default: now)"),
    expected_version: int | None = typer.Option(None, help="refuse if the case moved on"),
    command_id: str | None = typer.Option(None, help="client command id (idempotency)"),
    token: str | None = TOKEN,
) -> None:
    """Run a lifecycle trigger on a case."""
    actor = caller(token)
    given: dict[str, Any] = {
        "reason": reason, "deadline": parse_day(deadline), "measures": measures,
        "department": department, "decision_number": decision_number, "measure": measure,
        "amount": amount, "closing_reason": closing_reason, "duplicate_of": duplicate_of,
        "text": text if text is not None else reason, "confirm_new": confirm_new or None,
    }
    if party_name is not None or party_role is not None:
        if party_name is None or party_role is None:
            raise DomainError("notify needs both --party-name and --party-role")
        given["party"] = {"name": party_name, "role": party_role, "contact": party_contact}
    if outcome is not None:
        if outcome not in ("passed", "failed"):
            raise DomainError("--outcome must be passed or failed")
        given["passed"] = outcome == "passed"
    # The same checks as POST /api/cases/{case}/{trigger}: lengths, choices, years.
    options = _params_for(trigger, given)  # first: it names an unknown trigger
    body = TRIGGER_BODIES[trigger].model_validate(options)
    params = {k: v for k, v in body.params().items() if k != "occurred_at"}
    case_id = in_scope(case, actor)
    scopes.require_named_visible(actor, service(), params)
    with (scopes.duplicates_told_in_scope(actor, service()),  # a reopening may find one
          conflicts.named_by_number(service(), case_id)):
        result = service().act(case_id, trigger, actor,
                               occurred_at=parse_instant(occurred_at),
                               expected_version=expected_version, command_id=command_id,
                               **params)
    note = " (replayed: nothing appended)" if result.replayed else ""
    typer.echo(f"{result.number} {result.state} v{result.version}{note}")


def in_scope(ref: str, actor: Actor) -> UUID:
    """The id of case ``ref`` if it lies in the caller's territory, as over HTTP; a case
    outside it is answered like one that does not exist."""
    current = service().get_case(ref)
    scopes.require_visible(actor, current, ref)
    return current.id


def _params_for(trigger: str, given: dict[str, Any]) -> dict[str, Any]:
    """The trigger's own parameters, taken from the options; missing required ones named."""
    if trigger in ELSEWHERE:
        raise DomainError(f"{trigger} is not run with `case act`: {ELSEWHERE[trigger]}")
    method = getattr(service(), trigger, None)
    if trigger not in ACT_TRIGGERS or method is None:
        choices = ", ".join(ACT_TRIGGERS)
        raise DomainError(f"unknown trigger {trigger!r}; expected one of: {choices}")
    params, missing = {}, []
    common = {"occurred_at", "expected_version", "command_id"}
    for name, parameter in inspect.signature(method).parameters.items():
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY or name in common:
            continue
        value = given.get(name)
        if value is not None:
            params[name] = value
        elif parameter.default is inspect.Parameter.empty:
            missing.append(OPTION_FOR.get(name, f"--{name.replace('_', '-')}"))
    if missing:
        raise DomainError(f"{trigger} needs {', '.join(missing)}")
    return params


OPTION_FOR = {"party": "--party-name and --party-role", "passed": "--outcome passed|failed",
              "text": "--text"}


@app.command("show")
def show(
    case: str = typer.Argument(..., help="case number (HZ-2026-000123) or id"),
    version: int | None = typer.Option(None, help="show the case as of this version"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
) -> None:
    """The case's state and its full history: who (role, unit) did what, when and why."""
    cases = service()
    current = cases.get_case(case, version=version)
    history = [e for e in cases.history(case) if e.originator_version <= current.version]
    if as_json:
        typer.echo(json.dumps(_as_json(current, history), ensure_ascii=False, indent=2))
        return
    Console().print(_summary(current))
    typer.echo("\n".join(visible(line) for line in _history_lines(history)))


def _summary(case: Any) -> Table:
    table = Table(title=f"{case.number}  {case.state}  (version {case.version})",
                  show_header=False, title_justify="left")
    place = case.place
    rows = [
        ("place", f"{place['name']} ({place['kind']})"
                  + (f", {place['address']}" if place["address"] else "")),
        ("grid / community", f"{place['grid']} / {place['community']}"),
        ("category / severity", f"{case.category} / {case.severity}"),
        ("description", case.description),
        ("responsible party", _party(case.party)),
        ("deadline", case.deadline or "-"),
        ("department", case.department or "-"),
        ("enforcement", "; ".join(f"{e['measure']} {e['decision_number']} {e['amount']}"
                                  for e in case.enforcement) or "-"),
        ("closing reason", case.closing_reason or "-"),
        ("recurrences", str(case.recurrence_count)),
        ("rework", str(case.rework_count)),
    ]
    for key, value in rows:
        table.add_row(key, Text(on_terminal(value)))  # as typed: not rich markup, no escapes
    return table


def _party(party: dict[str, str] | None) -> str:
    if not party:
        return "-"
    return f"{party['name']} ({party['role']}) {party.get('contact', '')}".strip()


def _history_lines(history: list[Any]) -> list[str]:
    """One block per event; readable at any terminal width and in a pasted log."""
    lines = ["history (times in China local time):"]
    for e in history:
        recorded = _local(e.recorded_at)
        occurred = _local(e.occurred_at)
        when = occurred if occurred == recorded else f"{occurred} (recorded {recorded})"
        lines.append(f"  v{e.originator_version}  {when}  {e.trigger} -> {e.state}")
        lines.append(f"      by {e.actor['id']} ({e.actor['role']}, {e.actor['unit']})")
        details = _details(e)
        if details:
            lines.append(f"      {details}")
    return lines


def _local(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


# The due days an event set for the next person's action (accountability judges by them)
# come with the rule that set them.
DETAIL_FIELDS = ("deadline", "department", "measures", "passed", "decision_number", "measure",
                 "amount", "closing_reason", "duplicate_of", "notice_due", "verify_due",
                 "accept_due", "decide_due", "due", "rule", "accept_rule")


def _details(event: Any) -> str:
    parts = [event.reason] if event.reason else []
    for name in DETAIL_FIELDS:
        value = getattr(event, name, None)
        if value not in (None, "", event.reason):  # the tick's events give their rule as both
            parts.append(f"{name}={value}")
    if getattr(event, "party", None):
        parts.append(f"party={_party(event.party)}")
    if moved_from := getattr(event, "moved_from", None):  # the case followed its place
        parts.append(f"grid={event.place['grid']} (was {moved_from['grid']})")
    return "; ".join(parts)


def _as_json(case: Any, history: list[Any]) -> dict[str, Any]:
    return {
        "case_id": str(case.id), "number": case.number, "state": case.state,
        "version": case.version, "place": case.place, "category": case.category,
        "severity": case.severity, "description": case.description,
        "responsible_party": case.party, "deadline": case.deadline,
        "department": case.department, "enforcement": case.enforcement,
        "closing_reason": case.closing_reason, "recurrence_count": case.recurrence_count,
        "rework_count": case.rework_count,  # every field the table shows, as fields
        "history": [
            {"version": e.originator_version, "trigger": e.trigger, "state": e.state,
             "actor": e.actor, "occurred_at": e.occurred_at, "recorded_at": e.recorded_at,
             "reason": e.reason, "details": _details(e)}
            for e in history
        ],
    }
