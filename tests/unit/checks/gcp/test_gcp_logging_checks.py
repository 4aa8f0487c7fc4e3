"""GCP logging and monitoring checks: audit configuration, sinks, locked log storage, change alerts."""

from __future__ import annotations

from typing import Any

import pytest
from gcp_check_fixtures import AUDIT_ALL, ERROR, FAIL, NA, PASS, Case, case, listing_failed, project, res, run

from agent.models import Resource
from checks.gcp import logging, monitoring
from checks.gcp._logquery import QueryError, matches

ORG = "organizations/3"
DATA_RW = [{"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}]


def inherited(ancestor: str, *log_configs: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"ancestor": ancestor, "auditConfigs": [{"service": "allServices", "auditLogConfigs": list(log_configs)}]}]


def sink(name: str = "all-logs", **kw: Any) -> Resource:
    return res("gcp.logging.log_sink", name, destination="storage.googleapis.com/logs", **kw)


def dest_bucket(**retention: Any) -> dict[str, Any]:
    return {
        "type": "gcp.storage.bucket",
        "resource": "//storage.googleapis.com/projects/_/buckets/logs",
        "retentionPolicy": retention,
    }


def metric(name: str, text: str, **kw: Any) -> Resource:
    return res("gcp.logging.log_metric", name, filter=text, **kw)


def alert(metric_name: str, enabled: Any = True, channels: list[str] | None = None, **kw: Any) -> Resource:
    condition = kw.pop(
        "condition",
        {
            "conditionThreshold": {
                "filter": f'metric.type="logging.googleapis.com/user/{metric_name}" AND resource.type="global"'
            }
        },
    )
    attrs = {
        "displayName": f"on {metric_name}",
        "conditions": [condition],
        "notificationChannels": ["projects/p/notificationChannels/1"] if channels is None else channels,
    }
    if enabled is not None:
        attrs["enabled"] = enabled
    return res("gcp.monitoring.alert_policy", f"a-{metric_name}", **attrs, **kw)


FW = monitoring.CHANGES["firewall_changes"].example
OWNER = monitoring.CHANGES["project_ownership_changes"].example

CASES = [
    # data-access audit logs --------------------------------------------------------------------------
    case(logging.data_access_audit_logs, project(iamPolicy=AUDIT_ALL), PASS, "the project", id="pass"),
    case(
        logging.data_access_audit_logs,
        project(
            iamPolicy={"auditConfigs": [{"service": "allServices", "auditLogConfigs": [{"logType": "ADMIN_READ"}]}]}
        ),
        FAIL,
        "DATA_READ",
        id="partial",
    ),
    case(logging.data_access_audit_logs, project(), FAIL, "no data-access", id="none"),
    case(logging.data_access_audit_logs, project(errors={"iamPolicy": "x"}), ERROR, id="error"),
    case(
        logging.data_access_audit_logs,
        project(ancestorAuditConfigs=inherited("folders/2", {"logType": "ADMIN_READ"}, *DATA_RW)),
        PASS,
        "folders/2",
        id="defect-inherited-from-folder",
    ),
    case(
        logging.data_access_audit_logs,
        project(
            iamPolicy={"auditConfigs": [{"service": "allServices", "auditLogConfigs": [{"logType": "ADMIN_READ"}]}]},
            ancestorAuditConfigs=inherited(ORG, *DATA_RW),
        ),
        PASS,
        "the project, organizations/3",
        id="defect-union-of-levels",
    ),
    case(
        logging.data_access_audit_logs,
        project(
            errors={"ancestorAuditConfigs": "IAM policies of organizations/3 could not be read: PERMISSION_DENIED"}
        ),
        ERROR,
        "PERMISSION_DENIED",
        id="defect-ancestors-unreadable",
    ),
    case(
        logging.data_access_audit_logs,
        project(iamPolicy=AUDIT_ALL, errors={"ancestorAuditConfigs": "denied"}),
        PASS,
        "could not be read",
        id="own-passes-ancestors-unreadable",
    ),
    case(
        logging.data_access_audit_logs,
        project(
            iamPolicy=AUDIT_ALL,
            ancestorAuditConfigs=inherited(ORG, {"logType": "DATA_READ", "exemptedMembers": ["user:ceo@x.com"]}),
        ),
        FAIL,
        "exempts",
        id="ancestor-exemption",
        looks_fine="the project logs everything, but an exemption set on the organization applies to it too",
    ),
    case(
        logging.data_access_audit_logs,
        project(
            iamPolicy={
                "auditConfigs": [
                    {"service": "storage.googleapis.com", "auditLogConfigs": [{"logType": "ADMIN_READ"}, *DATA_RW]}
                ]
            }
        ),
        FAIL,
        id="one-service-only",
        looks_fine="all three log types are on, but for Cloud Storage only",
    ),
    # a sink exporting everything ---------------------------------------------------------------------------
    case(logging.sink_exports_all_entries, [project(), sink()], PASS, "all-logs", id="own-sink"),
    case(
        logging.sink_exports_all_entries,
        project(
            ancestorLogSinks=[
                {
                    "name": "org-audit",
                    "includeChildren": True,
                    "destination": "storage.googleapis.com/a",
                    "_ancestor": ORG,
                }
            ]
        ),
        PASS,
        "org-audit on organizations/3",
        id="org-sink",
    ),
    case(logging.sink_exports_all_entries, [project(), sink(filter="severity>=ERROR")], FAIL, id="filtered"),
    case(
        logging.sink_exports_all_entries,
        project(ancestorLogSinks=[{"name": "org-audit", "destination": "storage.googleapis.com/a", "_ancestor": ORG}]),
        FAIL,
        "not their children",
        id="org-sink-without-children",
        looks_fine="the organization has a sink with no filter, but without includeChildren it exports only the "
        "organization's own entries",
    ),
    case(
        logging.sink_exports_all_entries,
        [project(), sink(disabled=True)],
        FAIL,
        id="disabled",
        looks_fine="the sink has an empty filter but is disabled",
    ),
    case(logging.sink_exports_all_entries, project(errors={"ancestorLogSinks": "denied"}), ERROR, "denied", id="error"),
    case(
        logging.sink_exports_all_entries,
        [project(), sink()],
        ERROR,
        "input missing",
        id="listing-failed",
        errors=listing_failed("gcp.logging.log_sink"),
    ),
    # locked retention at the sink's destination --------------------------------------------------------------
    case(
        logging.sink_destination_retention_locked,
        sink(_destination=dest_bucket(retentionPeriod="31536000", isLocked=True)),
        PASS,
        "locked",
        id="pass",
    ),
    case(
        logging.sink_destination_retention_locked,
        sink(_destination=dest_bucket()),
        FAIL,
        "no retention",
        id="no-policy",
    ),
    case(
        logging.sink_destination_retention_locked,
        sink(_destination=dest_bucket(retentionPeriod="2592000")),
        FAIL,
        "not locked",
        id="unlocked",
        looks_fine="the bucket has a 30-day retention policy, but unlocked it can be removed at any time",
    ),
    case(
        logging.sink_destination_retention_locked,
        sink(
            _destination={
                "type": "gcp.logging.log_bucket",
                "resource": "//logging.googleapis.com/projects/p/locations/global/buckets/audit",
                "locked": True,
                "retentionDays": 400,
            }
        ),
        PASS,
        "locked log bucket",
        id="log-bucket-locked",
    ),
    case(
        logging.sink_destination_retention_locked,
        sink(
            _destination={
                "type": "gcp.logging.log_bucket",
                "resource": "//logging.googleapis.com/x/buckets/b",
                "locked": False,
                "retentionDays": 3650,
            }
        ),
        FAIL,
        "not locked",
        id="log-bucket-long-unlocked",
        looks_fine="ten years of retention, but the log bucket is not locked",
    ),
    case(logging.sink_destination_retention_locked, sink("_Default"), NA, id="built-in"),
    case(
        logging.sink_destination_retention_locked,
        sink(_destination={"type": "other", "destination": "bq"}),
        NA,
        id="bigquery",
    ),
    case(
        logging.sink_destination_retention_locked,
        sink(errors={"_destination": "destination storage.googleapis.com/logs is not among the collected"}),
        ERROR,
        "not among the collected",
        id="error",
    ),
    # change alerts (one table serves all eight) ---------------------------------------------------------------
    case(monitoring.alert_firewall_changes, [project(), metric("fw", FW), alert("fw")], PASS, "fw", id="pass"),
    case(monitoring.alert_firewall_changes, [project()], FAIL, "no log-based metric", id="none"),
    case(
        monitoring.alert_firewall_changes,
        [project(), metric("fw", FW)],
        FAIL,
        "no alert policy uses it",
        id="metric-without-alert",
    ),
    case(
        monitoring.alert_firewall_changes,
        [project(), metric("fw", FW), alert("fw", enabled=False)],
        FAIL,
        "disabled",
        id="disabled-alert",
        looks_fine="the metric and the alert policy exist, but the policy is off",
    ),
    case(
        monitoring.alert_firewall_changes,
        [project(), metric("fw", FW), alert("fw", channels=[])],
        FAIL,
        "notifies no channel",
        id="no-channel",
        looks_fine="an enabled policy with no channel notifies nobody",
    ),
    case(
        monitoring.alert_firewall_changes,
        [project(), metric("fw", FW), alert("fw", enabled=None)],
        FAIL,
        id="enabled-unknown",
    ),
    case(
        monitoring.alert_firewall_changes,
        [
            project(),
            metric("fw", 'resource.type="gce_firewall_rule" AND protoPayload.methodName:"compute.firewalls.insert"'),
            alert("fw"),
        ],
        FAIL,
        "no log-based metric",
        id="misses-operations",
        looks_fine="a firewall metric and alert exist, but patch and delete are not matched",
    ),
    case(
        monitoring.alert_firewall_changes,
        [
            project(),
            metric("fw", FW + ' AND NOT protoPayload.authenticationInfo.principalEmail:"example.com"'),
            alert("fw"),
        ],
        FAIL,
        id="narrowed",
        looks_fine="the CIS filter text is there, plus a clause that excludes "
        "every change made by the company's own accounts",
    ),
    case(
        monitoring.alert_firewall_changes,
        [project(), metric("fw", FW, disabled=True), alert("fw")],
        FAIL,
        id="metric-disabled",
    ),
    case(
        monitoring.alert_firewall_changes,
        [project(), metric("fw", FW), alert("fw")],
        ERROR,
        "input missing",
        id="error",
        errors=listing_failed("gcp.monitoring.alert_policy"),
    ),
    case(
        monitoring.alert_firewall_changes,
        [
            project(),
            metric(
                "fw",
                'resource.type = "gce_firewall_rule"\n AND protoPayload.methodName =~ '
                r'"compute\.firewalls\.(patch|insert|delete)$"',
            ),
            alert(
                "fw",
                condition={
                    "conditionMonitoringQueryLanguage": {
                        "query": "fetch global | metric 'logging.googleapis.com/user/fw' | every 1m"
                    }
                },
            ),
        ],
        PASS,
        id="regex-and-mql",
    ),
    case(
        monitoring.alert_firewall_changes,
        [project(), alert("x", condition={"conditionMatchedLog": {"filter": FW}})],
        PASS,
        "in the logs",
        id="log-match-alert",
    ),
    case(
        monitoring.alert_firewall_changes,
        [project(), metric("fw", FW), alert("fw-old")],
        FAIL,
        id="alert-on-other-metric",
        looks_fine="an alert policy exists next to the metric, but it watches a different metric",
    ),
    case(
        monitoring.alert_firewall_changes,
        [
            project(),
            metric("fw", FW),
            alert(
                "fw", condition={"conditionThreshold": {"filter": 'metric.type="logging.googleapis.com/user/fw-old"'}}
            ),
        ],
        FAIL,
        id="metric-name-prefix",
        looks_fine="the condition names logging.googleapis.com/user/fw-old, which starts like the metric fw",
    ),
    case(monitoring.alert_project_ownership_changes, [project(), metric("own", OWNER), alert("own")], PASS, id="pass"),
    case(
        monitoring.alert_project_ownership_changes,
        [
            project(),
            metric(
                "own",
                'protoPayload.serviceData.policyDelta.bindingDeltas.action="ADD" AND '
                'protoPayload.serviceData.policyDelta.bindingDeltas.role="roles/owner"',
            ),
            alert("own"),
        ],
        FAIL,
        id="grants-only",
        looks_fine="owner grants alert, owner removals do not",
    ),
    case(monitoring.alert_project_ownership_changes, [project()], FAIL, id="fail"),
    case(
        monitoring.alert_project_ownership_changes,
        [project()],
        ERROR,
        id="error",
        errors=listing_failed("gcp.logging.log_metric"),
    ),
]


def _table(key: str, good: str, narrow: str) -> list[Any]:
    chk = getattr(monitoring, f"alert_{key}")
    return [
        case(chk, [project(), metric("m", good), alert("m")], PASS, id="pass"),
        case(chk, [project(), metric("m", good)], FAIL, "no alert policy", id="fail"),
        case(
            chk,
            [project(), metric("m", narrow), alert("m")],
            FAIL,
            id="too-narrow",
            looks_fine="a metric and an enabled alert exist, but the filter misses part of the change",
        ),
        case(chk, [project()], ERROR, id="error", errors=listing_failed("gcp.logging.log_metric")),
    ]


CASES += _table(
    "audit_config_changes",
    monitoring.CHANGES["audit_config_changes"].example,
    'protoPayload.methodName="SetIamPolicy" AND resource.type="gcs_bucket"',
)
CASES += _table(
    "custom_role_changes",
    monitoring.CHANGES["custom_role_changes"].example,
    'resource.type="iam_role" AND protoPayload.methodName="google.iam.admin.v1.CreateRole"',
)
CASES += _table(
    "route_changes",
    monitoring.CHANGES["route_changes"].example,
    'resource.type="gce_route" AND protoPayload.methodName="v1.compute.routes.insert"',
)
CASES += _table(
    "network_changes",
    monitoring.CHANGES["network_changes"].example,
    'resource.type="gce_network" AND (protoPayload.methodName:"compute.networks.insert" OR '
    'protoPayload.methodName:"compute.networks.delete")',
)
CASES += _table(
    "bucket_iam_changes",
    monitoring.CHANGES["bucket_iam_changes"].example,
    'resource.type="gcs_bucket" AND protoPayload.methodName="storage.buckets.update"',
)
CASES += _table(
    "sql_config_changes",
    monitoring.CHANGES["sql_config_changes"].example,
    'protoPayload.methodName="cloudsql.instances.create"',
)


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    run(c)


ENTRY = {
    "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
    "severity": "NOTICE",
    "resource": {"type": "gce_route", "labels": {"project_id": "p"}},
    "protoPayload": {
        "methodName": "v1.compute.routes.insert",
        "serviceData": {
            "policyDelta": {
                "bindingDeltas": [
                    {"action": "ADD", "role": "roles/viewer"},
                    {"action": "REMOVE", "role": "roles/owner"},
                ]
            }
        },
    },
}


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ('resource.type="gce_route"', True),
        ('resource.type="GCE_ROUTE"', False),  # = compares exactly
        ('resource.type:"GCE_ROUTE"', True),  # : is case-insensitive
        ('resource.type=gce_route protoPayload.methodName:"routes.insert"', True),  # implicit AND
        ('-resource.type="gce_route"', False),
        ('NOT resource.type="gce_network" AND resource.type="gce_route"', True),
        ('resource.type="gce_network" OR resource.type="gce_route" AND severity>=NOTICE', True),
        ('resource.type="gce_network" AND resource.type="gce_route" OR severity=NOTICE', False),  # OR binds tighter
        ("severity>WARNING", False),
        ("protoPayload.serviceData:*", True),
        ("protoPayload.request:*", False),
        ('protoPayload.serviceData.policyDelta.bindingDeltas.role="roles/owner"', True),  # repeated fields fan out
        ('log_id("cloudaudit.googleapis.com/activity")', True),
        ("routes.insert", True),  # a bare term searches every value
        ('protoPayload.methodName=("v1.compute.routes.delete" OR "v1.compute.routes.insert")', True),
        ('resource.labels.project_id!="p"', False),
        ("", True),
    ],
)
def test_log_query_reader(query: str, expect: bool) -> None:
    assert matches(query, ENTRY) is expect


@pytest.mark.parametrize(
    "query",
    ['resource.type="gce_route" AND sample(insertId, 0.1)', '(resource.type="x"', 'protoPayload.methodName=~"("'],
)
def test_log_query_reader_refuses_what_it_cannot_follow(query: str) -> None:
    with pytest.raises(QueryError):
        matches(query, ENTRY)
