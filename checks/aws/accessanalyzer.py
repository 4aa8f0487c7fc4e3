"""IAM Access Analyzer: one active analyzer per region finds resources shared outside the account."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed


@check(
    id="aws.accessanalyzer.enabled",
    title="IAM Access Analyzer is enabled in every region",
    severity=Severity.MEDIUM,
    resource_type="aws.accessanalyzer.settings",
    rationale=(
        "Access Analyzer reports buckets, keys, roles and other resources that are shared with "
        "outside accounts or the public. Without an analyzer in a region such sharing goes unnoticed."
    ),
    remediation=Remediation(
        console=(
            "1. Open the IAM console and choose Access analyzer > Analyzer settings.\n"
            "2. Switch to the region to cover.\n"
            "3. Choose Create analyzer, pick the account or organization as zone of trust, and create it."
        ),
        cli="aws accessanalyzer create-analyzer --analyzer-name <analyzer-name> --type ACCOUNT --region "
            "<region>",
        docs="https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-getting-started.html",
    ),
)
def accessanalyzer_enabled(settings: Resource, ctx: Context) -> Verdict:
    analyzers = need(settings, "Analyzers") or []
    active = [a.get("name", "?") for a in analyzers if str(a.get("status", "")).upper() == "ACTIVE"]
    if active:
        return passed(f"region {settings.region} has active analyzer {', '.join(active)}")
    if analyzers:
        return failed(f"region {settings.region} has {len(analyzers)} analyzer(s) and none is ACTIVE")
    return failed(f"region {settings.region} has no IAM Access Analyzer")
