"""Schemathesis against /openapi.json, inside the suite: bounded, authenticated, seeded.

Every operation gets a few dozen generated requests (valid and invalid) as a safety
officer whose community holds a few cases; no answer may be a server error, and every
answer must match the documented status codes, media types and schemas.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.accounts import Accounts
from api.app import attach, create_app
from api.settings import Settings
from api.wiring import open_blobs, open_cases
from domain.clock import FixedClock
from tests import factories as f
from tests.conftest import START

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES_PER_OPERATION = 10  # x ~30 operations: a few hundred requests in all
TOKEN: dict[str, str] = {}


# No store until the fixture attaches one. Loading the schema below starts the app, whose
# lifespan would open the default store (./hazardflow.db, left in the checkout by every
# run): until then it opens a scratch one, removed with the module's store.
SCRATCH = tempfile.TemporaryDirectory(prefix="hf-fuzz-")
APP = create_app(token_ttl=0, settings=Settings(sqlite_path=Path(SCRATCH.name) / "unused.db",
                                                 database_url=None))
# The examples and fuzzing phases only: the exhaustive coverage phase sends ~1,400
# requests, beyond the few hundred this suite budgets for.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@pytest.fixture(autouse=True, scope="module")
def store(tmp_path_factory) -> Any:  # type: ignore[no-untyped-def]
    """One SQLite store for the run, with a few cases in the caller's community."""
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    cases = open_cases(Settings(sqlite_path=path, database_url=None),
                       clock=FixedClock(START))
    TOKEN["value"] = Accounts(cases).add("so-fuzz", "safety_officer", f.COMMUNITY)
    f.report(cases, 1)          # HZ-2026-000001, the path example, in state found
    f.to_notified(cases, 2)
    f.to_escalated(cases, 3)
    attach(APP, cases, token_ttl=0)
    # its own evidence store: the default one is ./hazardflow-evidence, in the checkout
    APP.state.blobs = open_blobs(Settings(blob_dir=path.parent / "evidence",
                                          database_url=None))
    yield cases
    cases.shutdown()
    SCRATCH.cleanup()


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_openapi_conformance(case: Any) -> None:
    # Schemathesis fills the bearer scheme with made-up tokens: replace them with a real one.
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKEN['value']}"}
    case.call_and_validate(checks=CHECKS)
