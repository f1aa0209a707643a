"""What routes depend on: the service, the authenticated caller, protocol headers.

Each is an ``Annotated`` dependency so a route's signature says what it needs.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from api.accounts import Accounts, Unauthenticated
from api.errors import BadRequest
from api.scopes import CasePlaces
from api.threads import commands
from domain.values import Actor
from workflows.service import HazardCases


class TokenCache:
    """Remembers who a token stands for, for ``ttl`` seconds.

    Authenticating costs two store reads per request; under load that is a third of a
    command's reads. The price is that a revoked token keeps working for at most ``ttl``
    seconds in each server process that saw it recently (``ttl=0`` disables the cache).
    Unknown tokens are never cached, so a new account works at once.
    """

    def __init__(self, accounts: Accounts, ttl: float,
                 now: Callable[[], float] = time.monotonic) -> None:
        self._accounts = accounts
        self._ttl = ttl
        self._now = now
        self._known: dict[str, tuple[float, Actor]] = {}
        self._lock = threading.Lock()

    def remembered(self, token: str) -> Actor | None:
        """The actor of a token seen less than ``ttl`` ago, without touching the store."""
        if self._ttl <= 0:
            return None
        with self._lock:
            hit = self._known.get(token)
        return hit[1] if hit is not None and self._now() - hit[0] < self._ttl else None

    def authenticate(self, token: str | None) -> Actor:
        if not token or self._ttl <= 0:
            return self._accounts.authenticate(token)
        now = self._now()
        hit = self.remembered(token)
        if hit is not None:
            return hit
        actor = self._accounts.authenticate(token)
        with self._lock:
            if len(self._known) > 10_000:
                self._known.clear()
            self._known[token] = (now, actor)
        return actor


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in
# the thread pool, and a thread hop per dependency per request is measurable under load.

async def get_cases(request: Request) -> HazardCases:
    return request.app.state.cases


async def get_tokens(request: Request) -> TokenCache:
    return request.app.state.tokens


bearer = HTTPBearer(auto_error=False, description="a token from `hazardflow users add`")


async def get_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """The authenticated caller: the actor recorded on every event they cause. A token
    seen recently is answered from memory; otherwise the store is read off the event loop.
    (The token cache comes from ``request`` rather than a dependency of its own: each
    dependency costs FastAPI's resolution on every request.)"""
    return await authenticate(request.app.state.tokens,
                              credentials.credentials if credentials else None)


async def authenticate(tokens: TokenCache, token: str | None) -> Actor:
    """The actor of a bearer token (``get_actor``; ``api.fastpath`` calls it too)."""
    if not token:
        raise Unauthenticated("an Authorization: Bearer <token> header is required")
    remembered = tokens.remembered(token)
    if remembered is not None:
        return remembered
    return await commands.run(tokens.authenticate, token)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, read exactly as
    ``bearer`` (FastAPI's ``HTTPBearer``) reads it, without building its credentials."""
    scheme, token = get_authorization_scheme_param(authorization)
    if not (authorization and scheme and token) or scheme.lower() != "bearer":
        return None
    return token


# The headers' lengths are checked by their parsers, not by FastAPI's validation: a header
# that is not what it should be is a 400 (bad request), as every other header problem, not
# a 422 (a body or query that breaks a rule). The OpenAPI document still states them.
MAX_IF_MATCH, MAX_IDEMPOTENCY_KEY = 40, 200
IfMatchHeader = Annotated[str | None, Header(
    description='the case version the command was decided on, e.g. 3 or "3" (* for any); '
                "a stale one answers 409 with the current version",
    json_schema_extra={"maxLength": MAX_IF_MATCH})]
IdempotencyKeyHeader = Annotated[str | None, Header(
    description="a client-chosen key; a repeat with the same key and body returns the "
                "original response and records nothing new",
    json_schema_extra={"maxLength": MAX_IDEMPOTENCY_KEY})]


_VERSION_TAG = re.compile(r'(?:W/)?("?)([0-9]{1,9})\1')


def parse_if_match(if_match: str | None) -> int | None:
    """A version, bare or as an entity tag (``3``, ``"3"``, ``W/"3"``: a version is exact
    however it is marked), or None for no condition: no header, or ``*``, which RFC 9110
    matches to any current version (a case that does not exist is still a 404). ASCII
    digits only: a header is read as Latin-1, where ``str.isdigit`` also takes
    superscripts. A list of tags is refused: a command is decided on one version."""
    if if_match is None or if_match.strip() == "*":
        return None
    if len(if_match) > MAX_IF_MATCH:
        raise BadRequest(f"If-Match must be a case version number, not {len(if_match)} "
                         "characters")
    match = _VERSION_TAG.fullmatch(if_match.strip())
    if match is None:
        raise BadRequest(f"If-Match must be a case version number, not {if_match!r}")
    return int(match.group(2))


def parse_idempotency_key(idempotency_key: str | None) -> str | None:
    if idempotency_key is None:
        return None
    # ASCII, as a structured-field string (draft-ietf-httpapi-idempotency-key-header): a
    # header is read as Latin-1, so a key sent as UTF-8 was otherwise kept as mojibake, or
    # refused when one of its bytes read as a C1 control.
    key = idempotency_key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not (key.isascii() and key.isprintable()):
        raise BadRequest("Idempotency-Key must be 1 to 200 printable ASCII characters")
    return key


async def get_if_match(if_match: IfMatchHeader = None) -> int | None:
    return parse_if_match(if_match)


async def get_idempotency_key(idempotency_key: IdempotencyKeyHeader = None) -> str | None:
    return parse_idempotency_key(idempotency_key)


@dataclass(frozen=True)
class CommandContext:
    """Everything a command route needs besides its caller and body, as one dependency:
    FastAPI resolves every dependency on every request, at a measurable cost each (the
    command routes had five; the load benchmark's profile put dependency resolution at
    a sixth of a server process's CPU)."""

    cases: HazardCases
    places: CasePlaces
    if_match: int | None
    idempotency_key: str | None


async def get_command_context(request: Request, if_match: IfMatchHeader = None,
                              idempotency_key: IdempotencyKeyHeader = None) -> CommandContext:
    state = request.app.state
    return CommandContext(state.cases, state.places, parse_if_match(if_match),
                          parse_idempotency_key(idempotency_key))


async def get_report_context(request: Request,
                             idempotency_key: IdempotencyKeyHeader = None) -> CommandContext:
    """A report has no If-Match: there is no case yet to be a version of."""
    state = request.app.state
    return CommandContext(state.cases, state.places, None,
                          parse_idempotency_key(idempotency_key))


CasesDep = Annotated[HazardCases, Depends(get_cases)]
ActorDep = Annotated[Actor, Depends(get_actor)]
IfMatch = Annotated[int | None, Depends(get_if_match)]
IdempotencyKey = Annotated[str | None, Depends(get_idempotency_key)]
CommandDep = Annotated[CommandContext, Depends(get_command_context)]
ReportDep = Annotated[CommandContext, Depends(get_report_context)]
