"""Open311 GeoReport v2: services, form-encoded requests with api_key, status reads and the
specification's error array."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from tests import factories as f
from tests.api.conftest import Api

V2 = "/open311/v2"


def file(api: Api, who: str = "grid_worker", **form: str):  # type: ignore[no-untyped-def]
    data = {"api_key": api.tokens[who], "service_code": "blocked_fire_exit",
            "description": "楼梯间堆放杂物", "address_string": "园山路 8 号", **form}
    return api.client.post(f"{V2}/requests.json", data=data)


def test_services_are_the_hazard_categories(api: Api) -> None:
    services = api.client.get(f"{V2}/services.json").json()
    assert {s["service_code"] for s in services} >= {"blocked_fire_exit", "gas_safety"}
    # realtime: "the service request ID will be returned immediately" (GeoReport v2), as
    # POST requests.json does; batch promised a token to trade for it later, which a
    # client would ask for at tokens/{token}.json, a method this server does not have.
    assert all(s["metadata"] is True and s["type"] == "realtime" for s in services)
    assert file(api).json()[0]["service_request_id"].startswith("HZ-")
    definition = api.client.get(f"{V2}/services/gas_safety.json").json()
    assert {a["code"] for a in definition["attributes"]} >= {"grid", "place_id", "severity"}


def test_a_request_is_filed_as_the_api_keys_account_and_read_back(api: Api) -> None:
    created = file(api, media_url="https://example.invalid/p.jpg",
                   **{"attribute[severity]": "major"})
    assert created.status_code == 201, created.text
    number = created.json()[0]["service_request_id"]
    case = api.cases.get_case(number)
    assert (case.reported_by["id"], case.severity, case.place["grid"]) == (
        "grid_worker", "major", f.GRID)

    one = api.client.get(f"{V2}/requests/{number}.json",
                         params={"api_key": api.tokens["safety_officer"]}).json()[0]
    assert (one["status"], one["service_code"], one["media_url"]) == (
        "open", "blocked_fire_exit", "https://example.invalid/p.jpg")
    assert one["description"] == "楼梯间堆放杂物"
    assert datetime.fromisoformat(one["requested_datetime"]).utcoffset() is not None
    listed = api.client.get(f"{V2}/requests.json", params={"api_key": api.tokens["leader"],
                                                           "status": "open"}).json()
    assert [r["service_request_id"] for r in listed] == [number]


def test_status_closed_and_agency_responsible(api: Api) -> None:
    escalated = api.cases.get_case(f.to_escalated(api.cases, 2))
    got = api.client.get(f"{V2}/requests/{escalated.number}.json",
                         headers=api.auth("leader")).json()[0]
    assert (got["status"], got["agency_responsible"]) == ("open", "消防")
    closed = api.cases.get_case(f.to_awaiting_verification(api.cases, 3))
    api.cases.verify(closed.id, f.inspector, passed=True)
    got = api.client.get(f"{V2}/requests.json", params={"api_key": api.tokens["leader"],
                                                        "status": "closed"}).json()
    assert [r["service_request_id"] for r in got] == [closed.number]


def test_errors_are_the_specifications_array(api: Api) -> None:
    def error(response, status: int) -> str:  # type: ignore[no-untyped-def]
        assert response.status_code == status, response.text
        [item] = response.json()
        assert item["code"] == status and item["description"]
        return item["description"]

    error(file(api, api_key="nope"), 403)
    error(file(api, service_code="ufo"), 404)
    assert "location" in error(file(api, address_string=""), 400)
    assert "grid" in error(file(api, who="safety_officer"), 400)
    error(api.client.post(f"{V2}/requests.json", data={"service_code": "gas_safety"}), 400)
    error(file(api, who="grid_worker-x", **{"attribute[grid]": f.GRID}), 403)
    error(api.client.get(f"{V2}/requests/HZ-2026-999999.json",
                         params={"api_key": api.tokens["leader"]}), 404)
    # an Open311 client sends api_key: the answer names it, not an HTTP header
    assert error(api.client.get(f"{V2}/requests.json"), 403).startswith("api_key is required")
    before = api.cases.recorder.max_notification_id()
    assert "U+001B" in error(file(api, description="楼道\x1b[2J飞线"), 400)
    assert "U+0007" in error(file(api, address_string="园山路\x07"), 400)
    assert api.cases.recorder.max_notification_id() == before


def test_a_duplicate_outside_the_callers_area_is_not_named(api: Api) -> None:
    # one place id in two grids: only a store from before places were described holds that
    with f.places_as_registered_before_described():
        first = file(api, **{"attribute[place_id]": "P-0311", "attribute[grid]": f.GRID})
    number = first.json()[0]["service_request_id"]
    again = file(api, "grid_worker-x", **{"attribute[place_id]": "P-0311",
                                          "attribute[grid]": "YS-C01-G02"})
    assert again.status_code == 400, again.text
    assert "duplicate" in again.json()[0]["description"] and number not in again.text
    named = file(api, **{"attribute[place_id]": "P-0311", "attribute[grid]": f.GRID})
    assert number in named.json()[0]["description"]


def test_a_request_named_twice_in_the_id_list_is_listed_once(api: Api) -> None:
    """service_request_id=A,A (or A by number and by case id) listed A twice, and each
    repeat was read from the store again."""
    first, second = api.report(1), api.report(2)
    ids = ",".join([first["number"]] * 50 + [first["case_id"], second["number"],
                                              first["number"].lower()])
    listed = api.client.get(f"{V2}/requests.json", params={
        "api_key": api.tokens["safety_officer"], "service_request_id": ids}).json()
    assert [r["service_request_id"] for r in listed] == [first["number"], second["number"]]



def test_a_form_that_is_not_utf8_is_refused_whole(api: Api) -> None:
    # "楼道" in GBK, percent-encoded as a GBK client's form carries it: read by Starlette
    # alone, it became U+FFFD characters and the case was filed with them.
    head = (f"api_key={api.tokens['grid_worker']}&service_code=blocked_fire_exit"
            "&address_string=8&description=")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    before = api.cases.recorder.max_notification_id()
    refused = api.client.post(f"{V2}/requests.json", content=head + "%C2%A5%B5%C0",
                              headers=form)
    assert (refused.status_code, refused.json()) == (400, [
        {"code": 400, "description": "the form field 'description' is not UTF-8 text"}])
    gbk = {"Content-Type": "application/x-www-form-urlencoded; charset=GBK"}
    declared = api.client.post(f"{V2}/requests.json", content=head + "x", headers=gbk)
    assert declared.json() == [{"code": 400,
                                "description": "form bodies are read as UTF-8, not gbk"}]
    assert api.cases.recorder.max_notification_id() == before  # nothing was filed
    filed = api.client.post(f"{V2}/requests.json", content=head + quote("楼道飞线"),
                            headers=form)
    assert filed.status_code == 201, filed.text
    number = filed.json()[0]["service_request_id"]
    assert api.cases.get_case(number).description == "楼道飞线"


def test_a_multipart_form_that_is_not_utf8_is_refused_whole(api: Api) -> None:
    # The same form sent as multipart/form-data: Starlette read a text part that is not
    # UTF-8 as Latin-1, and the case was filed with "Òþ»¼" where the citizen wrote 隐患.
    def send(description: bytes, charset: str = "") -> Any:
        kind = f"text/plain; charset={charset}" if charset else None
        return api.client.post(f"{V2}/requests.json", files={
            "api_key": (None, api.tokens["grid_worker"]),
            "service_code": (None, "blocked_fire_exit"), "address_string": (None, "8"),
            "description": (None, description, kind) if kind else (None, description)})

    before = api.cases.recorder.max_notification_id()
    refused = send("隐患".encode("gbk"))
    assert (refused.status_code, refused.json()) == (400, [
        {"code": 400, "description": "the form field 'description' is not UTF-8 text"}])
    declared = send(b"x", charset="gbk")
    assert declared.json() == [{"code": 400, "description": "the form field 'description' "
                                "is sent as gbk: form fields are read as UTF-8"}]
    assert api.cases.recorder.max_notification_id() == before  # nothing was filed
    filed = send("隐患 楼道飞线".encode())
    assert filed.status_code == 201, filed.text
    number = filed.json()[0]["service_request_id"]
    assert api.cases.get_case(number).description == "隐患 楼道飞线"


def test_several_service_codes_comma_delimited_are_all_listed(api: Api) -> None:
    """GeoReport v2: service_code "can be declared multiple times, comma delimited", as
    status can. service_code=blocked_fire_exit,gas_safety answered 404 "no service with
    service_code 'blocked_fire_exit,gas_safety'"."""
    fire_exit = file(api).json()[0]["service_request_id"]
    gas = file(api, service_code="gas_safety").json()[0]["service_request_id"]
    file(api, service_code="illegal_wiring")

    def listed(codes: str):  # type: ignore[no-untyped-def]
        return api.client.get(f"{V2}/requests.json", params={
            "api_key": api.tokens["leader"], "service_code": codes})

    both = listed("blocked_fire_exit, gas_safety")
    assert both.status_code == 200, both.text
    assert [r["service_request_id"] for r in both.json()] == [gas, fire_exit]
    unknown = listed("gas_safety,ufo")
    assert (unknown.status_code, unknown.json()[0]["code"]) == (404, 404)


def test_without_dates_the_requests_of_the_last_90_days_are_listed(api: Api, clock) -> None:
    """GeoReport v2: when start_date and end_date are not specified, "the range defaults to
    most recent 90 days". Every request ever filed in the caller's area was listed (up to
    1,000), so a client polling without dates read a year of closed cases each time."""
    old = file(api, **{"attribute[place_id]": "P-0001"}).json()[0]["service_request_id"]
    clock.advance(days=91)
    new = file(api, **{"attribute[place_id]": "P-0002"}).json()[0]["service_request_id"]

    def listed(**params: str) -> list[str]:
        answer = api.client.get(f"{V2}/requests.json",
                                params={"api_key": api.tokens["leader"], **params})
        assert answer.status_code == 200, answer.text
        return [r["service_request_id"] for r in answer.json()]

    assert listed() == [new]
    assert listed(start_date="2026-03-01T00:00:00+08:00") == [new, old]
    assert listed(end_date="2026-03-31T00:00:00+08:00") == [old]
    assert listed(service_request_id=old) == [old]  # ids override every other argument


def test_a_description_and_media_url_too_long_together_are_named_together(api: Api) -> None:
    """media_url is kept at the end of the description; a 2,000-character description (the
    form's limit) with a media_url was refused as "description is longer than 2000
    characters", blaming a field that was within its limit."""
    url = "https://example.invalid/photo.jpg"
    refused = file(api, description="堆" * 2000, media_url=url)
    assert refused.status_code == 400, refused.text
    assert refused.json()[0]["description"] == (
        f"description and media_url together take {2000 + 13 + len(url)} characters, more "
        f"than the 2000 a description holds: shorten the description to {2000 - 13 - len(url)}")
    fits = file(api, description="堆" * (2000 - 13 - len(url)), media_url=url)
    assert fits.status_code == 201, fits.text


def test_the_place_is_checked_as_post_api_cases_checks_it(api: Api) -> None:
    """attribute[place_id] "P 1!" was filed (POST /api/cases and the command line refuse it,
    and GET /api/risk?place= cannot name it); an address_string of 201 to 300 characters
    (the form's limit) without place_name was refused as "place name is longer than 200
    characters", a field the client never sent."""
    bad = file(api, **{"attribute[place_id]": "P 1!"})
    assert bad.status_code == 400, bad.text
    assert "attribute[place_id]" in bad.json()[0]["description"]
    long_address = "园山路" + "8" * 297
    filed = file(api, address_string=long_address)
    assert filed.status_code == 201, filed.text
    case = api.cases.get_case(filed.json()[0]["service_request_id"])
    assert (case.place["address"], case.place["name"]) == (long_address, long_address[:200])


def test_expected_datetime_is_the_last_second_of_the_deadline_day(api: Api) -> None:
    # The notice's deadline day is 2026-03-09: the party has until it ends. Midnight after
    # it (2026-03-10T00:00:00+08:00) reads as "due 10 March" in a citizen's app.
    number = api.cases.get_case(f.to_notified(api.cases, 4)).number
    got = api.client.get(f"{V2}/requests/{number}.json", headers=api.auth("leader")).json()[0]
    assert got["expected_datetime"] == "2026-03-09T23:59:59+08:00"
    assert "整改期限 2026-03-09" in got["status_notes"]  # the same day in the notes
