"""What routes depend on: the service, the authenticated caller, protocol headers.

Each is an ``Annotated`` dependency so a route's signature says what it needs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.accounts import Accounts, Unauthenticated
from api.errors import BadRequest
from api.scopes import CasePlaces
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


async def get_places(request: Request) -> CasePlaces:
    return request.app.state.places


async def get_tokens(request: Request) -> TokenCache:
    return request.app.state.tokens


_bearer = HTTPBearer(auto_error=False, description="a token from `hazardflow users add`")


async def get_actor(
    tokens: Annotated[TokenCache, Depends(get_tokens)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The authenticated caller: the actor recorded on every event they cause. A token
    seen recently is answered from memory; otherwise the store is read off the event loop."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("an Authorization: Bearer <token> header is required")
    return tokens.remembered(credentials.credentials) or await run_in_threadpool(
        tokens.authenticate, credentials.credentials)


async def get_if_match(
    if_match: Annotated[str | None, Header(
        description='the case version the command was decided on, e.g. 3 or "3"; a stale '
                    "one answers 409 with the current version", max_length=40)] = None,
) -> int | None:
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 9:
        raise BadRequest(f"If-Match must be a case version number, not {if_match!r}")
    return int(text)


async def get_idempotency_key(
    idempotency_key: Annotated[str | None, Header(
        description="a client-chosen key; a repeat with the same key and body returns the "
                    "original response and records nothing new", max_length=200)] = None,
) -> str | None:
    if idempotency_key is None:
        return None
    key = idempotency_key.strip()
    if not key or not key.isprintable():
        raise BadRequest("Idempotency-Key must be 1 to 200 printable characters")
    return key


CasesDep = Annotated[HazardCases, Depends(get_cases)]
PlacesDep = Annotated[CasePlaces, Depends(get_places)]
ActorDep = Annotated[Actor, Depends(get_actor)]
IfMatch = Annotated[int | None, Depends(get_if_match)]
IdempotencyKey = Annotated[str | None, Depends(get_idempotency_key)]
