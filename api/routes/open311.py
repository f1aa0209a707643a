"""Open311 GeoReport v2 intake, so citizen-reporting apps and Open311 clients can file hazards.

Follows the published GeoReport v2 specification (JSON format):
- ``GET  /open311/v2/services.json``: the hazard categories as services (``metadata``
  true: each has a definition with attributes);
- ``GET  /open311/v2/services/{service_code}.json``: a service's attributes;
- ``POST /open311/v2/requests.json``: form-encoded; ``api_key`` is a hazardflow token;
  a location (``lat`` and ``long``, ``address_string`` or ``attribute[place_id]``) and a
  ``description`` are required; answers ``[{"service_request_id", "service_notice",
  "account_id"}]``;
- ``GET  /open311/v2/requests.json`` and ``/requests/{service_request_id}.json``: status
  ``open`` or ``closed``, ``status_notes``, ``agency_responsible`` (the department the case
  was handed to), datetimes in W3C format (China time); ``expected_datetime`` is the last
  second of the deadline day (``2026-12-20T23:59:59+08:00``), which is met until it ends.
Errors are the specification's array ``[{"code": 400, "description": "..."}]``
(``api.errors`` renders every error under this prefix that way). The service request id is
the case number. Reading also accepts ``api_key`` (or a bearer token) and shows only cases
inside the caller's jurisdiction, as the rest of the API does.

Where a request lands: ``attribute[grid]`` (default: the caller's own grid, for grid-level
accounts), its community from the grid id; the place is ``attribute[place_id]`` or one
derived from the location, so repeated reports of one spot are recognised as duplicates.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api import scopes
from api.accounts import Unauthenticated
from api.deps import CasesDep, TokenCache, get_tokens
from api.errors import OPEN311_PREFIX
from api.reporting import report_in_scope
from api.schemas.commands import sane_year
from api.schemas.common import OptionalPrintable
from domain.case import HazardCase, top_state
from domain.errors import CaseNotFound, DomainError
from domain.timeutil import LOCAL_TZ, end_of_local_day
from domain.values import Actor, Category, Place, PlaceKind, Severity
from projections.ledger import LedgerFilter
from projections.reports import read
from projections.vocab import label

router = APIRouter(prefix=OPEN311_PREFIX, tags=["open311"])


class Open311Error(BaseModel):
    code: int
    description: str


class Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class Attribute(BaseModel):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[dict[str, str]] | None = None


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[Attribute]


class RequestCreated(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [[{
        "service_request_id": "HZ-2026-000001", "service_notice": "已上报, 由社区安全员跟进",
        "account_id": None}]]})

    service_request_id: str
    service_notice: str
    account_id: str | None = None


class ServiceRequest(BaseModel):
    service_request_id: str
    status: str
    status_notes: str | None
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None = Field(
        description="the last second of the deadline day, China time (none once closed)",
        examples=["2026-12-20T23:59:59+08:00"])
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": list[Open311Error], "description": text}
    for status, text in ((400, "missing or invalid parameters"),
                         (403, "missing, invalid or revoked api_key, or not allowed"),
                         (404, "no such service or request"))}
DEFAULT_RANGE = timedelta(days=90)  # "When not specified, the range defaults to most recent 90 days"
DESCRIPTION_LIMIT = 2000  # a case's description (domain.values.require_text)
_MEDIA = re.compile(r"\n\[media_url\] (\S+)$")
_LATLONG = re.compile(r"^(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)$")


def _w3c(instant: str | datetime) -> str:
    value = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    return value.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def _last_second_of(day: str) -> str:
    """A deadline day as ``expected_datetime``: its last second in China (the day is met
    until it ends), ``2026-12-20T23:59:59+08:00``. Midnight after it, the instant the tick
    treats as missed, would read as "due 21 December" in a citizen's app."""
    return _w3c(end_of_local_day(date.fromisoformat(day)) - timedelta(seconds=1))


# -- who is asking ---------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False)


def open311_actor(
    tokens: Annotated[TokenCache, Depends(get_tokens)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Query(max_length=200, description="a hazardflow token")]
    = None,
) -> Actor:
    """Reads take ``api_key`` (as Open311 clients send it) or a bearer token."""
    token = api_key or (credentials.credentials if credentials else None)
    if not token:
        raise Unauthenticated("api_key is required: a token from hazardflow users add "
                              "(or an Authorization: Bearer header)")
    return tokens.authenticate(token)


Open311Actor = Annotated[Actor, Depends(open311_actor)]


# -- services --------------------------------------------------------------------------------

def _service(category: Category) -> Service:
    return Service(service_code=category.value,
                   service_name=label("category", category.value, "zh"),
                   description=f"{label('category', category.value, 'zh')} "
                               f"({category.value.replace('_', ' ')})",
                   metadata=True, type="realtime", keywords="hazard,隐患", group="安全隐患")


@router.get("/services.json", response_model=list[Service], summary="hazard categories")
def services() -> list[Service]:
    """The hazard categories a report can name, as Open311 services."""
    return [_service(c) for c in Category]


@router.get("/services/{service_code}.json", response_model=ServiceDefinition,
            responses=ERRORS, summary="a service's attributes")
def service_definition(service_code: Annotated[str, Path(max_length=60)]) -> ServiceDefinition:
    """The attributes a request for this service may carry (``attribute[code]``)."""
    _category(service_code)

    def attr(order: int, code: str, description: str, values: list[str] | None = None,
             required: bool = False) -> Attribute:
        return Attribute(variable=True, code=code, datatype="singlevaluelist" if values else
                         "string", required=required, datatype_description="",
                         order=order, description=description,
                         values=[{"key": v, "name": v} for v in values] if values else None)

    return ServiceDefinition(service_code=service_code, attributes=[
        attr(1, "grid", "grid id, e.g. YS-C01-G01 (default: your own grid)"),
        attr(2, "place_id", "the place's id in the register (default: from the location)"),
        attr(3, "place_name", "the place's name (default: the address)"),
        attr(4, "place_kind", "kind of place", [k.value for k in PlaceKind]),
        attr(5, "severity", "general or major", [s.value for s in Severity]),
    ])


class UnknownService(CaseNotFound):
    """A service_code that is no hazard category: 404, as the specification lists it."""

    def __init__(self, code: str) -> None:
        DomainError.__init__(self, f"no service with service_code {code!r}")
        self.case = code


def _category(code: str) -> Category:
    try:
        return Category(code)
    except ValueError:
        raise UnknownService(code) from None


# -- filing a request ------------------------------------------------------------------------

def _form(alias: str, max_length: int = 200, example: str | None = None) -> Any:
    return Form(alias=alias, max_length=max_length,
                examples=[example] if example is not None else None)


# Free text from a citizen's app: the same characters refused as in the JSON API's bodies.
OptionalText = Annotated[str | None, OptionalPrintable]


@router.post("/requests.json", status_code=201, response_model=list[RequestCreated],
             responses=ERRORS, summary="file a hazard (form-encoded)")
def create_request(
    cases: CasesDep, tokens: Annotated[TokenCache, Depends(get_tokens)],
    api_key: Annotated[str, Form(max_length=200, examples=["<token from hazardflow users add>"])],
    service_code: Annotated[str, Form(max_length=60, examples=["blocked_fire_exit"])],
    description: Annotated[OptionalText, _form("description", 2000, "楼梯间堆放杂物")] = None,
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    long: Annotated[float | None, Form(ge=-180, le=180)] = None,
    address_string: Annotated[OptionalText, _form("address_string", 300, "园山路 8 号")] = None,
    media_url: Annotated[OptionalText, _form("media_url", 500)] = None,
    grid: Annotated[OptionalText, _form("attribute[grid]", 100, "YS-C01-G01")] = None,
    place_id: Annotated[OptionalText, Form(  # the pattern of PlaceIn.id (schemas.common.Code)
        alias="attribute[place_id]", max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
        examples=["P-0008"])] = None,
    place_name: Annotated[OptionalText, _form("attribute[place_name]", 200)] = None,
    place_kind: Annotated[PlaceKind, Form(alias="attribute[place_kind]")] = PlaceKind.OTHER,
    severity: Annotated[Severity, Form(alias="attribute[severity]")] = Severity.GENERAL,
) -> list[RequestCreated]:
    """Report a hazard as the account ``api_key`` belongs to."""
    actor = tokens.authenticate(api_key)
    category = _category(service_code)
    if description is None or not description.strip():
        raise DomainError("description is required: say what the hazard is")
    place = _place(actor, grid, place_id, place_name, place_kind, lat, long, address_string)
    media = f"\n[media_url] {media_url.strip()}" if media_url else ""
    text = description.strip() + media
    if len(text) > DESCRIPTION_LIMIT:  # else refused as if the description alone were long
        raise DomainError(
            f"description and media_url together take {len(text)} characters, more than the "
            f"{DESCRIPTION_LIMIT} a description holds: shorten the description to "
            f"{DESCRIPTION_LIMIT - len(media)}")
    result = report_in_scope(cases, actor, place, category=category.value,
                             severity=severity.value, description=text)
    return [RequestCreated(service_request_id=result.number,
                           service_notice=f"已上报, 编号 {result.number}")]


def _place(actor: Actor, grid: str | None, place_id: str | None, name: str | None,
           kind: PlaceKind, lat: float | None, long: float | None,
           address: str | None) -> Place:
    if not (place_id or address or (lat is not None and long is not None)):
        raise DomainError("a location is required: lat and long, address_string, or "
                          "attribute[place_id]")
    grid = (grid or (actor.unit if actor.role in scopes.GRID_ROLES else "")).strip()
    if not grid:
        raise DomainError("attribute[grid] is required for a caller who patrols no grid")
    where = address.strip() if address else f"{lat},{long}" if lat is not None else ""
    if not place_id:
        place_id = "O311-" + hashlib.sha256(f"{grid}|{where}".encode()).hexdigest()[:12]
    # a name taken from the address is cut to the 200 characters a place name holds (the
    # address itself is kept whole)
    return Place(place_id.strip(), (name or where[:200] or place_id).strip(), kind, where, grid,
                 scopes.parent_unit(grid))


# -- reading requests ------------------------------------------------------------------------

# A year as given, checked before any comparison converts it to UTC (0001-01-01T00:00+14:00
# has no UTC instant: OverflowError, a 500).
Moment = Annotated[datetime, AfterValidator(sane_year)]


def _request(case: HazardCase, updated: str) -> ServiceRequest:
    closed = top_state(case.state) == "closed"
    notes = [label("state", case.state, "zh")]
    if case.deadline and not closed:
        notes.append(f"整改期限 {case.deadline}")
    if case.closing_reason:
        notes.append(label("closing_reason", case.closing_reason, "zh"))
    media = _MEDIA.search(case.description)
    where = case.place.get("address") or ""
    point = _LATLONG.match(where)
    return ServiceRequest(
        service_request_id=case.number, status="closed" if closed else "open",
        status_notes="; ".join(notes), service_name=label("category", case.category, "zh"),
        service_code=case.category,
        description=_MEDIA.sub("", case.description),
        agency_responsible=label("department", case.department, "zh")
        if case.department else None,
        service_notice=None, requested_datetime=_w3c(case.found_at),
        updated_datetime=_w3c(updated),
        expected_datetime=_last_second_of(case.deadline) if case.deadline and not closed
        else None,
        address=where or None, address_id=case.place.get("id"), zipcode=None,
        lat=float(point.group(1)) if point else None,
        long=float(point.group(2)) if point else None,
        media_url=media.group(1) if media else None)


def _load(cases: Any, actor: Actor, number: str) -> ServiceRequest:
    case = cases.get_case(number)
    scopes.require_visible(actor, case, number)
    return _request(case, cases.history(case.id)[-1].recorded_at)


@router.get("/requests/{service_request_id}.json", response_model=list[ServiceRequest],
            responses=ERRORS, summary="one request")
def get_request(actor: Open311Actor, cases: CasesDep,
                service_request_id: Annotated[str, Path(max_length=64)]) -> list[ServiceRequest]:
    """The request's status, status notes and the agency responsible."""
    return [_load(cases, actor, service_request_id)]


@router.get("/requests.json", response_model=list[ServiceRequest], responses=ERRORS,
            summary="requests, newest first")
def list_requests(
    actor: Open311Actor, cases: CasesDep,
    service_request_id: Annotated[str | None, Query(max_length=2000,
                                                    description="comma-separated ids")] = None,
    service_code: Annotated[str | None, Query(max_length=600,
                                              description="comma-separated codes")] = None,
    start_date: Moment | None = None, end_date: Moment | None = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)(,(open|closed))?$")] = None,
) -> list[ServiceRequest]:
    """Requests inside the caller's jurisdiction (at most 1,000), newest first; without
    ``start_date`` or ``end_date``, those of the most recent 90 days (GeoReport v2)."""
    if service_request_id:
        numbers = dict.fromkeys(n.strip() for n in service_request_id.split(",") if n.strip())
        found: dict[str, ServiceRequest] = {}  # a case named twice (number, id) is one
        for number in list(numbers)[:1000]:
            try:
                request = _load(cases, actor, number)
            except CaseNotFound:
                continue
            found.setdefault(request.service_request_id, request)
        return list(found.values())
    if start_date is None and end_date is None:
        start_date = cases.clock.now() - DEFAULT_RANGE
    # "can be declared multiple times, comma delimited" (GeoReport v2), as status can
    codes = {_category(c.strip()).value for c in (service_code or "").split(",") if c.strip()}
    area = scopes.area_filter(actor)
    rows = read(cases, "ledger", LedgerFilter(
        community=area.get("community"), grid=area.get("grid"),
        category=next(iter(codes)) if len(codes) == 1 else None)).dicts()
    rows = [r for r in rows if scopes.row_visible(actor, r)
            and (not codes or r["category"] in codes)]
    wanted = set((status or "open,closed").split(","))
    out = []
    for row in sorted(rows, key=lambda r: r["number"], reverse=True):
        is_closed = top_state(str(row["state"])) == "closed"
        if ("closed" if is_closed else "open") not in wanted:
            continue
        request = _load(cases, actor, row["number"])
        requested = datetime.fromisoformat(request.requested_datetime)
        if start_date and requested < _aware(start_date):
            continue
        if end_date and requested > _aware(end_date):
            continue
        out.append(request)
        if len(out) == 1000:
            break
    return out


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=LOCAL_TZ)
