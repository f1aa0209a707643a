"""Liveness, without authentication: for process managers and the load benchmark."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="the server is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
