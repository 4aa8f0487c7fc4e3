"""Azure Monitor: the subscription's activity log is exported and kept, and activity-log alerts
watch the changes that weaken security."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from agent.models import Resource
from checks.azure._arm import ARM_READER, diag_destination, uncovered_operations
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, need, passed

_DIAG = (
    "GET /subscriptions/{id}/providers/Microsoft.Insights/diagnosticSettings?api-version=2021-05-01-preview: "
    "properties.logs (category, categoryGroup, enabled), workspaceId, storageAccountId, eventHubAuthorizationRuleId"
)
_PROFILES = (
    "GET /subscriptions/{id}/providers/Microsoft.Insights/logprofiles?api-version=2016-03-01: "
    "properties.storageAccountId, categories, locations, retentionPolicy"
)
_ALERTS = (
    "GET /subscriptions/{id}/providers/Microsoft.Insights/activityLogAlerts?api-version=2020-10-01: "
    "properties.enabled, scopes, condition.allOf (field, equals, containsAny, anyOf), actions.actionGroups"
)


def _missing_categories(setting: Mapping[str, Any], wanted: list[str]) -> list[str]:
    """The wanted activity-log categories a diagnostic setting does not export (all of them when it has
    no destination); the allLogs category group exports every category."""
    if not diag_destination(setting):
        return list(wanted)
    logs = [e for e in (setting.get("properties") or {}).get("logs") or [] if e.get("enabled") is True]
    if any(str(e.get("categoryGroup") or "").lower() == "alllogs" for e in logs):
        return []
    have = {str(e.get("category") or "").lower() for e in logs}
    return [c for c in wanted if c.lower() not in have]


def _profile_gap(profile: Mapping[str, Any], days: int) -> str:
    """'' when a (legacy) log profile keeps the whole activity log long enough, else what is wrong."""
    p = profile.get("properties") or {}
    if not p.get("storageAccountId"):
        return "sends to no storage account"
    cats = {str(c).lower() for c in p.get("categories") or []}
    if not {"write", "delete", "action"} <= cats:
        return "does not capture Write, Delete and Action events"
    if "global" not in {str(loc).lower() for loc in p.get("locations") or []}:
        return "does not capture the global region, where most management events are recorded"
    ret = p.get("retentionPolicy") or {}
    kept = int(ret.get("days") or 0)
    if ret.get("enabled") and 0 < kept < days:
        return f"keeps events {kept} days"
    return ""


# Azure retired log profiles on this day and moved them to diagnostic settings: from then on a log
# profile exports nothing, so only a diagnostic setting evidences the export.
LOG_PROFILES_RETIRED = datetime(2026, 9, 30, tzinfo=UTC)


@check(
    id="azure.monitor.activity_log_retained",
    title="The subscription's activity log is exported by a diagnostic setting (log profiles until their retirement)",
    severity=Severity.MEDIUM,
    resource_type="azure.subscription",
    rationale=(
        "Azure keeps the activity log for 90 days only. Exporting it to a Log Analytics workspace or a "
        "storage account keeps the record of who changed what for as long as auditors ask."
    ),
    remediation=Remediation(
        console=(
            "1. Open Monitor > Activity log > Export Activity Logs and choose the subscription.\n"
            "2. Add a diagnostic setting with at least the Administrative, Alert, Policy and Security categories "
            "sent to a Log Analytics workspace or storage account with 365+ days retention."
        ),
        cli="az monitor diagnostic-settings subscription create --name activity-export --location <region> "
        '--workspace <workspace-resource-id> --logs \'[{"categoryGroup":"allLogs","enabled":true}]\'',
        docs="https://learn.microsoft.com/azure/azure-monitor/essentials/activity-log",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 6.1.1", "CIS Microsoft Azure Foundations v3.0.0 6.1.2"),
    params={"days": 365, "categories": ["Administrative", "Alert", "Policy", "Security"]},
    reads=(_DIAG, _PROFILES),
    needs=ARM_READER,
)
def activity_log_retained(sub: Resource, ctx: Context) -> Verdict:
    days = int(ctx.params.get("days", 365))
    wanted = [str(c) for c in ctx.params.get("categories", ["Administrative", "Alert", "Policy", "Security"])]
    problems: list[str] = []
    gaps: list[str] = []
    try:
        settings = need(sub, "ActivityLogDiagnosticSettings") or []
        for s in settings:
            missing = _missing_categories(s, wanted)
            if not missing:
                return passed(
                    f"subscription {sub.name} exports its activity log via diagnostic setting {s.get('name')}"
                )
            gaps.append(f"diagnostic setting {s.get('name')} lacks {', '.join(missing)}")
    except MissingInput as exc:
        problems.append(str(exc))
    if ctx.now >= LOG_PROFILES_RETIRED:
        if problems:
            raise MissingInput("; ".join(problems))
        retired = "; log profiles no longer count: Azure retired them on 2026-09-30"
        detail = f" ({'; '.join(gaps)}{retired})" if gaps else f" ({retired[2:]})"
        return failed(
            f"subscription {sub.name} has no diagnostic setting exporting its activity log "
            f"(Azure alone keeps 90 days){detail}"
        )
    try:
        profiles = need(sub, "LogProfiles") or []
    except MissingInput as exc:
        problems.append(str(exc))
        raise MissingInput("; ".join(problems)) from None
    for prof in profiles:
        gap = _profile_gap(prof, days)
        if not gap:
            return passed(f"subscription {sub.name} keeps its activity log with log profile {prof.get('name')}")
        gaps.append(f"log profile {prof.get('name')} {gap}")
    if problems:
        raise MissingInput("; ".join(problems) + "; no log profile keeps the activity log")
    detail = f" ({'; '.join(gaps)})" if gaps else ""
    return failed(
        f"subscription {sub.name} neither exports its activity log nor keeps it {days}+ days "
        f"(Azure alone keeps 90 days){detail}"
    )


# -- activity-log alerts ---------------------------------------------------------------------------


def _alerts_verdict(sub: Resource, ctx: Context, theme: str) -> Verdict:
    operations = [str(op) for op in ctx.params.get("operations", [])]
    alerts = need(sub, "ActivityLogAlerts") or []
    sid = str(sub.attributes.get("subscriptionId") or sub.id.rstrip("/").rsplit("/", 1)[-1])
    missing = uncovered_operations(alerts, sid, operations)
    if missing:
        return failed(
            f"subscription {sub.name} has no enabled, subscription-wide activity-log alert with an action "
            f"group for {len(missing)} {theme} operation(s): {', '.join(missing)}"
        )
    return passed(f"subscription {sub.name} alerts on all {len(operations)} {theme} operations")


_ALERT_REMEDIATION = (
    "1. Monitor > Alerts > Create > Alert rule; scope: the whole subscription.\n"
    "2. Condition: Activity log signal for each operation named in the finding (category Administrative, "
    "any level, any status, any caller).\n"
    "3. Actions: an action group that emails or pages the security team; enable the rule."
)


def _alert_cli(operation: str) -> str:
    return (
        "az monitor activity-log alert create --name <name> --resource-group <group> "
        "--scope /subscriptions/<subscription-id> "
        f'--condition "category=Administrative and operationName={operation}" --action-group <action-group-id>'
    )


_ALERT_DOCS = "https://learn.microsoft.com/azure/azure-monitor/alerts/activity-log-alerts"
_POLICY_OPS = [
    "Microsoft.Authorization/policyAssignments/write",
    "Microsoft.Authorization/policyAssignments/delete",
    "Microsoft.Security/securitySolutions/write",
    "Microsoft.Security/securitySolutions/delete",
]
_NETWORK_OPS = [
    "Microsoft.Network/networkSecurityGroups/write",
    "Microsoft.Network/networkSecurityGroups/delete",
    "Microsoft.Network/publicIPAddresses/write",
    "Microsoft.Network/publicIPAddresses/delete",
]
_SQL_OPS = [
    "Microsoft.Sql/servers/firewallRules/write",
    "Microsoft.Sql/servers/firewallRules/delete",
]


@check(
    id="azure.monitor.alert_policy_changes",
    title="Activity-log alerts fire on policy assignment and security solution changes",
    severity=Severity.MEDIUM,
    resource_type="azure.subscription",
    rationale=(
        "Removing a policy assignment or a security solution is how an intruder, or a hurried engineer, "
        "switches guardrails off. An alert on those operations tells the security team the same minute."
    ),
    remediation=Remediation(console=_ALERT_REMEDIATION, cli=_alert_cli(_POLICY_OPS[0]), docs=_ALERT_DOCS),
    references=tuple(f"CIS Microsoft Azure Foundations v3.0.0 6.2.{n}" for n in (1, 2, 5, 6)),
    params={"operations": _POLICY_OPS},
    reads=(_ALERTS,),
    needs=ARM_READER,
)
def alert_policy_changes(sub: Resource, ctx: Context) -> Verdict:
    return _alerts_verdict(sub, ctx, "policy and security-solution")


@check(
    id="azure.monitor.alert_network_changes",
    title="Activity-log alerts fire on network security group and public IP changes",
    severity=Severity.MEDIUM,
    resource_type="azure.subscription",
    rationale=(
        "A new NSG rule or public IP address can expose a private system to the internet in one step. An "
        "alert on those operations lets the team check each change when it happens."
    ),
    remediation=Remediation(console=_ALERT_REMEDIATION, cli=_alert_cli(_NETWORK_OPS[0]), docs=_ALERT_DOCS),
    references=tuple(f"CIS Microsoft Azure Foundations v3.0.0 6.2.{n}" for n in (3, 4, 9, 10)),
    # Exactly CIS v3.0.0, so its recommendations read true. An edit of one rule is its own operation
    # (networkSecurityGroups/securityRules/write and /delete): add both here to alert on rule edits.
    params={"operations": _NETWORK_OPS},
    reads=(_ALERTS,),
    needs=ARM_READER,
)
def alert_network_changes(sub: Resource, ctx: Context) -> Verdict:
    return _alerts_verdict(sub, ctx, "network security")


@check(
    id="azure.monitor.alert_sql_firewall_changes",
    title="Activity-log alerts fire on SQL server firewall rule changes",
    severity=Severity.MEDIUM,
    resource_type="azure.subscription",
    rationale=(
        "One firewall rule opens a database server to the internet. An alert on firewall rule changes shows "
        "each opening as it is made rather than at the next review."
    ),
    remediation=Remediation(console=_ALERT_REMEDIATION, cli=_alert_cli(_SQL_OPS[0]), docs=_ALERT_DOCS),
    references=tuple(f"CIS Microsoft Azure Foundations v3.0.0 6.2.{n}" for n in (7, 8)),
    params={"operations": _SQL_OPS},
    reads=(_ALERTS,),
    needs=ARM_READER,
)
def alert_sql_firewall_changes(sub: Resource, ctx: Context) -> Verdict:
    return _alerts_verdict(sub, ctx, "SQL firewall")
