"""Security Hub: central place where findings of the security services are aggregated."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed


@check(
    id="aws.securityhub.enabled",
    title="Security Hub is enabled in every region",
    severity=Severity.MEDIUM,
    resource_type="aws.securityhub.settings",
    rationale=(
        "Security Hub gathers findings from GuardDuty, Inspector, Access Analyzer and others in one "
        "place so they get triaged. Without it in a region, findings there are easy to miss."
    ),
    remediation=Remediation(
        console=(
            "1. Open the Security Hub console in the region.\n"
            "2. Choose Go to Security Hub, pick the standards to enable.\n"
            "3. Choose Enable Security Hub."
        ),
        cli="aws securityhub enable-security-hub --enable-default-standards --region <region>",
        docs="https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-settingup.html",
    ),
    reads=("securityhub:DescribeHub: HubArn (InvalidAccessException = not enabled)",),
    needs="securityhub:DescribeHub",
)
def securityhub_enabled(settings: Resource, ctx: Context) -> Verdict:
    hub = need(settings, "Hub")
    if not hub:
        return failed(f"Security Hub is not enabled in {settings.region}")
    return passed(f"Security Hub is enabled in {settings.region} ({hub.get('HubArn', 'hub')})")
