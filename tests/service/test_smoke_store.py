from tests.factories import grid_worker, place, report


def test_a_report_is_stored_and_read_back(cases):
    case_id = report(cases)
    case = cases.get_case(case_id)
    assert case.state == "found"
    assert case.number == "HZ-2026-000001"
    assert cases.resolve("HZ-2026-000001") == case_id
    assert [e.trigger for e in cases.history(case_id)] == ["report"]
    assert cases.history(case_id)[0].actor == grid_worker.as_dict()
    assert case.place == place(1).as_dict()
