"""Azure Monitor: the subscription's activity log is exported and kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.models import Resource
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, need, passed


def _exports_admin(setting: Mapping[str, Any]) -> bool:
    p = setting.get("properties") or {}
    target = p.get("workspaceId") or p.get("storageAccountId") or p.get("eventHubAuthorizationRuleId")
    logs = p.get("logs") or []
    admin = any(
        str(entry.get("category") or "").lower() == "administrative"
        and entry.get("enabled")
        or str(entry.get("categoryGroup") or "").lower() == "alllogs"
        and entry.get("enabled")
        for entry in logs
    )
    return bool(target) and admin


@check(
    id="azure.monitor.activity_log_retained",
    title="The subscription's activity log is exported (diagnostic setting) or kept for a year (log profile)",
    severity=Severity.MEDIUM,
    resource_type="azure.subscription",
    rationale=(
        "Azure keeps the activity log for 90 days only. Exporting it to a Log Analytics workspace or a "
        "storage account keeps the record of who changed what for as long as auditors ask."
    ),
    remediation=Remediation(
        console=(
            "1. Open Monitor > Activity log > Export Activity Logs and choose the subscription.\n"
            "2. Add a diagnostic setting with at least the Administrative, Security and Policy categories "
            "sent to a Log Analytics workspace or storage account with 365+ days retention."
        ),
        cli="az monitor diagnostic-settings subscription create --name activity-export --location <region> "
        '--workspace <workspace-resource-id> --logs \'[{"category":"Administrative","enabled":true}]\'',
        docs="https://learn.microsoft.com/azure/azure-monitor/essentials/activity-log",
    ),
    params={"days": 365},
)
def activity_log_retained(sub: Resource, ctx: Context) -> Verdict:
    days = int(ctx.params.get("days", 365))
    problems: list[str] = []
    try:
        settings = need(sub, "ActivityLogDiagnosticSettings") or []
        exported = [str(s.get("name")) for s in settings if _exports_admin(s)]
        if exported:
            return passed(
                f"subscription {sub.name} exports its activity log via diagnostic setting {exported[0]}"
            )
    except MissingInput as exc:
        problems.append(str(exc))
    try:
        profiles = need(sub, "LogProfiles") or []
    except MissingInput as exc:
        problems.append(str(exc))
        raise MissingInput("; ".join(problems)) from None
    for prof in profiles:
        ret = (prof.get("properties") or {}).get("retentionPolicy") or {}
        kept = int(ret.get("days") or 0)
        if (prof.get("properties") or {}).get("storageAccountId") and (
            not ret.get("enabled") or kept >= days or kept == 0
        ):
            return passed(
                f"subscription {sub.name} keeps its activity log with log profile {prof.get('name')}"
            )
    if problems:
        raise MissingInput("; ".join(problems) + "; no log profile keeps the activity log")
    return failed(
        f"subscription {sub.name} neither exports its activity log nor keeps it {days}+ days "
        "(Azure alone keeps 90 days)"
    )
