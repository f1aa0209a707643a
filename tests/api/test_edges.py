"""Edge cases found by probing the running API as its clients would: what a caller outside
a case's scope can learn from a 404, header values that are not plain ASCII, bodies streamed
without a declared length."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from tests import factories as f
from tests.api.conftest import Api, report_body
from tests.api.test_errors import assert_problem

V2 = "/open311/v2"


# -- a 404 for a case outside the caller's scope says no more than one for no case ----------

def test_out_of_scope_case_by_number_reads_like_an_unknown_number(api: Api) -> None:
    case = api.report()
    number, unknown = case["number"], "HZ-2026-999999"
    requests = [
        lambda ref: api.get(f"/api/cases/{ref}", "grid_worker-x"),
        lambda ref: api.get(f"/api/cases/{ref}/history", "grid_worker-x"),
        lambda ref: api.post(f"/api/cases/{ref}/comment", "grid_worker-x", {"text": "hi"}),
        lambda ref: api.client.post(  # not the plain input api.fastpath serves
            f"/api/cases/{ref}/comment", content=b'{"text": "hi"}', headers=api.auth(
                "grid_worker-x", **{"Content-Type": "application/json; charset=utf-8"})),
    ]
    for send in requests:
        hidden = assert_problem(send(number), 404)
        missing = assert_problem(send(unknown), 404)
        assert case["case_id"] not in hidden["detail"]
        assert hidden["detail"] == missing["detail"].replace(unknown, number)
        assert hidden["type"] == missing["type"]


def test_open311_out_of_scope_request_reads_like_an_unknown_one(api: Api) -> None:
    case = api.report()
    key = {"api_key": api.tokens["grid_worker-x"]}
    [hidden] = api.client.get(f"{V2}/requests/{case['number']}.json", params=key).json()
    [missing] = api.client.get(f"{V2}/requests/HZ-2026-999999.json", params=key).json()
    assert case["case_id"] not in hidden["description"]
    assert hidden == {**missing, "description": missing["description"].replace(
        "HZ-2026-999999", case["number"])}


# -- header values a client can send -----------------------------------------------------------

def _raw(api: Api, method: str, path: str, body: bytes, headers: dict[str, Any]) -> Any:
    """A request whose header bytes reach the app as sent (the TestClient re-encodes a
    non-ASCII header value as UTF-8)."""
    import asyncio

    import httpx

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=api.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, content=body, headers=headers)

    return asyncio.run(send())


@pytest.mark.parametrize("value", [b"\xb2", b'"\xb9"', b"1\xb2", b'W/"\xb3"', b'"1'])
@pytest.mark.parametrize("content_type", ["application/json",
                                          "application/json; charset=utf-8"])
def test_malformed_if_match_is_400_not_500(api: Api, value: bytes, content_type: str) -> None:
    """Latin-1 superscripts are digits to ``str.isdigit`` but not to ``int``, and an entity
    tag needs both its quotes. The plain content type goes through ``api.fastpath``, the
    other through the FastAPI route."""
    case_id = f.report(api.cases)
    headers = {**api.auth("street_supervisor"), "Content-Type": content_type,
               "If-Match": value}
    response = _raw(api, "POST", f"/api/cases/{case_id}/comment", b'{"text": "a"}', headers)
    assert_problem(response, 400)
    assert len(api.cases.history(case_id)) == 1


# -- bodies streamed without a declared length -------------------------------------------------

def _chunks(body: bytes, size: int = 16_384) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


def _streamed(api: Api, path: str, body: bytes, **headers: Any):  # type: ignore[no-untyped-def]
    return api.client.post(path, content=_chunks(body), headers=headers)


def test_oversized_body_streamed_without_a_length_is_413(api: Api) -> None:
    import json

    case_id = f.report(api.cases)
    big = json.dumps({**report_body(), "description": "x" * 300_000}).encode()
    json_type = {"Content-Type": "application/json"}
    assert_problem(_streamed(api, "/api/cases", big,
                             **api.auth("grid_worker", **json_type)), 413)
    comment = json.dumps({"text": "x" * 300_000}).encode()
    assert_problem(_streamed(api, f"/api/cases/{case_id}/comment", comment,
                             **api.auth("street_supervisor", **json_type)), 413)
    assert len(api.cases.history(case_id)) == 1
    # a small streamed body is still served
    small = _streamed(api, f"/api/cases/{case_id}/comment", b'{"text": "a"}',
                      **api.auth("street_supervisor", **json_type))
    assert small.status_code == 200, small.text


@pytest.mark.parametrize("streamed", [False, True])
def test_open311_oversized_body_is_413_in_the_specifications_array(api: Api,
                                                                   streamed: bool) -> None:
    form = (f"api_key={api.tokens['grid_worker']}&service_code=blocked_fire_exit"
            f"&address_string=x&description={'a' * 300_000}").encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = (_streamed(api, f"{V2}/requests.json", form, **headers) if streamed
                else api.client.post(f"{V2}/requests.json", content=form, headers=headers))
    assert response.status_code == 413, response.text
    [item] = response.json()
    assert item["code"] == 413 and item["description"]


# -- a filter outside the caller's area is answered as one nobody knows -------------------

@pytest.mark.parametrize("who,filters,twin", [
    ("safety_officer", {"community": "YS-C02"}, "YS-C08"),
    ("grid_worker", {"grid": "YS-C01-G02"}, "YS-C01-G07"),
    ("grid_worker", {"community": "YS-C02"}, "YS-C08"),
    ("safety_officer", {"place": "P-0003"}, "P-0009"),
])
def test_a_filter_outside_the_callers_area_is_answered_as_an_unknown_one(
        api: Api, who: str, filters: dict[str, str], twin: str) -> None:
    """It matched no row, but answered an empty report (200) where a unit or place nobody
    knows is refused (422): which of two names exists elsewhere could be read off."""
    f.report(api.cases, 1)
    f.to_notified(api.cases, 2)
    api.cases.report(f.safety_officer, place=replace(f.place(3), grid="YS-C02-G01",
                                                      community="YS-C02"),
                     category="gas_safety", severity="general", description="燃气")
    assert api.get("/api/cases", who).json()["total"] == 2  # the caller's own area
    ((key, value),) = filters.items()
    takes = {"/api/cases": {"community", "grid"}, "/api/ledger": {"community", "grid"},
             "/api/risk": {"community", "place"}, "/api/stats": {"community"}}
    for path, keys in takes.items():
        if key in keys:
            hidden = api.get(path, who, **filters)
            unknown = api.get(path, who, **{key: twin})
            assert (hidden.status_code, unknown.status_code) == (422, 422), path
            assert hidden.json()["detail"].replace(value, "X") == (
                unknown.json()["detail"].replace(twin, "X")), path
    assert api.get("/api/risk", "street_supervisor", **filters).status_code == 200


def test_an_accountability_unit_outside_the_callers_area_is_answered_as_an_unknown_one(
        api: Api) -> None:
    # Without a level the unit may be a person's name: it answered an empty report for a
    # unit elsewhere, and its "did you mean" named units elsewhere (API QA helper).
    api.cases.report(f.safety_officer, place=replace(f.place(3), grid="YS-C02-G03",
                                                      community="YS-C02"),
                     category="gas_safety", severity="general", description="燃气")
    for who, hidden, twin in (("grid_worker", "YS-C02", "YS-C97"),
                              ("grid_worker", "YS-C02-G03", "YS-C02-G97"),
                              ("safety_officer", "YS-C02-G03", "YS-C01-G97")):
        answers = [api.get("/api/accountability", who, unit=unit) for unit in (hidden, twin)]
        assert [a.status_code for a in answers] == [422, 422], who
        assert answers[0].json()["detail"].replace(hidden, "X") == (
            answers[1].json()["detail"].replace(twin, "X"))
    near = api.get("/api/accountability", "safety_officer", unit="YS-C02-G93").json()
    assert "YS-C02-G03" not in near["detail"]  # no hint at a grid of another community
    # department codes are public: a department named by anyone is no secret to keep
    fire = api.get("/api/accountability", "grid_worker", level="department", unit="fire")
    assert fire.status_code == 200, fire.text


def test_open311_unknown_service_code_is_named_as_a_service(api: Api) -> None:
    key = api.tokens["grid_worker"]
    for response in (
        api.client.get(f"{V2}/services/ufo.json"),
        api.client.get(f"{V2}/requests.json", params={"api_key": key, "service_code": "ufo"}),
        api.client.post(f"{V2}/requests.json", data={
            "api_key": key, "service_code": "ufo", "description": "x", "address_string": "y"}),
    ):
        assert response.status_code == 404, response.text
        [item] = response.json()
        assert item["code"] == 404
        assert "service_code 'ufo'" in item["description"]
        assert "case" not in item["description"]


# -- instants and days a client can type -------------------------------------------------------

@pytest.mark.parametrize("occurred_at", [
    "0001-01-01T00:00:00+14:00",  # no UTC instant: before year 1
    "0001-01-01T07:59:59+08:00",
    "9999-12-31T23:59:59-14:00",  # no UTC instant: after year 9999
    "0001-01-01T00:00:00-14:00",  # an instant, but no hazard was found in year 1
])
def test_occurred_at_outside_the_years_served_is_422_not_500(api: Api,
                                                            occurred_at: str) -> None:
    case_id = f.report(api.cases)
    before = api.cases.recorder.max_notification_id()
    assert_problem(api.post(f"/api/cases/{case_id}/comment", "street_supervisor",
                            {"text": "a", "occurred_at": occurred_at}), 422)
    assert_problem(api.post("/api/cases", "grid_worker",
                            report_body(2, occurred_at=occurred_at)), 422)
    assert api.cases.recorder.max_notification_id() == before


@pytest.mark.parametrize("deadline", ["9999-12-31", "0001-01-01"])
def test_a_notice_deadline_outside_the_years_served_is_422(api: Api, deadline: str) -> None:
    """As an extension's deadline always was."""
    case_id = f.report(api.cases)
    assert_problem(api.post(f"/api/cases/{case_id}/notify", "safety_officer",
                            {"party": {"name": "x", "role": "owner"}, "deadline": deadline}),
                   422)
    assert api.cases.get_case(case_id).state == "found"


@pytest.mark.parametrize("param", ["start_date", "end_date"])
@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_open311_dates_without_a_utc_instant_are_400_not_500(api: Api, param: str,
                                                             when: str) -> None:
    api.report()
    response = api.client.get(f"{V2}/requests.json",
                              params={"api_key": api.tokens["leader"], param: when})
    assert response.status_code == 400, response.text
    [item] = response.json()
    assert item["code"] == 400 and param in item["description"]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("path,param", [("/api/ledger", "found_from"),
                                        ("/api/ledger", "found_to"),
                                        ("/api/audit/digest", "date")])
def test_report_days_outside_the_years_served_are_422_not_500(api: Api, path: str,
                                                              param: str, day: str) -> None:
    """The ledger's found_from / found_to and the audit digest's date: the first or last
    day of the calendar has no UTC start or end in China time (OverflowError, a 500)."""
    api.report()
    body = assert_problem(api.get(path, "admin", **{param: day}), 422)
    assert param in body["detail"]
