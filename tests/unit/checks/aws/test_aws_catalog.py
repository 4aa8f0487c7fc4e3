"""The AWS catalog as a whole: every check has a full case table (pass, fail, error, and looks fine
but is not), says what it reads and which IAM actions it needs, and needs only allowed actions."""

from __future__ import annotations

import re

import pytest
import test_aws_app_checks  # noqa: F401 -- registers its cases
import test_aws_data_checks  # noqa: F401 -- registers its cases
import test_aws_detection_checks  # noqa: F401 -- registers its cases
import test_aws_ec2_checks  # noqa: F401 -- registers its cases
import test_aws_iam_checks  # noqa: F401 -- registers its cases
import test_aws_s3_cloudtrail_checks  # noqa: F401 -- registers its cases

from agent.registry import checks_in
from checks.base import Check
from collectors.aws.allowlist import ALLOWED_ACTIONS
from collectors.aws.table import all_operations
from tests.unit.checks.casekit import assert_complete

ALL = checks_in("checks.aws")
# An IAM action as IAM spells it: service prefix, colon, operation ("access-analyzer:ListAnalyzers").
IAM_ACTION = re.compile(r"\b[a-z0-9-]+:[A-Z][A-Za-z0-9]+\b")
# A reads line: boto3 client and API operation(s), an optional note, then the fields read:
# "iam:GenerateCredentialReport/GetCredentialReport: mfa_active", "s3:GetPublicAccessBlock (bucket): ...".
READS_LINE = re.compile(
    r"^(?P<service>[a-z0-9]+):(?P<ops>[A-Z][A-Za-z0-9]+(?:/[A-Z][A-Za-z0-9]+)*)"
    r"(?: \([^)]*\))?: \S"
)


def test_every_aws_check_has_a_full_case_table() -> None:
    assert_complete(ALL)


@pytest.mark.parametrize("chk", ALL, ids=lambda c: c.id)
def test_check_says_what_it_reads_and_needs(chk: Check) -> None:
    assert chk.meta.reads and all(line.strip() for line in chk.meta.reads)
    assert chk.meta.needs.strip()


@pytest.mark.parametrize("chk", ALL, ids=lambda c: c.id)
def test_needed_actions_are_on_the_read_only_allowlist(chk: Check) -> None:
    actions = IAM_ACTION.findall(chk.meta.needs)
    assert actions, f"{chk.id}: needs names no IAM action: {chk.meta.needs!r}"
    outside = sorted(set(actions) - ALLOWED_ACTIONS)
    assert not outside, f"{chk.id} needs actions the collector is not allowed: {outside}"


@pytest.mark.parametrize("chk", ALL, ids=lambda c: c.id)
def test_read_operations_are_ones_the_collector_sends(chk: Check) -> None:
    sent = all_operations()
    for line in chk.meta.reads:
        m = READS_LINE.match(line)
        assert m, f"{chk.id}: reads line not in 'client:Operation: fields' form: {line!r}"
        unknown = [op for op in m["ops"].split("/") if (m["service"], op) not in sent]
        assert not unknown, f"{chk.id}: reads {m['service']}:{unknown}, which the collector never calls"
