"""Cloud Monitoring: a log-based metric and an alert policy for each kind of sensitive change (CIS GCP
2.4-2.11).

A project passes when a log-based metric whose filter *matches* sample audit log entries of the
change (judged by checks/gcp/_logquery.py, so any correct spelling of the filter counts and a filter
that misses one of the operations does not) feeds an enabled alert policy with a notification
channel. An alert policy whose own log-match condition matches the entries counts as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.models import Resource
from checks.base import Check, Context, Remediation, Severity, Verdict, check, failed, passed
from checks.gcp._logquery import QueryError, matches

ALERT_DOCS = "https://cloud.google.com/logging/docs/logs-based-metrics/charts-and-alerts"
READS = (
    "GET /v1/{scope}/assets?contentType=RESOURCE&assetTypes=logging.googleapis.com/LogMetric (Cloud Asset): "
    "name, filter, disabled, metricDescriptor.type",
    "GET /v1/{scope}/assets?contentType=RESOURCE&assetTypes=monitoring.googleapis.com/AlertPolicy (Cloud Asset): "
    "enabled, notificationChannels, conditions[].conditionThreshold.filter, "
    "conditions[].conditionAbsent.filter, conditions[].conditionMonitoringQueryLanguage.query, "
    "conditions[].conditionPrometheusQueryLanguage.query, conditions[].conditionMatchedLog.filter",
)
NEEDS = "roles/cloudasset.viewer (Cloud Asset Viewer) on the scope"
REQUIRES = ("gcp.logging.log_metric", "gcp.monitoring.alert_policy")


def _audit(project: str, resource_type: str, service: str, method: str, **payload: Any) -> dict[str, Any]:
    """A sample Admin Activity audit log entry, as Cloud Logging stores it."""
    return {
        "logName": f"projects/{project}/logs/cloudaudit.googleapis.com%2Factivity",
        "severity": "NOTICE",
        "resource": {"type": resource_type, "labels": {"project_id": project}},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": service,
            "methodName": method,
            "authenticationInfo": {"principalEmail": "someone@example.com"},
            **payload,
        },
    }


def _compute(project: str, resource_type: str, collection: str, verbs: Sequence[str]) -> list[list[dict[str, Any]]]:
    """One operation per verb; each written by the v1 or the beta API (either spelling may be matched)."""
    return [
        [
            _audit(project, resource_type, "compute.googleapis.com", f"{api}.compute.{collection}.{verb}")
            for api in ("v1", "beta")
        ]
        for verb in verbs
    ]


def _owner(project: str, action: str) -> dict[str, Any]:
    return _audit(
        project,
        "project",
        "cloudresourcemanager.googleapis.com",
        "SetIamPolicy",
        serviceData={
            "policyDelta": {
                "bindingDeltas": [{"action": action, "role": "roles/owner", "member": "user:x@example.com"}]
            }
        },
    )


@dataclass(frozen=True)
class Change:
    what: str  # "project ownership changes"
    cis: str
    example: str  # a filter that works, for the remediation text
    # project id -> per operation that must be matched, the entries that spell it (any one may match)
    operations: Callable[[str], list[list[dict[str, Any]]]]


CHANGES: dict[str, Change] = {
    "project_ownership_changes": Change(
        "project ownership changes (Owner granted or removed)",
        "2.4",
        '(protoPayload.serviceName="cloudresourcemanager.googleapis.com") AND (ProjectOwnership OR '
        'projectOwnerInvitee) OR (protoPayload.serviceData.policyDelta.bindingDeltas.action="REMOVE" AND '
        'protoPayload.serviceData.policyDelta.bindingDeltas.role="roles/owner") OR '
        '(protoPayload.serviceData.policyDelta.bindingDeltas.action="ADD" AND '
        'protoPayload.serviceData.policyDelta.bindingDeltas.role="roles/owner")',
        lambda p: [[_owner(p, "ADD")], [_owner(p, "REMOVE")]],
    ),
    "audit_config_changes": Change(
        "audit configuration changes",
        "2.5",
        'protoPayload.methodName="SetIamPolicy" AND protoPayload.serviceData.policyDelta.auditConfigDeltas:*',
        lambda p: [
            [
                _audit(
                    p,
                    "project",
                    "cloudresourcemanager.googleapis.com",
                    "SetIamPolicy",
                    serviceData={
                        "policyDelta": {
                            "auditConfigDeltas": [
                                {"action": "REMOVE", "service": "allServices", "logType": "DATA_READ"}
                            ]
                        }
                    },
                )
            ]
        ],
    ),
    "custom_role_changes": Change(
        "custom role changes",
        "2.6",
        'resource.type="iam_role" AND (protoPayload.methodName="google.iam.admin.v1.CreateRole" OR '
        'protoPayload.methodName="google.iam.admin.v1.DeleteRole" OR '
        'protoPayload.methodName="google.iam.admin.v1.UpdateRole")',
        lambda p: [
            [_audit(p, "iam_role", "iam.googleapis.com", f"google.iam.admin.v1.{verb}Role")]
            for verb in ("Create", "Delete", "Update")
        ],
    ),
    "firewall_changes": Change(
        "VPC firewall rule changes",
        "2.7",
        'resource.type="gce_firewall_rule" AND (protoPayload.methodName:"compute.firewalls.patch" OR '
        'protoPayload.methodName:"compute.firewalls.insert" OR protoPayload.methodName:"compute.firewalls.delete")',
        lambda p: _compute(p, "gce_firewall_rule", "firewalls", ("patch", "insert", "delete")),
    ),
    "route_changes": Change(
        "VPC route changes",
        "2.8",
        'resource.type="gce_route" AND (protoPayload.methodName:"compute.routes.delete" OR '
        'protoPayload.methodName:"compute.routes.insert")',
        lambda p: _compute(p, "gce_route", "routes", ("insert", "delete")),
    ),
    "network_changes": Change(
        "VPC network changes (networks and peerings)",
        "2.9",
        'resource.type="gce_network" AND (protoPayload.methodName:"compute.networks.insert" OR '
        'protoPayload.methodName:"compute.networks.patch" OR protoPayload.methodName:"compute.networks.delete" OR '
        'protoPayload.methodName:"compute.networks.removePeering" OR '
        'protoPayload.methodName:"compute.networks.addPeering")',
        lambda p: _compute(p, "gce_network", "networks", ("insert", "patch", "delete", "removePeering", "addPeering")),
    ),
    "bucket_iam_changes": Change(
        "Cloud Storage IAM permission changes",
        "2.10",
        'resource.type="gcs_bucket" AND protoPayload.methodName="storage.setIamPermissions"',
        lambda p: [[_audit(p, "gcs_bucket", "storage.googleapis.com", "storage.setIamPermissions")]],
    ),
    "sql_config_changes": Change(
        "Cloud SQL instance configuration changes",
        "2.11",
        'protoPayload.methodName="cloudsql.instances.update"',
        lambda p: [[_audit(p, "cloudsql_database", "cloudsql.googleapis.com", "cloudsql.instances.update")]],
    ),
}


def _covers(query: str, operations: Sequence[Sequence[Mapping[str, Any]]]) -> bool:
    """Whether ``query`` matches at least one spelling of every operation."""
    return all(any(matches(query, entry) for entry in alternatives) for alternatives in operations)


def _metric_type(metric: Resource) -> str:
    descriptor = metric.attributes.get("metricDescriptor") or {}
    name = str(metric.attributes.get("name") or metric.id).rsplit("/", 1)[-1]
    return str(descriptor.get("type") or f"logging.googleapis.com/user/{name}")


def _references(condition: Mapping[str, Any], metric_type: str) -> bool:
    """Whether an alert condition reads the metric (filter, MQL or PromQL spelling)."""
    name = metric_type.removeprefix("logging.googleapis.com/user/")
    promql = "logging_googleapis_com:user_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
    texts = [
        str((condition.get(k) or {}).get(f) or "")
        for k, f in (
            ("conditionThreshold", "filter"),
            ("conditionAbsent", "filter"),
            ("conditionMonitoringQueryLanguage", "query"),
            ("conditionPrometheusQueryLanguage", "query"),
        )
    ]
    exact = re.compile(re.escape(metric_type) + r"(?![\w./-])")
    return any(exact.search(t) or promql in t for t in texts)


def _notifies(policy: Resource) -> tuple[bool, str]:
    name = str(policy.attributes.get("displayName") or policy.id.rsplit("/", 1)[-1])
    if policy.attributes.get("enabled") is not True:
        return False, f"alert policy '{name}' is disabled"
    if not policy.attributes.get("notificationChannels"):
        return False, f"alert policy '{name}' notifies no channel"
    return True, name


def _verdict(project: Resource, ctx: Context, change: Change) -> Verdict:
    pid = str(project.attributes.get("projectId") or project.account)
    operations = change.operations(pid)
    same = [r for r in ctx.snapshot.of_type("gcp.logging.log_metric") if r.account == project.account]
    policies = [r for r in ctx.snapshot.of_type("gcp.monitoring.alert_policy") if r.account == project.account]
    unreadable, matching = [], []
    for metric in same:
        if metric.attributes.get("disabled") is True:
            continue
        try:
            if _covers(str(metric.attributes.get("filter") or ""), operations):
                matching.append(metric)
        except QueryError as exc:
            unreadable.append(f"{metric.attributes.get('name') or metric.id} ({exc})")
    problems = []
    for policy in policies:
        ok, name = _notifies(policy)
        conditions = list(policy.attributes.get("conditions") or [])
        for metric in matching:
            if any(_references(c, _metric_type(metric)) for c in conditions):
                if ok:
                    return passed(
                        f"project {pid}: alert policy '{name}' fires on metric "
                        f"{metric.attributes.get('name')} for {change.what}"
                    )
                problems.append(f"{name} (metric {metric.attributes.get('name')})")
        for c in conditions:
            log_filter = str((c.get("conditionMatchedLog") or {}).get("filter") or "")
            try:
                hit = bool(log_filter) and _covers(log_filter, operations)
            except QueryError:
                hit = False
            if hit and ok:
                return passed(f"project {pid}: alert policy '{name}' matches {change.what} in the logs")
            if hit:
                problems.append(name)
    if problems:
        return failed(
            f"project {pid}: {'; '.join(problems)}; no enabled alert policy with a notification "
            f"channel watches {change.what}"
        )
    if matching:
        names = ", ".join(str(m.attributes.get("name")) for m in matching)
        return failed(f"project {pid}: log-based metric {names} matches {change.what} but no alert policy uses it")
    extra = f" (filters not understood: {'; '.join(unreadable)})" if unreadable else ""
    return failed(f"project {pid} has no log-based metric that matches all {change.what}{extra}")


def _declare(key: str, change: Change) -> Check:
    def evaluate(project: Resource, ctx: Context) -> Verdict:
        return _verdict(project, ctx, change)

    return check(
        id=f"gcp.monitoring.alert_{key}",
        title=f"An alert fires on {change.what}",
        severity=Severity.MEDIUM,
        resource_type="gcp.project",
        requires=REQUIRES,
        rationale=(
            f"Without a log-based metric and an alert on {change.what}, such a change is recorded in the "
            f"audit log but nobody is told; a harmful change can stay unnoticed (CIS GCP {change.cis})."
        ),
        remediation=Remediation(
            console=(
                "1. Open Logging > Log-based Metrics, Create metric (Counter) with the filter:\n"
                f"   {change.example}\n"
                "2. On the metric, choose Create alert from metric; threshold above 0 for the most recent "
                "value.\n"
                "3. Add a notification channel and save the policy (enabled)."
            ),
            cli=f"gcloud logging metrics create <name> --log-filter='{change.example}' && gcloud alpha monitoring "
            "policies create --policy-from-file=<policy.json>",
            docs=ALERT_DOCS,
        ),
        reads=READS,
        needs=NEEDS,
    )(evaluate)


alert_project_ownership_changes = _declare("project_ownership_changes", CHANGES["project_ownership_changes"])
alert_audit_config_changes = _declare("audit_config_changes", CHANGES["audit_config_changes"])
alert_custom_role_changes = _declare("custom_role_changes", CHANGES["custom_role_changes"])
alert_firewall_changes = _declare("firewall_changes", CHANGES["firewall_changes"])
alert_route_changes = _declare("route_changes", CHANGES["route_changes"])
alert_network_changes = _declare("network_changes", CHANGES["network_changes"])
alert_bucket_iam_changes = _declare("bucket_iam_changes", CHANGES["bucket_iam_changes"])
alert_sql_config_changes = _declare("sql_config_changes", CHANGES["sql_config_changes"])
