"""Subscription-level ARM checks added for issue #12: activity-log alerts on security changes (three
themes) and Defender for Cloud security contacts (both api-version shapes)."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

from typing import Any

import pytest
from azure_check_fixtures import ERROR, FAIL, PASS, RG, SUB, Case, case, check_case
from test_azure_resource_checks import sub

import checks.azure.monitor as monitor
import checks.azure.security as security
from checks.azure._arm import alert_covers, contact_view

SCOPE = f"/subscriptions/{SUB}"
AG = f"{RG}/providers/microsoft.insights/actionGroups/secops"
POLICY_OPS = [
    "Microsoft.Authorization/policyAssignments/write",
    "Microsoft.Authorization/policyAssignments/delete",
    "Microsoft.Security/securitySolutions/write",
    "Microsoft.Security/securitySolutions/delete",
]
NETWORK_OPS = [
    "Microsoft.Network/networkSecurityGroups/write",
    "Microsoft.Network/networkSecurityGroups/delete",
    "Microsoft.Network/networkSecurityGroups/securityRules/write",
    "Microsoft.Network/networkSecurityGroups/securityRules/delete",
    "Microsoft.Network/publicIPAddresses/write",
    "Microsoft.Network/publicIPAddresses/delete",
]
SQL_OPS = ["Microsoft.Sql/servers/firewallRules/write", "Microsoft.Sql/servers/firewallRules/delete"]


def alert(
    op: str,
    *,
    enabled: bool | None = True,
    scopes: list[str] | None = None,
    groups: bool = True,
    category: str = "Administrative",
    extra: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One rule as GET .../providers/Microsoft.Insights/activityLogAlerts (2020-10-01) returns it."""
    all_of: list[dict[str, Any]] = [{"field": "category", "equals": category}, {"field": "operationName", "equals": op}]
    props: dict[str, Any] = {
        "scopes": scopes if scopes is not None else [SCOPE],
        "condition": {"allOf": all_of + (extra or [])},
        "actions": {"actionGroups": [{"actionGroupId": AG, "webhookProperties": {}}] if groups else []},
    }
    if enabled is not None:
        props["enabled"] = enabled
    name = "-".join(op.split("/")[-2:])
    return {
        "id": f"{RG}/providers/microsoft.insights/activityLogAlerts/{name}",
        "type": "Microsoft.Insights/ActivityLogAlerts",
        "name": name,
        "location": "Global",
        "properties": props,
    }


def alerts(ops: list[str], **kw: Any) -> list[dict[str, Any]]:
    return [alert(op, **kw) for op in ops]


def contact_2023(
    emails: str = "secops@contoso.example",
    enabled: bool = True,
    severity: str | None = "High",
    roles: list[str] | None = None,
    roles_state: str = "On",
) -> dict[str, Any]:
    sources = [] if severity is None else [{"sourceType": "Alert", "minimalSeverity": severity}]
    return {
        "id": f"{SCOPE}/providers/Microsoft.Security/securityContacts/default",
        "name": "default",
        "properties": {
            "isEnabled": enabled,
            "emails": emails,
            "phone": "",
            "notificationsByRole": {"state": roles_state, "roles": roles if roles is not None else ["Owner"]},
            "notificationsSources": sources + [{"sourceType": "AttackPath", "minimalRiskLevel": "Critical"}],
        },
    }


def contact_2020(
    emails: str = "secops@contoso.example",
    state: str = "On",
    severity: str = "Low",
    roles: list[str] | None = None,
    roles_state: str = "On",
) -> dict[str, Any]:
    return {
        "id": f"{SCOPE}/providers/Microsoft.Security/securityContacts/default",
        "name": "default",
        "properties": {
            "emails": emails,
            "alertNotifications": {"state": state, "minimalSeverity": severity},
            "notificationsByRole": {"state": roles_state, "roles": roles if roles is not None else ["Owner"]},
        },
    }


ALL_OPS = POLICY_OPS + NETWORK_OPS + SQL_OPS

CASES = [
    # policy and security solutions
    case(monitor.alert_policy_changes, sub(ActivityLogAlerts=alerts(POLICY_OPS)), PASS, "all 4", id="pass"),
    case(
        monitor.alert_policy_changes,
        sub(ActivityLogAlerts=alerts(POLICY_OPS, category="Security")[2:] + alerts(POLICY_OPS[:2])),
        PASS,
        "all 4",
        id="security-category",
    ),
    case(monitor.alert_policy_changes, sub(ActivityLogAlerts=[]), FAIL, "policyAssignments/write", id="fail"),
    case(
        monitor.alert_policy_changes,
        sub(ActivityLogAlerts=alerts(POLICY_OPS[:2])),
        FAIL,
        "2 policy and security-solution operation(s): Microsoft.Security/securitySolutions/write, Microsoft.Security/securitySolutions/delete",
        id="some",
    ),
    case(
        monitor.alert_policy_changes,
        sub(ActivityLogAlerts=alerts(POLICY_OPS, enabled=False)),
        FAIL,
        "4 policy",
        id="disabled",
        looks_fine="an alert rule exists for every operation, but each is disabled",
    ),
    case(
        monitor.alert_policy_changes,
        sub(ActivityLogAlerts=alerts(POLICY_OPS, enabled=None)),
        PASS,
        "all 4",
        id="enabled-default-true",
    ),
    case(
        monitor.alert_policy_changes,
        sub(errors={"ActivityLogAlerts": "AuthorizationFailed: no"}),
        ERROR,
        "ActivityLogAlerts",
        id="error",
    ),
    # network
    case(monitor.alert_network_changes, sub(ActivityLogAlerts=alerts(ALL_OPS)), PASS, "all 4", id="pass"),
    case(
        monitor.alert_network_changes,
        sub(ActivityLogAlerts=alerts(NETWORK_OPS, scopes=[f"{SCOPE}/resourceGroups/prod"])),
        FAIL,
        "4 network",
        id="resource-group-scope",
        looks_fine="alerts exist for every operation, but scoped to one resource group, not the subscription",
    ),
    case(
        monitor.alert_network_changes,
        sub(ActivityLogAlerts=alerts(NETWORK_OPS, groups=False)),
        FAIL,
        "4 network",
        id="no-action-group",
        looks_fine="enabled alerts for every operation, but no action group: they notify nobody",
    ),
    case(
        monitor.alert_network_changes,
        sub(ActivityLogAlerts=alerts(NETWORK_OPS, extra=[{"field": "status", "equals": "Failed"}])),
        FAIL,
        "4 network",
        id="failed-only",
        looks_fine="an extra condition status=Failed: the alert fires only on failed changes, never on a successful one",
    ),
    case(
        monitor.alert_network_changes,
        sub(ActivityLogAlerts=alerts(NETWORK_OPS[:2] + NETWORK_OPS[4:])),
        PASS,
        "all 4",
        id="cis-operations",
    ),
    case(
        monitor.alert_network_changes,
        sub(ActivityLogAlerts=alerts(NETWORK_OPS[:2] + NETWORK_OPS[4:])),
        FAIL,
        "securityRules/write",
        params={"operations": NETWORK_OPS},
        id="param-rule-ops",
    ),
    case(
        monitor.alert_network_changes,
        sub(errors={"ActivityLogAlerts": "AuthorizationFailed: no"}),
        ERROR,
        "AuthorizationFailed",
        id="error",
    ),
    # SQL firewall
    case(monitor.alert_sql_firewall_changes, sub(ActivityLogAlerts=alerts(SQL_OPS)), PASS, "all 2", id="pass"),
    case(
        monitor.alert_sql_firewall_changes,
        sub(
            ActivityLogAlerts=[
                {
                    **alert("any/x"),
                    "properties": {
                        **alert("any/x")["properties"],
                        "condition": {
                            "allOf": [
                                {"field": "category", "equals": "Administrative"},
                                {"anyOf": [{"field": "operationName", "equals": op} for op in SQL_OPS]},
                            ]
                        },
                    },
                }
            ]
        ),
        PASS,
        "all 2",
        id="any-of",
    ),
    case(
        monitor.alert_sql_firewall_changes,
        sub(
            ActivityLogAlerts=[
                {
                    **alert("any/x"),
                    "properties": {
                        **alert("any/x")["properties"],
                        "condition": {
                            "allOf": [
                                {"field": "category", "equals": "Administrative"},
                                {"field": "operationName", "containsAny": SQL_OPS},
                            ]
                        },
                    },
                }
            ]
        ),
        PASS,
        "all 2",
        id="contains-any",
    ),
    case(
        monitor.alert_sql_firewall_changes,
        sub(ActivityLogAlerts=alerts(SQL_OPS, extra=[{"field": "resourceGroup", "equals": "prod"}])),
        FAIL,
        "2 SQL firewall",
        id="one-group",
        looks_fine="subscription scope, but a resourceGroup condition narrows it to one group's servers",
    ),
    case(
        monitor.alert_sql_firewall_changes,
        sub(ActivityLogAlerts=alerts(SQL_OPS, category="ServiceHealth")),
        FAIL,
        "2 SQL",
        id="wrong-category",
    ),
    case(
        monitor.alert_sql_firewall_changes,
        sub(ActivityLogAlerts=alerts(SQL_OPS[:1])),
        FAIL,
        "firewallRules/delete",
        id="fail",
    ),
    case(
        monitor.alert_sql_firewall_changes,
        sub(errors={"ActivityLogAlerts": "AuthorizationFailed: no"}),
        ERROR,
        "AuthorizationFailed",
        id="error",
    ),
    # security contact email
    case(security.contact_email_set, sub(SecurityContacts=[contact_2023()]), PASS, "secops@contoso.example", id="pass"),
    case(
        security.contact_email_set,
        sub(SecurityContacts=[contact_2020("a@x.example;b@x.example")]),
        PASS,
        "a@x.example, b@x.example",
        id="pass-2020",
    ),
    case(
        security.contact_email_set,
        sub(SecurityContacts=[contact_2023(enabled=False)]),
        FAIL,
        "without an enabled email",
        id="disabled-contact",
        looks_fine="the contact lists an email address, but isEnabled is false: nothing is sent",
    ),
    case(
        security.contact_email_set,
        sub(SecurityContacts=[contact_2023(emails="")]),
        FAIL,
        "without an enabled email",
        id="fail",
    ),
    case(
        security.contact_email_set, sub(SecurityContacts=[]), FAIL, "no Defender for Cloud security contact", id="none"
    ),
    case(
        security.contact_email_set,
        sub(errors={"SecurityContacts": "AuthorizationFailed: no"}),
        ERROR,
        "SecurityContacts",
        id="error",
    ),
    # alert notifications
    case(security.alert_notifications_on, sub(SecurityContacts=[contact_2023()]), PASS, "severity High", id="pass"),
    case(
        security.alert_notifications_on,
        sub(SecurityContacts=[contact_2020(severity="Medium")]),
        PASS,
        "Medium",
        id="pass-2020",
    ),
    case(
        security.alert_notifications_on,
        sub(SecurityContacts=[contact_2020(state="Off", severity="High")]),
        FAIL,
        "notifications off",
        id="off-2020",
        looks_fine="minimalSeverity reads High, but the alertNotifications state is Off",
    ),
    case(
        security.alert_notifications_on,
        sub(SecurityContacts=[contact_2023(severity=None)]),
        FAIL,
        "notifications off",
        id="no-alert-source",
        looks_fine="the contact is enabled with an email and an AttackPath source, but no Alert source",
    ),
    case(
        security.alert_notifications_on,
        sub(SecurityContacts=[contact_2023(severity="Medium")]),
        FAIL,
        "above Low",
        params={"minimal_severity": "Low"},
        id="param",
    ),
    case(security.alert_notifications_on, sub(SecurityContacts=[]), FAIL, "no security contact", id="none"),
    case(
        security.alert_notifications_on,
        sub(errors={"SecurityContacts": "AuthorizationFailed: no"}),
        ERROR,
        "AuthorizationFailed",
        id="error",
    ),
    # owners
    case(security.notify_owners, sub(SecurityContacts=[contact_2023()]), PASS, "Owners", id="pass"),
    case(
        security.notify_owners,
        sub(SecurityContacts=[contact_2020(roles=["AccountAdmin", "Owner"])]),
        PASS,
        "Owners",
        id="pass-2020",
    ),
    case(
        security.notify_owners,
        sub(SecurityContacts=[contact_2023(roles=["Owner"], roles_state="Off")]),
        FAIL,
        "no role",
        id="state-off",
        looks_fine="roles lists Owner, but notificationsByRole state is Off",
    ),
    case(
        security.notify_owners,
        sub(SecurityContacts=[contact_2023(roles=["Contributor"])]),
        FAIL,
        "roles Contributor only",
        id="fail",
    ),
    case(security.notify_owners, sub(SecurityContacts=[]), FAIL, "no security contact", id="none"),
    case(
        security.notify_owners,
        sub(errors={"SecurityContacts": "AuthorizationFailed: no"}),
        ERROR,
        "AuthorizationFailed",
        id="error",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    check_case(c)


def test_every_check_here_has_pass_fail_error() -> None:
    seen: dict[str, set[Any]] = {}
    for item in CASES:
        seen.setdefault(item.values[0].check.id, set()).add(item.values[0].expect)
    for chk in (
        monitor.alert_policy_changes,
        monitor.alert_network_changes,
        monitor.alert_sql_firewall_changes,
        security.contact_email_set,
        security.alert_notifications_on,
        security.notify_owners,
    ):
        assert {PASS, FAIL, ERROR} <= seen.get(chk.id, set()), chk.id


def test_default_operations_are_the_cis_ones() -> None:
    assert monitor.alert_policy_changes.meta.params["operations"] == POLICY_OPS
    assert monitor.alert_network_changes.meta.params["operations"] == NETWORK_OPS[:2] + NETWORK_OPS[4:]
    assert monitor.alert_sql_firewall_changes.meta.params["operations"] == SQL_OPS


def test_alert_ids_and_operation_names_compare_case_insensitively() -> None:
    rule = alert("microsoft.sql/servers/firewallrules/write", scopes=[SCOPE.upper()])
    assert alert_covers(rule, SUB, "Microsoft.Sql/servers/firewallRules/write")
    assert not alert_covers(rule, SUB, "Microsoft.Sql/servers/firewallRules/delete")


def test_resource_type_condition_matching_the_operation_does_not_narrow() -> None:
    rule = alert(SQL_OPS[0], extra=[{"field": "resourceType", "equals": "Microsoft.Sql/servers/firewallRules"}])
    assert alert_covers(rule, SUB, SQL_OPS[0])
    other = alert(SQL_OPS[0], extra=[{"field": "resourceType", "equals": "Microsoft.Network/networkSecurityGroups"}])
    assert not alert_covers(other, SUB, SQL_OPS[0])


def test_contact_shapes_read_the_same() -> None:
    new, old = contact_view(contact_2023(severity="Low")), contact_view(contact_2020(severity="Low"))
    assert (new.emails, new.alerts_on, new.minimal_severity, new.roles_on, new.roles) == (
        old.emails,
        old.alerts_on,
        old.minimal_severity,
        old.roles_on,
        old.roles,
    )
