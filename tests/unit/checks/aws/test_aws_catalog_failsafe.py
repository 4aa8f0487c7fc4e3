"""Fail-safe behaviour shared by every AWS check: listing and `requires` errors never pass."""

from __future__ import annotations

import pytest
from aws_check_fixtures import ERROR, REGION, Case, listing_error, res

from agent.registry import checks_in
from checks.base import Check
from tests.unit.checks.casekit import declared_check_ids

ALL = checks_in("checks.aws")
WITH_REQUIRES = [c for c in ALL if c.meta.requires]


def test_catalog_is_complete() -> None:
    """The registry finds every check checks/aws declares: none in a module it skips, none lost to a
    second function of the same name (read from the source, so adding a check changes no count here)."""
    assert [c.id for c in ALL] == sorted(declared_check_ids("checks.aws"))


@pytest.mark.parametrize("chk", ALL, ids=lambda c: c.id)
def test_own_listing_error_is_a_scope_error(chk: Check) -> None:
    global_types = ("aws.account", "aws.iam.user", "aws.s3.account")
    region = "global" if chk.meta.resource_type in global_types else REGION
    finding = Case(chk, [], ERROR, errors=[listing_error(chk.meta.resource_type, region)]).run()
    assert finding.status == ERROR
    assert finding.resource_id.startswith("scope:aws/")


@pytest.mark.parametrize("chk", WITH_REQUIRES, ids=lambda c: c.id)
@pytest.mark.parametrize("which", [0, -1], ids=["first-required", "last-required"])
def test_requires_error_turns_result_into_error(chk: Check, which: int) -> None:
    region = "global" if chk.meta.resource_type.startswith(("aws.account", "aws.iam.")) else REGION
    resource = res(chk.meta.resource_type, region=region)
    required = chk.meta.requires[which]
    finding = Case(chk, [resource], ERROR, errors=[listing_error(required)]).run()
    assert finding.status == ERROR
    assert "input missing" in finding.message


@pytest.mark.parametrize("chk", ALL, ids=lambda c: c.id)
def test_empty_resource_never_passes(chk: Check) -> None:
    """A resource with no attributes at all (nothing collected) must not pass."""
    resource = res(chk.meta.resource_type)
    finding = Case(chk, [resource], ERROR).run()
    assert finding.status.value != "pass", finding.message
