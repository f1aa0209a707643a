"""Field types and the problem-details model shared by every body and response."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from domain.errors import DomainError
from domain.values import printable


def _printable(value: str) -> str:
    # The domain's rule (domain.values.printable), told at the edge as a field's 422 with the
    # field's name, before any command runs.
    try:
        return printable(value, "text")
    except DomainError as error:
        raise ValueError(str(error)) from None


Printable = AfterValidator(_printable)
OptionalPrintable = AfterValidator(lambda value: value if value is None else _printable(value))


def trimmed(max_length: int, min_length: int = 1) -> StringConstraints:
    """A trimmed string's bounds: ``Annotated[str, trimmed(200), Printable]`` is text of at
    most 200 characters with no unstorable characters. (Written out as an ``Annotated``
    alias, a field type is one a type checker can read; a function's result is not.)"""
    return StringConstraints(strip_whitespace=True, min_length=min_length,
                             max_length=max_length)


Code = Annotated[str, StringConstraints(min_length=1, max_length=100,
                                        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
MediaType = Annotated[str, StringConstraints(max_length=100,
                                             pattern=r"^[A-Za-z0-9.+-]+/[A-Za-z0-9.+-]+$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]


class Strict(BaseModel):
    """Unknown fields are an error: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """RFC 9457 problem details; some problems add members (e.g. ``current_version``)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "https://hazardflow.invalid/problems/version-conflict",
        "title": "Conflict", "status": 409,
        "detail": "case HZ-2026-000001 is at version 4, not 3: reload it and decide again",
        "current_version": 4, "expected_version": 3}]})

    type: str = Field(description="a URI naming the kind of problem")
    title: str
    status: int
    detail: str


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems a route may answer."""
    described = {
        400: "malformed request (bad JSON, bad header)",
        401: "missing, unknown or revoked bearer token",
        403: "the caller's role may not do this",
        404: "no such case, or the case is outside the caller's jurisdiction",
        409: "stale If-Match version, illegal transition from the case's state, a "
             "probable duplicate, or busy: the command's saves kept colliding with "
             "concurrent writers on the case (try again)",
        413: "request body too large",
        422: "invalid input, a broken rule, or an Idempotency-Key reused for another body",
    }
    return {s: {"model": Problem, "description": described[s],
                "content": {"application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"}}}} for s in statuses}
