"""IAM Access Analyzer: one active analyzer per region finds resources shared outside the account."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, need, passed

EXTERNAL_ACCESS_TYPES = {"ACCOUNT", "ORGANIZATION"}


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
        cli="aws accessanalyzer create-analyzer --analyzer-name <analyzer-name> --type ACCOUNT --region <region>",
        docs="https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-getting-started.html",
    ),
    reads=("accessanalyzer:ListAnalyzers: analyzers[].name, type, status",),
    needs="access-analyzer:ListAnalyzers",
)
def accessanalyzer_enabled(settings: Resource, ctx: Context) -> Verdict:
    analyzers = need(settings, "Analyzers") or []
    active = [a for a in analyzers if str(a.get("status", "")).upper() == "ACTIVE"]
    # Only the external access analyzers (zone of trust ACCOUNT or ORGANIZATION) report sharing
    # outside the account; unused-access and internal-access analyzers look elsewhere.
    external = [a.get("name", "?") for a in active if str(a.get("type", "")).upper() in EXTERNAL_ACCESS_TYPES]
    if external:
        return passed(f"region {settings.region} has active analyzer {', '.join(external)}")
    if any("type" not in a for a in active):
        raise MissingInput(f"an active analyzer in region {settings.region} has no type")
    if active:
        kinds = ", ".join(sorted({str(a["type"]) for a in active}))
        return failed(f"region {settings.region} has active analyzers of type {kinds} only, none for external access")
    if analyzers:
        return failed(f"region {settings.region} has {len(analyzers)} analyzer(s) and none is ACTIVE")
    return failed(f"region {settings.region} has no IAM Access Analyzer")
