"""Microsoft Defender for Cloud: the workload protection plans that matter are on, and its alerts reach
a named security contact and the subscription owners."""

from __future__ import annotations

from agent.models import Resource
from checks.azure._arm import ARM_READER, ContactView, contact_view
from checks.azure._util import props
from checks.base import (
    Context,
    MissingInput,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    need,
    not_applicable,
    passed,
)

_DEFENDER_DOCS = "https://learn.microsoft.com/azure/defender-for-cloud/"
_CIS = "CIS Microsoft Azure Foundations v3.0.0 "


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
        docs=_DEFENDER_DOCS + "enable-enhanced-security",
    ),
    references=tuple(
        _CIS + n
        for n in (
            "3.1.3.1",
            "3.1.4.1",
            "3.1.5.1",
            "3.1.6.1",
            "3.1.7.1",
            "3.1.7.2",
            "3.1.7.3",
            "3.1.7.4",
            "3.1.8.1",
            "3.1.9.1",
        )
    ),
    params={
        "plans": [
            "VirtualMachines",
            "SqlServers",
            "SqlServerVirtualMachines",
            "OpenSourceRelationalDatabases",
            "CosmosDbs",
            "StorageAccounts",
            "KeyVaults",
            "Arm",
            "Containers",
            "AppServices",
        ]
    },
    reads=(
        "GET /subscriptions/{id}/providers/Microsoft.Security/pricings?api-version=2024-01-01: "
        "name, properties.pricingTier",
    ),
    needs=ARM_READER + " (or Security Reader)",
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


# -- security contacts ------------------------------------------------------------------------------

_CONTACTS = "GET /subscriptions/{id}/providers/Microsoft.Security/securityContacts?api-version=2023-12-01-preview: "
_CONTACT_CONSOLE = "Microsoft Defender for Cloud > Environment settings > the subscription > Email notifications: "
_CONTACT_DOCS = _DEFENDER_DOCS + "configure-email-notifications"


def _contacts(sub: Resource) -> list[ContactView]:
    return [contact_view(c) for c in need(sub, "SecurityContacts") or []]


@check(
    id="azure.security.contact_email_set",
    title="Defender for Cloud has a security contact email for the subscription",
    severity=Severity.MEDIUM,
    resource_type="azure.subscription",
    rationale=(
        "Microsoft sends Defender alerts, and notices that a subscription's resources were compromised, to "
        "the security contact. Without an address the notices reach nobody who will act on them."
    ),
    remediation=Remediation(
        console=_CONTACT_CONSOLE + "enter the security team's shared mailbox in 'Additional email addresses' > Save.",
        cli="az security contact create --name default --emails security@example.com "
        "--alert-notifications on --alerts-admins on",
        docs=_CONTACT_DOCS,
    ),
    references=(_CIS + "3.1.13",),
    reads=(_CONTACTS + "properties.emails, isEnabled (2020-01-01-preview shape also read)",),
    needs=ARM_READER,
)
def contact_email_set(sub: Resource, ctx: Context) -> Verdict:
    contacts = _contacts(sub)
    with_email = [c for c in contacts if c.emails]
    if with_email:
        return passed(f"subscription {sub.name} has security contact email(s) {', '.join(with_email[0].emails)}")
    if contacts:
        return failed(f"subscription {sub.name} has a security contact without an enabled email address")
    return failed(f"subscription {sub.name} has no Defender for Cloud security contact")


_SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}


@check(
    id="azure.security.alert_notifications_on",
    title="Defender for Cloud emails alerts of high severity (or lower) to the security contact",
    severity=Severity.MEDIUM,
    resource_type="azure.subscription",
    rationale=(
        "Defender raises an alert when it sees an attack in progress; without email notifications the alert "
        "waits in the portal until someone happens to look."
    ),
    remediation=Remediation(
        console=_CONTACT_CONSOLE + "check 'Notify about alerts with the following severity (or higher)' and "
        "choose High (or lower) > Save.",
        cli="az security contact update --name default --alert-notifications on",
        docs=_CONTACT_DOCS,
    ),
    references=(_CIS + "3.1.14",),
    params={"minimal_severity": "High"},
    reads=(
        _CONTACTS + "properties.isEnabled, notificationsSources[sourceType=Alert].minimalSeverity "
        "(2020-01-01-preview: alertNotifications.state, minimalSeverity)",
    ),
    needs=ARM_READER,
)
def alert_notifications_on(sub: Resource, ctx: Context) -> Verdict:
    wanted = str(ctx.params.get("minimal_severity", "High"))
    limit = _SEVERITY_RANK.get(wanted.lower(), 3)
    contacts = _contacts(sub)
    for c in contacts:
        if c.alerts_on and _SEVERITY_RANK.get(c.minimal_severity.lower(), 99) <= limit:
            return passed(f"subscription {sub.name} emails Defender alerts of severity {c.minimal_severity} or higher")
    if not contacts:
        return failed(f"subscription {sub.name} has no security contact, so Defender alerts are not emailed")
    on = [c for c in contacts if c.alerts_on]
    if on:
        return failed(
            f"subscription {sub.name} emails only Defender alerts above {wanted} "
            f"(minimal severity {on[0].minimal_severity or 'unknown'})"
        )
    return failed(f"subscription {sub.name} has Defender alert email notifications off")


@check(
    id="azure.security.notify_owners",
    title="Defender for Cloud also emails alerts to the subscription owners",
    severity=Severity.LOW,
    resource_type="azure.subscription",
    rationale=(
        "Owners can stop an attack on their subscription at once. Notifying the Owner role means an alert "
        "reaches them even when the shared security mailbox is unattended."
    ),
    remediation=Remediation(
        console=_CONTACT_CONSOLE + "'All users with the following roles': Owner > Save.",
        cli="az security contact update --name default --alerts-admins on",
        docs=_CONTACT_DOCS,
    ),
    references=(_CIS + "3.1.12",),
    reads=(_CONTACTS + "properties.isEnabled, notificationsByRole (state, roles)",),
    needs=ARM_READER,
)
def notify_owners(sub: Resource, ctx: Context) -> Verdict:
    contacts = _contacts(sub)
    for c in contacts:
        if c.roles_on and any(r.lower() == "owner" for r in c.roles):
            return passed(f"subscription {sub.name} emails Defender alerts to its Owners")
    if not contacts:
        return failed(f"subscription {sub.name} has no security contact, so owners are not notified")
    roles = sorted({r for c in contacts for r in c.roles})
    shown = f"roles {', '.join(roles)} only" if roles else "no role"
    return failed(f"subscription {sub.name} notifies {shown}, not the Owner role")
