"""``api.fastpath``: the plain command request is served without FastAPI's routing, and
every request, plain or not, is answered exactly as the FastAPI routes answer it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from api.accounts import Accounts
from api.app import create_app
from api.deps import get_command_context, get_report_context
from api.settings import Settings
from api.wiring import open_cases
from domain.clock import FixedClock
from tests.api.conftest import ACCOUNTS, TestClient, report_body
from tests.conftest import START
from workflows.service import HazardCases

UUIDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
JSON = {"Content-Type": "application/json"}


class Side:
    """One app on its own store, with a token per account."""

    def __init__(self, cases: HazardCases, command_path: bool) -> None:
        accounts = Accounts(cases)
        self.tokens = {name: accounts.add(name, role, unit)
                       for name, (role, unit) in ACCOUNTS.items()}
        self.app = create_app(cases, token_ttl=0, command_path=command_path)
        self.client = TestClient(self.app)
        self.last_case = ""

    def send(self, path: str, who: str | None, content: bytes | None,
             headers: dict[str, str | bytes]) -> tuple[Any, ...]:
        """The answer with case ids replaced by a marker (each store makes its own)."""
        auth = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        response = self.client.post(path.replace("{case}", self.last_case), content=content,
                                    headers={**auth, **headers})
        if response.status_code == 201:
            self.last_case = response.json()["case_id"]
        shown = {k: UUIDS.sub("<id>", v) for k, v in response.headers.items()
                 if k in {"content-type", "etag", "location", "www-authenticate",
                          "idempotent-replayed"}}
        return response.status_code, shown, UUIDS.sub("<id>", response.text)


@pytest.fixture
def sides(tmp_path) -> Iterator[tuple[Side, Side]]:  # type: ignore[no-untyped-def]
    stores = [open_cases(Settings(sqlite_path=tmp_path / f"{n}.db", database_url=None),
                         clock=FixedClock(START)) for n in (1, 2)]
    both = (Side(stores[0], command_path=True), Side(stores[1], command_path=False))
    with both[0].client, both[1].client:
        yield both
    for cases in stores:
        cases.shutdown()


def _json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


DEEP = b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"  # deeper than json can parse

# (path, account, body bytes or None, headers): run in order on both sides.
REQUESTS: list[tuple[str, str | None, bytes | None, dict[str, str | bytes]]] = [
    ("/api/cases", "grid_worker", _json(report_body(1)), JSON),
    ("/api/cases/{case}/notify", "safety_officer",
     _json({"party": {"name": "房东", "role": "landlord"}, "deadline": "2026-03-09"}),
     {**JSON, "If-Match": '"1"'}),
    ("/api/cases/{case}/start_rectification", "safety_officer", None, {"If-Match": "1"}),
    ("/api/cases/{case}/start_rectification", "safety_officer", None, {"If-Match": "W/\"2\""}),
    ("/api/cases/{case}/start_rectification", "safety_officer", None, {"If-Match": "latest"}),
    ("/api/cases/{case}/start_rectification", "safety_officer", None, {"If-Match": "9" * 41}),
    ("/api/cases/{case}/comment", "safety_officer", _json({"text": "任意"}),
     {**JSON, "If-Match": "*"}),
    ("/api/cases/{case}/comment", "safety_officer", _json({"text": "x"}),
     {**JSON, "If-Match": '"4", "5"'}),
    ("/api/cases/{case}/comment", "safety_officer-x", _json({"text": "hi"}), JSON),
    ("/api/cases/{case}/verify", "inspector", _json({"passed": True}), JSON),
    ("/api/cases/{case}/verify", "grid_worker", _json({"passed": True}), JSON),
    ("/api/cases/{case}/submit_rectification", "safety_officer", b"", JSON),
    ("/api/cases/{case}/submit_rectification", "safety_officer", b'{"measures": ', JSON),
    ("/api/cases/{case}/submit_rectification", "safety_officer", b'["measures"]', JSON),
    ("/api/cases/{case}/submit_rectification", "safety_officer", b"null", JSON),
    ("/api/cases/{case}/comment", "safety_officer", DEEP, JSON),  # a RecursionError: 500
    ("/api/cases/{case}/submit_rectification", "safety_officer",
     _json({"measures": "拆除", "extra": 1}), JSON),
    ("/api/cases/{case}/submit_rectification", "safety_officer", _json({"measures": "拆除"}),
     {"Content-Type": "text/plain"}),
    ("/api/cases/{case}/submit_rectification", "safety_officer", _json({"measures": "拆除"}),
     {"Content-Type": "application/json; charset=utf-8"}),
    ("/api/cases/HZ-2026-000001/comment", "street_supervisor", _json({"text": "编号"}), JSON),
    ("/api/cases/HZ-2026-000099/comment", "street_supervisor", _json({"text": "x"}), JSON),
    ("/api/cases/not-a-case/comment", "street_supervisor", _json({"text": "x"}), JSON),
    ("/api/cases/" + "x" * 65 + "/comment", "street_supervisor", _json({"text": "x"}), JSON),
    ("/api/cases/{case}/comment", None, _json({"text": "x"}), JSON),
    ("/api/cases/{case}/comment", None, _json({"text": "x"}),
     {**JSON, "Authorization": "Basic Z3c6eA=="}),
    ("/api/cases/{case}/comment", None, b"{", {**JSON, "Authorization": "Bearer nobody"}),
    ("/api/cases/{case}/comment", "leader", _json({"text": "x"}), JSON),
    ("/api/cases", "grid_worker", _json(report_body(1)), JSON),
    ("/api/cases", "grid_worker", _json(report_body(2)), {**JSON, "Idempotency-Key": "k1"}),
    ("/api/cases", "grid_worker", _json(report_body(2)), {**JSON, "Idempotency-Key": "k1"}),
    ("/api/cases", "grid_worker", _json(report_body(3)), {**JSON, "Idempotency-Key": "k1"}),
    ("/api/cases", "grid_worker", _json(report_body(3)), {**JSON, "Idempotency-Key": " "}),
    ("/api/cases", "grid_worker", _json(report_body(3)),
     {**JSON, "Idempotency-Key": "k" * 201}),
    ("/api/cases", "grid_worker", _json(report_body(3)),
     {**JSON, "Idempotency-Key": "ключ".encode()}),
    ("/api/cases", "grid_worker-x", _json(report_body(4)), JSON),
    ("/api/cases", "leader", _json(report_body(4)), JSON),
    ("/api/cases", "grid_worker", _json({**report_body(4), "description": " "}), JSON),
    ("/api/cases", "grid_worker", _json({**report_body(4), "occurred_at": "2030-01-01"}),
     JSON),
    ("/api/cases", "grid_worker", None, JSON),
    ("/api/cases", "grid_worker", DEEP, JSON),
    ("/api/cases", "grid_worker", _json({"description": "x" * 300_000}), JSON),
    ("/api/cases", "grid_worker", _json(report_body(5, confirm_new=True)),
     {**JSON, "If-Match": "whatever"}),
]


def test_every_command_request_is_answered_as_the_routes_answer_it(
        sides: tuple[Side, Side]) -> None:
    fast, routes = sides
    for path, who, content, headers in REQUESTS:
        assert fast.send(path, who, content, headers) == routes.send(path, who, content,
                                                                   headers), path


def test_plain_commands_skip_fastapis_routing(sides: tuple[Side, Side]) -> None:
    fast, _ = sides

    def unreachable() -> None:
        raise AssertionError("served by the FastAPI route")

    fast.app.dependency_overrides[get_report_context] = unreachable
    fast.app.dependency_overrides[get_command_context] = unreachable
    status, _, _ = fast.send("/api/cases", "grid_worker", _json(report_body(1)), JSON)
    assert status == 201
    status, _, _ = fast.send("/api/cases/{case}/comment", "safety_officer",
                             _json({"text": "快"}), {**JSON, "If-Match": "1"})
    assert status == 200
