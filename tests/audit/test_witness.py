"""The chain witness keeps up with the log: in the worker, and with two writers at once."""

from __future__ import annotations

import threading

from projections.chain import ChainWitness
from projections.runner import Runner
from projections.verify import Verifier
from projections.worker import work_once
from tests.factories import report, to_notified


def test_the_worker_chains_new_rows_every_round(cases):
    import api.cli.audit  # noqa: F401 - registers the witness tick, as the CLI does

    report(cases, 1)
    work_once(cases, Runner(cases, []))
    assert ChainWitness(cases).position()[0] == cases.recorder.max_notification_id()
    to_notified(cases, 2)
    work_once(cases, Runner(cases, []))
    assert ChainWitness(cases).position()[0] == cases.recorder.max_notification_id()


def test_concurrent_catch_ups_chain_every_row_once(cases, open_service):
    for n in range(1, 6):
        to_notified(cases, n)
    witnesses = [ChainWitness(open_service()) for _ in range(3)]
    threads = [threading.Thread(target=w.catch_up) for w in witnesses]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = Verifier(cases, None).run(catch_up=False)
    assert result.ok, [p.describe() for p in result.problems]
    assert result.events == result.position == cases.recorder.max_notification_id()
