"""Form bodies must be UTF-8 text, or they are refused whole (400).

Starlette decodes a form-encoded body's percent-escapes as UTF-8 *with replacement*: a
value that is not UTF-8 (a client sending GBK, a truncated character) would be stored with
U+FFFD where its characters were, a description nobody can read back, recorded as if the
citizen had typed it. Open311 clients (``POST /open311/v2/requests.json``) send such forms.
``FormText`` reads a form-encoded body before the app does, refuses it when a name or value
is not UTF-8 or another charset is declared, and otherwise hands the same bytes on.

A ``multipart/form-data`` body (the other way to send a form; some Open311 clients do) is
worse: Starlette decodes a text field that is not UTF-8 as Latin-1, so GBK's 隐患 was
stored as "Òþ»¼". Its text fields (the parts without a file name) are checked the same
way. Evidence uploads, whose bodies are files of megabytes, are not read ahead here.
"""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from urllib.parse import unquote_to_bytes

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api import errors
from api.bodies import read_messages, replaying
from api.routes.evidence import is_upload

FORM = b"application/x-www-form-urlencoded"
MULTIPART = b"multipart/form-data"


class FormText:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = _form_charset(scope) if scope["type"] == "http" else None
        multipart = (_multipart_type(scope) if scope["type"] == "http" and declared is None
                     and not is_upload(scope["method"], scope["path"]) else None)
        if declared is None and multipart is None:
            await self.app(scope, receive, send)
            return
        messages = await read_messages(receive)
        body = b"".join(m.get("body", b"") for m in messages)
        if multipart is not None:
            problem = _multipart_not_utf8(multipart, body)
        else:
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


def _multipart_type(scope: Scope) -> bytes | None:
    """The whole Content-Type of a multipart form body (with its boundary); None for any
    other body."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value if value.partition(b";")[0].strip().lower() == MULTIPART else None
    return None


def _multipart_not_utf8(content_type: bytes, body: bytes) -> str | None:
    """What text field of a multipart form body is not UTF-8 text, or None (a body that
    is not well-formed is left for the app to answer)."""
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type + b"\r\n\r\n" + body)
    if not message.is_multipart():
        return None
    for part in message.iter_parts():
        if part.get_filename() is not None:
            continue  # a file: its bytes are kept as sent
        name = part.get_param("name", header="content-disposition") or "?"
        charset = part.get_content_charset()
        if charset not in (None, "utf-8", "utf8"):
            return f"the form field {name!r} is sent as {charset}: form fields are read as UTF-8"
        payload = part.get_payload(decode=True)
        try:
            if isinstance(payload, bytes):
                payload.decode("utf-8")
        except UnicodeDecodeError:
            return f"the form field {name!r} is not UTF-8 text"
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
