"""Microsoft Defender for Cloud: the workload protection plans that matter are on."""

from __future__ import annotations

from agent.models import Resource
from checks.azure._util import props
from checks.base import (
    Context,
    MissingInput,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    not_applicable,
    passed,
)


@check(
    id="azure.security.defender_plan_enabled",
    title="Microsoft Defender for Cloud plans are on (Standard tier) for the workloads in use",
    severity=Severity.MEDIUM,
    resource_type="azure.security.pricing",
    rationale=(
        "Defender plans detect malware on servers, anomalous database access, storage malware uploads and "
        "suspicious management operations. On the Free tier none of these alerts exist."
    ),
    remediation=Remediation(
        console=(
            "1. Open Microsoft Defender for Cloud > Environment settings and select the subscription.\n"
            "2. On Defender plans, switch the listed plan On and Save."
        ),
        cli="az security pricing create --name <plan> --tier Standard",
        docs="https://learn.microsoft.com/azure/defender-for-cloud/enable-enhanced-security",
    ),
    params={
        "plans": [
            "VirtualMachines",
            "SqlServers",
            "StorageAccounts",
            "KeyVaults",
            "Arm",
            "Containers",
            "AppServices",
        ]
    },
)
def defender_plan_enabled(pricing: Resource, ctx: Context) -> Verdict:
    wanted = {str(p).lower() for p in ctx.params.get("plans", [])}
    plan = pricing.name or pricing.id.rsplit("/", 1)[-1]
    if plan.lower() not in wanted:
        return not_applicable(f"Defender plan {plan} is not in the plans this check requires")
    tier = props(pricing).get("pricingTier")
    if tier is None:
        raise MissingInput(f"Defender plan {plan} has no pricingTier")
    if str(tier).lower() == "standard":
        return passed(f"Defender plan {plan} is on (Standard)")
    return failed(f"Defender plan {plan} is off ({tier} tier)")
