"""Per-region detection services: Access Analyzer, AWS Config, GuardDuty, Security Hub."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

import pytest
from aws_check_fixtures import (
    ERROR,
    FAIL,
    PASS,
    Case,
    assert_covered,
    case,
    check_case,
    listing_error,
    settings,
)

import checks.aws.accessanalyzer as accessanalyzer
import checks.aws.config as config
import checks.aws.guardduty as guardduty
import checks.aws.securityhub as securityhub

AA, CFG, GD, SH = (f"aws.{s}.settings" for s in ("accessanalyzer", "config", "guardduty", "securityhub"))
REC = {"name": "default", "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}}

CASES = [
    case(
        accessanalyzer.accessanalyzer_enabled,
        settings(AA, Analyzers=[{"name": "acct", "type": "ACCOUNT", "status": "ACTIVE"}]),
        PASS,
        "active analyzer acct",
        id="pass",
    ),
    case(accessanalyzer.accessanalyzer_enabled, settings(AA, Analyzers=[]), FAIL, "no IAM Access Analyzer", id="none"),
    case(
        accessanalyzer.accessanalyzer_enabled,
        settings(AA, Analyzers=[{"name": "a", "status": "FAILED"}]),
        FAIL,
        "none is ACTIVE",
        id="failed",
    ),
    case(accessanalyzer.accessanalyzer_enabled, settings(AA, errors={"Analyzers": "AccessDenied"}), ERROR, id="error"),
    case(
        accessanalyzer.accessanalyzer_enabled,
        [],
        ERROR,
        "could not list",
        errors=[listing_error(AA)],
        id="listing-error",
    ),
    case(
        config.recorder_enabled,
        settings(CFG, Recorders=[REC], RecorderStatus=[{"name": "default", "recording": True}]),
        PASS,
        "records all supported",
        id="pass",
    ),
    case(
        config.recorder_enabled,
        settings(CFG, Recorders=[], RecorderStatus=[]),
        FAIL,
        "no AWS Config recorder",
        id="none",
    ),
    case(
        config.recorder_enabled,
        settings(CFG, Recorders=[REC], RecorderStatus=[{"name": "default", "recording": False}]),
        FAIL,
        "not recording",
        id="stopped",
    ),
    case(
        config.recorder_enabled,
        settings(
            CFG,
            Recorders=[REC | {"recordingGroup": {"allSupported": False}}],
            RecorderStatus=[{"name": "default", "recording": True}],
        ),
        FAIL,
        "does not record all supported",
        id="partial",
    ),
    case(
        config.recorder_enabled,
        settings(CFG, Recorders=[REC], errors={"RecorderStatus": "AccessDenied"}),
        ERROR,
        "RecorderStatus",
        id="error",
    ),
    case(
        guardduty.guardduty_enabled,
        settings(GD, Detectors=[{"DetectorId": "d1", "Status": "ENABLED"}]),
        PASS,
        "d1",
        id="pass",
    ),
    case(guardduty.guardduty_enabled, settings(GD, Detectors=[]), FAIL, "no detector", id="none"),
    case(
        guardduty.guardduty_enabled,
        settings(GD, Detectors=[{"DetectorId": "d1", "Status": "DISABLED"}]),
        FAIL,
        "suspended",
        id="suspended",
    ),
    case(guardduty.guardduty_enabled, settings(GD, errors={"Detectors": "AccessDenied"}), ERROR, id="error"),
    case(
        securityhub.securityhub_enabled,
        settings(SH, Hub={"HubArn": "arn:aws:securityhub:us-east-1:1:hub/default"}),
        PASS,
        "enabled",
        id="pass",
    ),
    case(securityhub.securityhub_enabled, settings(SH, Hub=None), FAIL, "not enabled in us-east-1", id="fail"),
    case(securityhub.securityhub_enabled, settings(SH, errors={"Hub": "AccessDenied"}), ERROR, id="error"),
    # -- looks fine but is not ----------------------------------------------------------------------
    case(
        accessanalyzer.accessanalyzer_enabled,
        settings(AA, Analyzers=[{"name": "unused", "type": "ACCOUNT_UNUSED_ACCESS", "status": "ACTIVE"}]),
        FAIL,
        "ACCOUNT_UNUSED_ACCESS only",
        id="defect-unused-access-analyzer",
        looks_fine="an ACTIVE analyzer exists, but it is an unused-access analyzer, which reports no resource "
        "shared outside the account",
    ),
    case(
        accessanalyzer.accessanalyzer_enabled,
        settings(
            AA,
            Analyzers=[
                {"name": "unused", "type": "ACCOUNT_UNUSED_ACCESS", "status": "ACTIVE"},
                {"name": "org", "type": "ORGANIZATION", "status": "ACTIVE"},
            ],
        ),
        PASS,
        "active analyzer org",
        id="organization-analyzer",
    ),
    case(
        accessanalyzer.accessanalyzer_enabled,
        settings(AA, Analyzers=[{"name": "x", "status": "ACTIVE"}]),
        ERROR,
        "has no type",
        id="untyped-analyzer",
    ),
    case(
        config.recorder_enabled,
        settings(
            CFG,
            Recorders=[REC],
            RecorderStatus=[
                {"name": "default", "recording": True, "lastStatus": "Failure", "lastErrorCode": "AccessDenied"}
            ],
        ),
        FAIL,
        "last recording failed (AccessDenied)",
        id="defect-recording-but-failing",
        looks_fine="the recorder records all supported types and recording is true, but every recording fails "
        "(lastStatus Failure)",
    ),
    case(
        guardduty.guardduty_enabled,
        settings(
            GD,
            Detectors=[
                {
                    "DetectorId": "d1",
                    "Status": "DISABLED",
                    "FindingPublishingFrequency": "SIX_HOURS",
                    "ServiceRole": "arn:aws:iam::123456789012:role/aws-service-role/guardduty",
                }
            ],
        ),
        FAIL,
        "exists but is suspended",
        id="detector-present-disabled",
        looks_fine="a detector is present in the region with its service role, but its Status is DISABLED",
    ),
    case(
        securityhub.securityhub_enabled,
        settings(SH, Hub=None),
        FAIL,
        "not enabled",
        id="not-subscribed",
        looks_fine="the Hub attribute was collected (DescribeHub answered), but its value is null: "
        "InvalidAccessException, the account is not subscribed",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    check_case(c)


def test_every_check_covered() -> None:
    for module in (accessanalyzer, config, guardduty, securityhub):
        assert_covered(CASES, module)
