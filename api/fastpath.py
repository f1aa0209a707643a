"""The command routes' common case, served without FastAPI's per-request machinery.

``POST /api/cases`` and ``POST /api/cases/{case}/{trigger}`` are the API's hot path. For
each, Starlette's routing and exception middleware, FastAPI's dependency solving, header
and body validation and the response object cost more CPU than deciding the command
(``benchmarks/results/load.md`` has the profile). ``CommandPath``, an ASGI middleware
inside ``api.app.BodyLimit``, serves such a request itself when its input is plain:

- a declared ``Content-Length``; the body empty (for a trigger whose fields all have
  defaults) or ``application/json`` that parses to an object and validates as the route's
  body model, the way FastAPI validates it (``validate_python`` of the parsed JSON);
- ``If-Match`` and ``Idempotency-Key``, if sent, accepted by the routes' own parsers.

It then authenticates as the routes' dependency does (``api.deps.bearer_token`` reads the
header as FastAPI's ``HTTPBearer`` does, then ``authenticate``), runs the command through
the functions the routes call (``api.routes.cases.run_report`` / ``run_command``),
answers with the routes' bytes (``answer``), and maps an error with the app's own
exception handlers (``api.errors``; an unexpected one is raised to the same 500 handler
as before).

Any other request goes on to FastAPI unchanged, with the body already read handed on: a
refusal of input (400, 413, 422) always comes from FastAPI itself, and the OpenAPI
document is the routes', as before.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.bodies import read_messages, replaying
from api.deps import (
    CommandContext,
    authenticate,
    bearer_token,
    parse_idempotency_key,
    parse_if_match,
)
from api.errors import BadRequest
from api.routes.cases import answer, body_optional, run_command, run_report
from api.schemas.commands import TRIGGER_BODIES, ReportIn

PREFIX = "/api/cases"
MAX_REF = 64  # the routes' CaseRef
OPTIONAL_BODY = {trigger: body_optional(model) for trigger, model in TRIGGER_BODIES.items()}


class _PassOn(Exception):
    """The request is not the plain case: FastAPI answers it."""


class CommandPath:
    """Serves the plain command request; passes every other request to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = _command_of(scope)
        if target is None:
            await self.app(scope, receive, send)
            return
        ref, trigger = target
        headers = _first_headers(scope)
        length = headers.get(b"content-length", b"")
        if not length.isdigit() or b"transfer-encoding" in headers:
            await self.app(scope, receive, send)
            return
        messages = await read_messages(receive)
        try:
            if messages[-1]["type"] != "http.request":
                raise _PassOn  # the client went away while sending
            body = _body(trigger, headers, b"".join(m.get("body", b"") for m in messages))
            if_match = None if trigger is None else _header(headers, b"if-match",
                                                           parse_if_match)
            key = _header(headers, b"idempotency-key", parse_idempotency_key)
        except _PassOn:
            await self.app(scope, replaying(messages, receive), send)
            return
        authorization = headers.get(b"authorization")
        # The body is read: what follows never receives again.
        await self._serve(scope, receive, send, ref, trigger, body, if_match, key,
                          None if authorization is None else authorization.decode("latin-1"))

    async def _serve(self, scope: Scope, receive: Receive, send: Send, ref: str,
                     trigger: str | None, body: Any, if_match: int | None,
                     key: str | None, authorization: str | None) -> None:
        app = scope["app"]
        state = app.state
        context = CommandContext(state.cases, state.places, if_match, key)
        try:
            actor = await authenticate(state.tokens, bearer_token(authorization))
            if trigger is None:
                result = await run_report(context, actor, body)
            else:
                result = await run_command(context, actor, ref, trigger, body)
        except Exception as error:
            handler = _handler(app.exception_handlers, error)
            if handler is None:
                raise  # to the app's 500 handler, as from a route
            response = handler(Request(scope, receive), error)
            if inspect.isawaitable(response):
                response = await response
            await response(scope, receive, send)
            return
        content, extra = answer(result, location=trigger is None)
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
        raw += [(b"content-length", str(len(content)).encode()),
                (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 201 if trigger is None else 200,
                    "headers": raw})
        await send({"type": "http.response.body", "body": content})


def _command_of(scope: Scope) -> tuple[str, str | None] | None:
    """(case ref, trigger) of a command POST, trigger None for a report; else None."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
        return None
    path: str = scope["path"]
    if path == PREFIX:
        return "", None
    if not path.startswith(PREFIX + "/"):
        return None
    ref, slash, trigger = path[len(PREFIX) + 1:].partition("/")
    if not slash or not ref or len(ref) > MAX_REF or trigger not in TRIGGER_BODIES:
        return None
    return ref, trigger


def _first_headers(scope: Scope) -> dict[bytes, bytes]:
    """Each header's first value, as Starlette's ``Headers.get`` (and so FastAPI) reads."""
    first: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        first.setdefault(name, value)
    return first


def _body(trigger: str | None, headers: dict[bytes, bytes], raw: bytes) -> Any:
    model: type[BaseModel] = ReportIn if trigger is None else TRIGGER_BODIES[trigger]
    if not raw:
        if trigger is None or not OPTIONAL_BODY[trigger]:
            raise _PassOn  # FastAPI answers the missing body
        return model()
    if headers.get(b"content-type") != b"application/json":
        raise _PassOn
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise _PassOn
        return model.model_validate(data, from_attributes=True)
    # JSONDecodeError is a ValueError; nesting deeper than the parser's recursion limit is
    # a RecursionError. FastAPI answers either (its 400 for a body it cannot parse).
    except (ValueError, RecursionError, ValidationError):
        raise _PassOn from None


def _header(headers: dict[bytes, bytes], name: bytes,
            parse: Callable[[str | None], Any]) -> Any:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return parse(value.decode("latin-1"))
    except BadRequest:
        raise _PassOn from None


def _handler(handlers: dict[Any, Any], error: Exception) -> Any:
    """The app's handler for ``error``, looked up by class as Starlette does; None for
    what only the catch-all ``Exception`` handler takes."""
    for cls in type(error).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None
