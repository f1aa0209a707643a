"""An API client on each store, with accounts for every role inside and outside the
jurisdiction of the test places (grid YS-C01-G01, community YS-C01, street YS)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.accounts import Accounts
from api.app import create_app
from tests.factories import COMMUNITY, GRID, STREET
from workflows.service import HazardCases

# name -> (role, unit). "-x" accounts hold the same role one unit over: out of scope.
ACCOUNTS: dict[str, tuple[str, str]] = {
    "grid_worker": ("grid_worker", GRID),
    "volunteer": ("volunteer", GRID),
    "property_staff": ("property_staff", GRID),
    "safety_officer": ("safety_officer", COMMUNITY),
    "inspector": ("inspector", COMMUNITY),
    "street_supervisor": ("street_supervisor", STREET),
    "department_officer": ("department_officer", "fire"),
    "leader": ("leader", STREET),
    "auditor": ("auditor", STREET),
    "admin": ("admin", STREET),
    "grid_worker-x": ("grid_worker", "YS-C01-G02"),
    "volunteer-x": ("volunteer", "YS-C01-G02"),
    "property_staff-x": ("property_staff", "YS-C02-G01"),
    "safety_officer-x": ("safety_officer", "YS-C02"),
    "inspector-x": ("inspector", "YS-C02"),
    "street_supervisor-x": ("street_supervisor", "XS"),
    "department_officer-x": ("department_officer", "housing"),
    "leader-x": ("leader", "XS"),
    "auditor-x": ("auditor", "XS"),
    "admin-x": ("admin", "XS"),
}


def place_body(n: int = 1, grid: str = GRID, community: str = COMMUNITY) -> dict[str, Any]:
    return {"id": f"P-{n:04d}", "name": f"出租屋 {n}号", "kind": "rental_house",
            "address": f"园山路 {n} 号", "grid": grid, "community": community}


def report_body(n: int = 1, category: str = "flying_wire_charging", **extra: Any) -> dict:
    return {"place": place_body(n), "category": category, "severity": "general",
            "description": "楼道飞线充电", **extra}


@dataclass
class Api:
    """A TestClient plus a token per account name."""

    client: TestClient
    cases: HazardCases
    accounts: Accounts
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **headers}

    def post(self, path: str, who: str, json: Any = None, **headers: str):  # type: ignore[no-untyped-def]
        return self.client.post(path, json=json, headers=self.auth(who, **headers))

    def get(self, path: str, who: str, **params: Any):  # type: ignore[no-untyped-def]
        return self.client.get(path, params=params, headers=self.auth(who))

    def report(self, n: int = 1, who: str = "grid_worker", **extra: Any) -> dict[str, Any]:
        response = self.post("/api/cases", who, report_body(n, **extra))
        assert response.status_code == 201, response.text
        return response.json()


def make_api(cases: HazardCases, token_ttl: float = 0) -> Iterator[Api]:
    accounts = Accounts(cases)
    tokens = {name: accounts.add(name, role, unit) for name, (role, unit) in ACCOUNTS.items()}
    with TestClient(create_app(cases, token_ttl=token_ttl)) as client:
        yield Api(client, cases, accounts, tokens)


@pytest.fixture
def api(cases: HazardCases) -> Iterator[Api]:
    """The API on an empty store of each kind (SQLite, PostgreSQL)."""
    yield from make_api(cases)
