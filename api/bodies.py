"""A request's body read ahead of the app, and the same messages handed on to it.

Middleware that must see a body before deciding (the command path, the form text check)
reads every ``http.request`` message, then gives the next app a ``receive`` that returns
those messages first, so the app reads the body as if nothing had come before it.
"""

from __future__ import annotations

from starlette.types import Message, Receive


async def read_messages(receive: Receive) -> list[Message]:
    """Every message of the body (or the disconnect that cut it short)."""
    messages = [await receive()]
    while messages[-1]["type"] == "http.request" and messages[-1].get("more_body", False):
        messages.append(await receive())
    return messages


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` for whoever handles the request next: the messages already read first."""
    pending = list(reversed(messages))

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay
