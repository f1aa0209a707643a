"""Commands on hazard cases, and one case's state and history.

``POST /api/cases`` reports; ``POST /api/cases/{case}/{trigger}`` runs every other
lifecycle trigger, one route each (generated from ``TRIGGER_BODIES``, so each has its own
body model in the OpenAPI document). Routes are thin: scope check, one service call.
Command routes are ``async def`` and run the (blocking) command in ``api.threads``.
A command request with plain input is served by ``api.fastpath`` through the same
``run_report`` / ``run_command`` and ``answer``, without FastAPI's per-request work; these
routes answer everything else and are what the OpenAPI document describes.
"""

# No ``from __future__ import annotations`` here: the generated endpoints' annotations
# must be real objects for FastAPI to read the body model of each trigger.

import inspect
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response

from api import conflicts, scopes
from api.deps import ActorDep, CasesDep, CommandContext, CommandDep, ReportDep
from api.reporting import report_in_scope
from api.schemas.cases import CaseOut, CommandOut, HistoryEntryOut
from api.schemas.commands import TRIGGER_BODIES, CommandIn, ReportIn
from api.schemas.common import problem_responses
from api.threads import commands
from domain.errors import DomainError
from domain.values import Actor
from workflows import lifecycle
from workflows.service import CommandResult, HazardCases

router = APIRouter(prefix="/api/cases", tags=["cases"])

CaseRef = Annotated[str, Path(description="case id (UUID) or number (HZ-2026-000123)",
                              max_length=64, examples=["HZ-2026-000001"])]
COMMAND_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 413, 422)
READ_PROBLEMS = problem_responses(400, 401, 404, 422)


def answer(result: CommandResult, location: bool = False) -> tuple[bytes, dict[str, str]]:
    """A command's answer body (``CommandOut``) and headers, as bytes: the routes and
    ``api.fastpath`` send the same. Built directly, not through the route's
    ``response_model`` (which still documents it), to skip a second validation."""
    headers = {"ETag": f'"{result.version}"'}
    if location:
        headers["Location"] = f"/api/cases/{result.case_id}"
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    # The same bytes json.dumps gives (no spaces): an id, a number (HZ-2026-000123) and a
    # state name (a lifecycle identifier) never need escaping, and formatting them
    # directly costs a tenth of dumps.
    body = (f'{{"case_id":"{result.case_id}","number":"{result.number}",'
            f'"state":"{result.state}","version":{int(result.version)}}}')
    return body.encode(), headers


def _answer(result: CommandResult, status: int = 200) -> Response:
    body, headers = answer(result, location=status == 201)
    return Response(body, status, headers, media_type="application/json")


@router.post("", status_code=201, response_model=CommandOut, responses=COMMAND_PROBLEMS,
             summary="report a hazard")
async def report(body: ReportIn, actor: ActorDep, command: ReportDep) -> Response:
    """Report a hazard found on patrol (上报). A reporter files only inside their own grid
    (community, street); a probable duplicate of an open case answers 409 unless
    ``confirm_new`` is set."""
    return _answer(await run_report(command, actor, body), 201)


async def run_report(command: CommandContext, actor: Actor, body: ReportIn) -> CommandResult:
    """The report command behind ``POST /api/cases`` (the route and ``api.fastpath``)."""
    result = await commands.run(_report, command.cases, actor, body, command.idempotency_key)
    command.places.remember(result.case_id, body.place.value().as_dict())
    return result


def _report(cases: HazardCases, actor: Actor, body: ReportIn,
            idempotency_key: str | None) -> CommandResult:
    return report_in_scope(cases, actor, command_id=idempotency_key, **body.params())


async def run_command(command: CommandContext, actor: Actor, ref: str, trigger: str,
                      body: CommandIn) -> CommandResult:
    """Any other trigger, behind ``POST /api/cases/{case}/{trigger}`` (the routes and
    ``api.fastpath``)."""
    return await commands.run(_act, command, actor, ref, trigger, body)


def _act(command: CommandContext, actor: Actor, ref: str, trigger: str,
         body: CommandIn) -> CommandResult:
    cases = command.cases
    case_id = command.places.require_visible(cases, actor, ref)  # may read: in the thread
    params = body.params()
    scopes.require_named_visible(actor, cases, params)
    with (scopes.duplicates_told_in_scope(actor, cases),  # a reopening may find one
          conflicts.named_by_number(cases, case_id)):
        return cases.act(case_id, trigger, actor, expected_version=command.if_match,
                         command_id=command.idempotency_key,
                         scope=command.places.checker(actor, ref), **params)


def body_optional(body_model: type[CommandIn]) -> bool:
    """Whether a trigger may be sent without a body (every field has a default)."""
    return all(not f.is_required() for f in body_model.model_fields.values())


def _command_route(trigger: str, body_model: type[CommandIn]) -> None:
    optional = body_optional(body_model)

    async def command(case: CaseRef, actor: ActorDep, command: CommandDep,
                      body: Any = None) -> Response:
        return _answer(await run_command(command, actor, case, trigger, body or body_model()))

    # The body parameter's type and default differ per trigger: set them in the signature
    # FastAPI reads (a required model has no default, so a missing body answers 422).
    signature = inspect.signature(command)
    body_param = signature.parameters["body"].replace(
        annotation=Annotated[body_model | None, Body()] if optional else body_model,
        default=None if optional else inspect.Parameter.empty)
    params = [p for name, p in signature.parameters.items() if name != "body"] + [body_param]
    # Parameters without defaults first, as a signature requires (the sort is stable).
    command.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=sorted(params, key=lambda p: p.default is not inspect.Parameter.empty))
    command.__name__ = trigger
    command.__doc__ = _describe(trigger)
    router.add_api_route(
        f"/{{case}}/{trigger}", command, methods=["POST"], response_model=CommandOut,
        responses=COMMAND_PROBLEMS, summary=trigger.replace("_", " "),
        operation_id=f"case_{trigger}")


def _describe(trigger: str) -> str:
    rows = sorted({(r.source, r.dest, ", ".join(sorted(x.value for x in r.roles)))
                   for r in lifecycle.RULES if r.trigger == trigger})
    lines = [f"- from `{src}` to `{dest}`, by {roles}" for src, dest, roles in rows]
    return (f"Run `{trigger}` on a case (table from `workflows.lifecycle`):\n\n"
            + "\n".join(lines))


for _trigger, _model in TRIGGER_BODIES.items():
    _command_route(_trigger, _model)


@router.get("/{case}", responses=READ_PROBLEMS, summary="one case")
def get_case(case: CaseRef, actor: ActorDep, cases: CasesDep, response: Response,
             version: Annotated[int | None, Query(ge=1, le=10**9)] = None,
             as_of: Annotated[datetime | None, Query(
                 description="the case as recorded at this instant (with an offset)")] = None,
             ) -> CaseOut:
    """The case now, at a version, or as recorded at ``as_of``. ``ETag`` is its version."""
    if version is not None and as_of is not None:
        raise DomainError("give a version or an as_of instant, not both")
    current = cases.get_case(case)
    scopes.require_visible(actor, current, case)
    shown = current if version is None and as_of is None else cases.get_case(
        case, version=version, as_of=as_of)  # errors name the case as the caller did
    response.headers["ETag"] = f'"{shown.version}"'
    return CaseOut.of(shown, actor)


@router.get("/{case}/history", responses=READ_PROBLEMS,
            summary="a case's audit trail")
def history(case: CaseRef, actor: ActorDep, cases: CasesDep) -> list[HistoryEntryOut]:
    """Every recorded event of the case, oldest first: who, what, when, and why."""
    current = cases.get_case(case)
    scopes.require_visible(actor, current, case)
    return [HistoryEntryOut.of(e) for e in cases.history(current.id)]
