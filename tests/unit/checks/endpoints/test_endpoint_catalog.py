"""Every endpoint check has a full case table: pass, fail, error, and looks fine but is not."""

from __future__ import annotations

import test_endpoint_checks  # noqa: F401 -- registers its cases
import test_endpoint_new_checks  # noqa: F401 -- registers its cases

from agent.registry import checks_in
from tests.unit.checks.casekit import assert_complete, declared_check_ids


def test_every_endpoint_check_has_a_full_case_table() -> None:
    assert_complete(checks_in("checks.endpoints"))


def test_the_registry_finds_every_endpoint_check() -> None:
    assert [c.id for c in checks_in("checks.endpoints")] == sorted(declared_check_ids("checks.endpoints"))
