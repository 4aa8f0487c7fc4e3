"""GuardDuty: managed threat detection over CloudTrail, VPC flow and DNS logs."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed


@check(
    id="aws.guardduty.enabled",
    title="GuardDuty is enabled in every region",
    severity=Severity.HIGH,
    resource_type="aws.guardduty.settings",
    rationale=(
        "GuardDuty watches account activity and network traffic for signs of compromise such as "
        "credential misuse or crypto-mining. A region without an enabled detector is a blind spot "
        "attackers can use."
    ),
    remediation=Remediation(
        console=(
            "1. Open the GuardDuty console in the region.\n"
            "2. Choose Get started, then Enable GuardDuty.\n"
            "3. In an organization, set a delegated administrator and auto-enable for members."
        ),
        cli="aws guardduty create-detector --enable --region <region>",
        docs="https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_settingup.html",
    ),
    reads=(
        "guardduty:ListDetectors: DetectorIds",
        "guardduty:GetDetector: Status",
    ),
    needs="guardduty:ListDetectors, guardduty:GetDetector",
)
def guardduty_enabled(settings: Resource, ctx: Context) -> Verdict:
    detectors = need(settings, "Detectors") or []
    enabled = [d.get("DetectorId", "?") for d in detectors if str(d.get("Status", "")).upper() == "ENABLED"]
    if enabled:
        return passed(f"GuardDuty detector {', '.join(enabled)} is enabled in {settings.region}")
    if detectors:
        return failed(f"GuardDuty detector in {settings.region} exists but is suspended")
    return failed(f"GuardDuty has no detector in {settings.region}")
