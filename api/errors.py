"""Every error the API answers, mapped to RFC 9457 problem details in this one place.

The shape is always ``{"type", "title", "status", "detail"}`` (plus a few extension
members), served as ``application/problem+json``. Routes never catch exceptions: the
domain raises its own errors and the handlers below are looked up by exception class.
Anything unexpected becomes a 500 with a request id and is logged; no stack trace leaves
the server.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.accounts import AccountExists, Unauthenticated
from domain.errors import (
    CaseNotFound,
    DomainError,
    IdempotencyMismatch,
    IllegalTransition,
    NotPermitted,
    PlaceNotFound,
    ProbableDuplicate,
    VersionConflict,
)
from workflows import lifecycle
from workflows.service import ConcurrencyExhausted

log = logging.getLogger("hazardflow.api")

OPEN311_PREFIX = "/open311/v2"
PROBLEM_BASE = "https://hazardflow.invalid/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request", 401: "Unauthenticated", 403: "Forbidden", 404: "Not found",
    405: "Method not allowed", 406: "Not acceptable", 409: "Conflict",
    413: "Content too large", 415: "Unsupported media type", 422: "Unprocessable content",
    500: "Internal server error",
}


class BadRequest(Exception):
    """Malformed protocol input (a header that is not what it should be): 400."""


class PayloadTooLarge(Exception):
    """The request body is larger than the API accepts: 413."""


def problem(status: int, kind: str, detail: str, headers: Mapping[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_BASE + kind, "title": TITLES.get(status, "Error"),
            "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, headers=headers,
                        media_type=PROBLEM_MEDIA_TYPE)


def transition_status(error: IllegalTransition) -> int:
    """403 when the role may never use the trigger from this state; 409 when the state is
    wrong for the trigger (the case has moved on, or the trigger does not apply yet)."""
    if error.trigger not in lifecycle.TRIGGERS:
        return 409
    if error.role not in {role.value for role in lifecycle.roles_for(error.trigger)}:
        return 403
    cell = [r for r in lifecycle.RULES if r.source == error.state and r.trigger == error.trigger]
    if cell and not any(error.role in {role.value for role in r.roles} for r in cell):
        return 403
    return 409


def _illegal(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, IllegalTransition)
    status = transition_status(error)
    kind = "role-not-allowed" if status == 403 else "illegal-transition"
    return problem(status, kind, str(error), state=error.state, allowed_triggers=error.allowed)


def _version(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, VersionConflict)
    return problem(409, "version-conflict", str(error), headers={"ETag": f'"{error.actual}"'},
                   current_version=error.actual, expected_version=error.expected)


def _duplicate(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProbableDuplicate)
    if error.number is None:  # outside the caller's territory (``scopes``): not named
        return problem(409, "probable-duplicate", str(error))
    return problem(409, "probable-duplicate", str(error), existing_case_id=str(error.case_id),
                   existing_number=error.number)


def _validation(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
               "type": str(e.get("type", ""))} for e in error.errors()]
    if any(e["type"] == "json_invalid" for e in errors):
        return problem(400, "malformed-body", "the request body is not valid JSON",
                       errors=errors)
    detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
    return problem(422, "invalid-input", detail or "invalid input", errors=errors)


_FASTAPI_UNPARSED = "There was an error parsing the body"


def _http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    if status == 400 and error.detail == _FASTAPI_UNPARSED:
        # FastAPI's own words for a body it could not decode (not UTF-8, nested past the
        # parser's depth, an integer of thousands of digits): the problem type a body that
        # is not JSON gets, so a client tells both apart from other 400s in one way
        return problem(400, "malformed-body", "the request body could not be read: not "
                                              "UTF-8 text, or JSON nested or sized past "
                                              "what is read")
    kind = {404: "not-found", 405: "method-not-allowed"}.get(status, "http-error")
    headers = {**(error.headers or {}), "Allow": _allowed(request)} if status == 405 else \
        error.headers
    return problem(status, kind, str(error.detail), headers=headers)


def _allowed(request: Request) -> str:
    """Every method of the request's path, for a 405's ``Allow`` (Starlette's names only
    the first route matching the path: POST for ``/api/cases``, which GET lists too)."""
    routes = request.app.router.routes  # FastAPI's included routers among them

    def served(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] == Match.FULL for route in routes)

    methods = {m for m in ("DELETE", "GET", "PATCH", "POST", "PUT") if served(m)}
    if "GET" in methods:
        methods.add("HEAD")  # api.app.HeadAsGet
    return ", ".join(sorted(methods))


def _unexpected(request: Request, error: Exception) -> JSONResponse:
    request_id = uuid.uuid4().hex
    log.error("unhandled error %s on %s %s", request_id, request.method, request.url.path,
              exc_info=error)
    return problem(500, "internal-error",
                   f"an unexpected error occurred; quote request id {request_id}",
                   request_id=request_id)


def _simple(status: int, kind: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    def handle(_: Request, error: Exception) -> JSONResponse:
        return problem(status, kind, str(error) or TITLES[status], headers=headers)
    return handle


def install(app: FastAPI) -> None:
    """Register every mapping; Starlette looks handlers up by the exception's class (MRO)."""
    handlers: dict[type[Exception], Any] = {
        RequestValidationError: _validation,
        StarletteHTTPException: _http,
        BadRequest: _simple(400, "bad-request"),
        PayloadTooLarge: _simple(413, "content-too-large"),
        Unauthenticated: _simple(401, "unauthenticated", {"WWW-Authenticate": "Bearer"}),
        CaseNotFound: _simple(404, "not-found"),
        PlaceNotFound: _simple(404, "not-found"),
        IllegalTransition: _illegal,
        NotPermitted: _simple(403, "not-permitted"),
        VersionConflict: _version,
        ProbableDuplicate: _duplicate,
        ConcurrencyExhausted: _simple(409, "busy"),
        AccountExists: _simple(409, "account-exists"),
        IdempotencyMismatch: _simple(422, "idempotency-key-reused"),
        DomainError: _simple(422, "rule-violated"),
        Exception: _unexpected,
    }
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, _open311_aware(handler))


def _open311_aware(handler: Any) -> Any:
    """Under the Open311 prefix, errors take the GeoReport v2 form: a JSON array of
    ``{"code", "description"}``. Its clients know 400 (bad request), 403 (bad api_key or
    not allowed) and 404, so 401 and 422 are told as 403 and 400 there."""
    def handle(request: Request, error: Exception) -> JSONResponse:
        response = handler(request, error)
        if not request.url.path.startswith(OPEN311_PREFIX + "/"):
            return response
        status = {401: 403, 422: 400, 409: 400}.get(response.status_code,
                                                    response.status_code)
        detail = json.loads(bytes(response.body)).get("detail", TITLES.get(status, "error"))
        allow = {"Allow": response.headers["allow"]} if "allow" in response.headers else None
        return JSONResponse([{"code": status, "description": detail}], status_code=status,
                            headers=allow)
    return handle
