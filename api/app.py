"""The FastAPI application: ``create_app()`` wires routers, error mapping and the store.

``create_app(cases=...)`` takes a service from the caller (tests inject theirs); without
one, the lifespan opens the store named by settings and closes it on shutdown. A new
group of endpoints is one more entry in ``routers()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from api.accounts import Accounts
from api.deps import TokenCache
from api.formtext import FormText
from api.routes.evidence import is_upload, upload_body_limit
from api.scopes import CasePlaces
from api.settings import Settings
from api.wiring import open_cases
from workflows.service import HazardCases

MAX_BODY_BYTES = 256 * 1024
DEFAULT_TOKEN_TTL = 2.0


def routers() -> list[APIRouter]:
    from api.routes import (
        audit,
        cases,
        escalations,
        evidence,
        health,
        open311,
        places,
        reports,
    )

    return [health.router, cases.router, reports.router, open311.router, audit.router,
            evidence.router, escalations.router, places.router]


class BodyLimit:
    """Answers 413 for a body over ``limit`` bytes, declared or streamed, before any route
    reads it. Evidence uploads have their own, larger ``upload_limit``.

    A streamed body is counted as it is received; past the limit, reading it fails, and
    whatever the app then answers (FastAPI turns any failure to read a body into its own
    400) is replaced by the 413, unless the app had already begun its answer."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES, upload_limit: int = 0) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit or limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if is_upload(scope["method"], scope["path"]) else self.limit
        declared = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, receive, send, limit)
            return
        received = 0
        exceeded = started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                exceeded = True
                raise errors.PayloadTooLarge(f"the body is over {limit} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's answer to a body it could not read: the 413 replaces it
            started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except errors.PayloadTooLarge:
            if started:
                raise
        if exceeded and not started:
            await self._too_large(scope, receive, send, limit)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send,
                         limit: int) -> None:
        detail = f"the body is over {limit} bytes"
        if scope["path"].startswith(errors.OPEN311_PREFIX + "/"):
            response = JSONResponse([{"code": 413, "description": detail}], status_code=413)
        else:
            response = errors.problem(413, "content-too-large", detail)
        await response(scope, receive, send)


class HeadAsGet:
    """Answers ``HEAD`` as ``GET`` without the body: RFC 9110 9.1 has a server support HEAD
    wherever it supports GET, and FastAPI's routes declare GET only (Starlette's own routes
    add HEAD themselves). Declaring HEAD on each route would put it in the OpenAPI document
    as a second operation of the same id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def _no_telemetry() -> dict[str, Any]:
    """Newer FastAPI versions look up OpenTelemetry providers on every request (environment
    reads on the event loop, measurable under load); hazardflow exports no telemetry."""
    import inspect

    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def attach(app: FastAPI, cases: HazardCases, token_ttl: float = DEFAULT_TOKEN_TTL) -> None:
    """Serve ``cases`` (a store opened elsewhere) from ``app``."""
    app.state.cases = cases
    app.state.tokens = TokenCache(Accounts(cases), token_ttl)
    app.state.places = CasePlaces()


def create_app(
    cases: HazardCases | None = None,
    *,
    settings: Settings | None = None,
    token_ttl: float = DEFAULT_TOKEN_TTL,
    group_commit: bool = False,
    command_path: bool = True,
) -> FastAPI:
    """The API on ``cases`` (or on the store ``settings`` name, opened at start-up).
    ``command_path=False`` leaves every command request to FastAPI (``api.fastpath``)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = None
        if getattr(app.state, "cases", None) is None:
            owned = open_cases(settings or Settings())
            attach(app, owned, token_ttl)
        committer: Any = None
        if group_commit:
            from workflows.group_commit import GroupCommit

            committer = GroupCommit(app.state.cases)
        try:
            yield
        finally:
            if committer is not None:
                committer.stop()
            if owned is not None:
                owned.shutdown()

    app = FastAPI(
        title="hazardflow",
        version="0.1.0",
        summary="Hazard cases (隐患排查治理): report, notify, rectify, escalate, close.",
        description="Every request needs `Authorization: Bearer <token>` (from `hazardflow "
                    "users add`). Errors are RFC 9457 problem details.",
        lifespan=lifespan,
        **_no_telemetry(),
    )
    if cases is not None:
        attach(app, cases, token_ttl)  # usable without a lifespan too
    errors.install(app)
    for router in routers():
        app.include_router(router)
    # Added first, so innermost: what the command path passes on (never its JSON commands,
    # off the hot path), and inside BodyLimit, so it reads only a body within limits.
    app.add_middleware(FormText)
    if command_path:
        from api.fastpath import CommandPath

        app.add_middleware(CommandPath)  # inside BodyLimit too
    app.add_middleware(BodyLimit, upload_limit=upload_body_limit(settings or Settings()))
    app.add_middleware(HeadAsGet)
    return app


SERVE_GROUP_COMMIT = "HAZARDFLOW_SERVE_GROUP_COMMIT"
SERVE_TOKEN_TTL = "HAZARDFLOW_SERVE_TOKEN_TTL"


def app_from_environment() -> FastAPI:
    """The factory ``hazardflow serve`` gives uvicorn: every worker process builds its own
    app (its own store connections and group-commit writer) from the environment."""
    import os

    app = create_app(
        group_commit=os.environ.get(SERVE_GROUP_COMMIT, "1") == "1",
        token_ttl=float(os.environ.get(SERVE_TOKEN_TTL, DEFAULT_TOKEN_TTL)),
    )
    _freeze_startup_objects()
    return app


def _freeze_startup_objects() -> None:
    """Keep what the process built at start-up (modules, the app, its schemas: hundreds of
    thousands of objects that live as long as the process) out of the garbage collector's
    full passes. Measured in the load benchmark: full collections in each server process
    took up to 95 ms, every 2-3 s, holding every request of that process; frozen, up to
    about 40 ms and much rarer. Nothing is leaked: frozen objects are simply not scanned."""
    import gc

    gc.collect()
    gc.freeze()
