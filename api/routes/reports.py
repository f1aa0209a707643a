"""Read models over HTTP (wired to ``projections`` when they land)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["reports"])
