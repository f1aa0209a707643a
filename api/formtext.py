"""Form bodies must be UTF-8 text, or they are refused whole (400).

Starlette decodes a form-encoded body's percent-escapes as UTF-8 *with replacement*: a
value that is not UTF-8 (a client sending GBK, a truncated character) would be stored with
U+FFFD where its characters were, a description nobody can read back, recorded as if the
citizen had typed it. Open311 clients (``POST /open311/v2/requests.json``) send such forms.
``FormText`` reads a form-encoded body before the app does, refuses it when a name or value
is not UTF-8 or another charset is declared, and otherwise hands the same bytes on.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api import errors
from api.bodies import read_messages, replaying

FORM = b"application/x-www-form-urlencoded"


class FormText:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = _form_charset(scope) if scope["type"] == "http" else None
        if declared is None:
            await self.app(scope, receive, send)
            return
        messages = await read_messages(receive)
        body = b"".join(m.get("body", b"") for m in messages)
        problem = (_not_utf8(body) if declared in ("utf-8", "utf8")
                   else f"form bodies are read as UTF-8, not {declared}")
        if problem is not None:
            await _refuse(scope, problem)(scope, receive, send)
            return
        await self.app(scope, replaying(messages, receive), send)


def _form_charset(scope: Scope) -> str | None:
    """The charset a form-encoded body declares ("utf-8" when none); None for any other
    body."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            kind, _, params = value.partition(b";")
            if kind.strip().lower() != FORM:
                return None
            for param in params.split(b";"):
                key, _, charset = param.partition(b"=")
                if key.strip().lower() == b"charset":
                    return charset.strip().strip(b'"').decode("latin-1").lower()
            return "utf-8"
    return None


def _not_utf8(body: bytes) -> str | None:
    """What in a form body is not UTF-8 text, or None."""
    for pair in body.split(b"&"):
        name, _, value = pair.partition(b"=")
        for part in (name, value):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                shown = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")
                return f"the form field {shown!r} is not UTF-8 text"
    return None


def _refuse(scope: Scope, detail: str) -> JSONResponse:
    if scope["path"].startswith(errors.OPEN311_PREFIX + "/"):
        return JSONResponse([{"code": 400, "description": detail}], status_code=400)
    return errors.problem(400, "malformed-body", detail)
