"""Helpers for the ARM checks: address ranges, diagnostic settings, activity-log alert conditions,
Defender for Cloud security contacts. Pure functions over plain data; no Azure calls.

The registry skips this module (leading underscore), so nothing here is discovered as a check.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.models import Resource, Snapshot

__all__ = [
    "ARM_READER",
    "ContactView",
    "addresses_in",
    "alert_covers",
    "contact_view",
    "diag_destination",
    "diag_sends",
    "find",
    "same_id",
    "uncovered_operations",
    "wide_ip_rules",
]

ARM_READER = "Reader on the subscription (Azure RBAC)"


def same_id(a: Any, b: Any) -> bool:
    """ARM ids compare case-insensitively (resourceGroups vs resourcegroups, provider casing)."""
    return bool(a) and bool(b) and str(a).rstrip("/").lower() == str(b).rstrip("/").lower()


def find(snapshot: Snapshot, resource_type: str, resource_id: Any) -> Resource | None:
    """The resource of ``resource_type`` whose id is ``resource_id`` (case-insensitive), if collected."""
    return next((r for r in snapshot.of_type(resource_type) if same_id(r.id, resource_id)), None)


# -- address ranges ------------------------------------------------------------------------------


def addresses_in(start: str, end: str | None = None) -> int:
    """How many IPv4 addresses a rule admits: a start-end range, one address, or a CIDR block.
    ValueError for anything that is not IPv4."""
    if end is None:
        net = ipaddress.IPv4Network(str(start).strip(), strict=False)
        return int(net.num_addresses)
    lo, hi = int(ipaddress.IPv4Address(str(start).strip())), int(ipaddress.IPv4Address(str(end).strip()))
    return max(0, hi - lo + 1)


def wide_ip_rules(rules: Iterable[Mapping[str, Any]], max_addresses: int) -> list[tuple[str, int]]:
    """(value, address count) of each storage / key vault ``networkAcls.ipRules`` entry wider than
    ``max_addresses``."""
    wide: list[tuple[str, int]] = []
    for rule in rules:
        value = str(rule.get("value") or rule.get("ipAddressOrRange") or "").strip()
        if not value:
            continue
        if ":" in value:
            # IPv6: a /48 is what one site is given; anything shorter spans other people's networks.
            net6 = ipaddress.IPv6Network(value, strict=False)
            if net6.prefixlen < 48:
                wide.append((value, int(net6.num_addresses)))
            continue
        count = addresses_in(value)
        if count > max_addresses:
            wide.append((value, count))
    return wide


# -- diagnostic settings -------------------------------------------------------------------------

_DESTINATIONS = ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId", "marketplacePartnerId")


def diag_destination(setting: Mapping[str, Any]) -> str:
    """The kind of destination a diagnostic setting sends to ('' when it has none)."""
    p = setting.get("properties") or {}
    return next((k for k in _DESTINATIONS if p.get(k)), "")


def diag_sends(setting: Mapping[str, Any], categories: Iterable[str], groups: Iterable[str]) -> bool:
    """True when the setting has a destination and an enabled log entry for one of ``categories``
    or one of the category ``groups`` (compared case-insensitively)."""
    if not diag_destination(setting):
        return False
    cats = {c.lower() for c in categories}
    grps = {g.lower() for g in groups}
    for entry in (setting.get("properties") or {}).get("logs") or []:
        if entry.get("enabled") is not True:
            continue
        if str(entry.get("category") or "").lower() in cats or str(entry.get("categoryGroup") or "").lower() in grps:
            return True
    return False


# -- activity-log alerts -------------------------------------------------------------------------

# Fields whose condition only says which events the operation name already implies.
_NEUTRAL_FIELDS = {"category", "operationname", "resourcetype", "resourceprovider"}


def _categories(operation: str) -> set[str]:
    """Activity-log categories an operation's events can be matched under: Administrative for every
    ARM write, and Security for Microsoft.Security operations (Azure's own built-in policy for
    security-solution alerts matches that category)."""
    return {"administrative", "security"} if operation.startswith("microsoft.security/") else {"administrative"}


def _leaf_values(leaf: Mapping[str, Any]) -> set[str]:
    values = [leaf.get("equals")] + list(leaf.get("containsAny") or [])
    return {str(v).lower() for v in values if v not in (None, "")}


def _leaves(condition: Mapping[str, Any]) -> list[list[Mapping[str, Any]]]:
    """The allOf list as groups of alternatives: a leaf alone, or the leaves of an anyOf."""
    groups: list[list[Mapping[str, Any]]] = []
    for item in condition.get("allOf") or []:
        if not isinstance(item, Mapping):
            continue
        any_of = item.get("anyOf")
        groups.append([x for x in any_of if isinstance(x, Mapping)] if any_of else [item])
    return groups


def alert_covers(alert: Mapping[str, Any], subscription_id: str, operation: str) -> bool:
    """Whether an activity-log alert rule fires on every ``operation`` event in the subscription and
    notifies someone: enabled (the API default when absent), scoped to the whole subscription, an
    Administrative-category condition on that operation name, no condition that narrows it to some
    resources or outcomes, and at least one action group."""
    p = alert.get("properties") or {}
    if p.get("enabled", True) is False:
        return False
    sub = f"/subscriptions/{subscription_id}"
    if not any(same_id(scope, sub) for scope in p.get("scopes") or []):
        return False
    if not ((p.get("actions") or {}).get("actionGroups") or []):
        return False
    op = operation.lower()
    named = False
    for alternatives in _leaves(p.get("condition") or {}):
        fields = {str(leaf.get("field") or "").lower() for leaf in alternatives}
        if fields - _NEUTRAL_FIELDS:
            return False  # e.g. resourceGroup, resourceId, status, caller, level: only some events
        matched = [leaf for leaf in alternatives if _leaf_matches(leaf, op)]
        if not matched:
            return False  # this condition excludes the operation's events
        named = named or any(str(leaf.get("field") or "").lower() == "operationname" for leaf in matched)
    return named


def _leaf_matches(leaf: Mapping[str, Any], op: str) -> bool:
    field, values = str(leaf.get("field") or "").lower(), _leaf_values(leaf)
    if field == "category":
        return bool(values & _categories(op))
    if field == "operationname":
        return op in values
    return any(op.startswith(v + "/") for v in values)  # resourceType / resourceProvider


def uncovered_operations(
    alerts: Iterable[Mapping[str, Any]], subscription_id: str, operations: Iterable[str]
) -> list[str]:
    alerts = list(alerts)
    return [op for op in operations if not any(alert_covers(a, subscription_id, op) for a in alerts)]


# -- Defender for Cloud security contacts --------------------------------------------------------


@dataclass(frozen=True)
class ContactView:
    """One security contact read the same way from the 2020-01-01-preview and 2023-12-01-preview
    shapes (the first has ``alertNotifications``, the second ``isEnabled`` and ``notificationsSources``)."""

    name: str
    emails: tuple[str, ...]
    alerts_on: bool
    minimal_severity: str  # High, Medium or Low; '' when alerts are off
    roles_on: bool
    roles: tuple[str, ...]


def contact_view(contact: Mapping[str, Any]) -> ContactView:
    p = contact.get("properties") or {}
    emails = tuple(e.strip() for e in str(p.get("emails") or "").replace(",", ";").split(";") if e.strip())
    enabled = p.get("isEnabled", True) is not False  # absent in the older shape
    if "notificationsSources" in p:
        alert = next(
            (s for s in p.get("notificationsSources") or [] if str(s.get("sourceType") or "").lower() == "alert"),
            None,
        )
        alerts_on, severity = alert is not None, str((alert or {}).get("minimalSeverity") or "")
    else:
        an = p.get("alertNotifications") or {}
        alerts_on, severity = str(an.get("state") or "").lower() == "on", str(an.get("minimalSeverity") or "")
    by_role = p.get("notificationsByRole") or {}
    roles_on = str(by_role.get("state") or "").lower() == "on"
    return ContactView(
        name=str(contact.get("name") or "default"),
        emails=emails if enabled else (),
        alerts_on=enabled and alerts_on,
        minimal_severity=severity if enabled and alerts_on else "",
        roles_on=enabled and roles_on,
        roles=tuple(str(r) for r in by_role.get("roles") or []) if enabled and roles_on else (),
    )
