"""The real ARM collector against the fake tenant over the wire (TLS, azure-identity, httpx), then the
real checks through agent.evaluate: the demo subscription's negative shapes are each found."""

from __future__ import annotations

from typing import Any

import pytest
from posture_demo.fake_azure import DEMO_SUBSCRIPTION, FakeAzure

from agent.evaluate import evaluate
from agent.models import Finding, Snapshot, Status
from agent.registry import load_checks
from collectors import CollectContext
from collectors.azure import collect
from collectors.azure.config import AzureSource

ARM_CHECKS = [c for cid, c in load_checks().items() if cid.startswith("azure.") and not cid.startswith("azure.entra")]


def arm_snapshot(fake: FakeAzure, **extra: Any) -> Snapshot:
    snaps = collect(AzureSource.model_validate(fake.source_config(entra=False, **extra)), CollectContext())
    [snap] = [s for s in snaps if s.account == DEMO_SUBSCRIPTION]
    return snap


def findings(fake: FakeAzure) -> dict[tuple[str, str], Finding]:
    """(check id, resource name) -> finding; the resource name is the last segment of its id."""
    snap = arm_snapshot(fake)
    return {(f.check_id, f.resource_id.rstrip("/").rsplit("/", 1)[-1]): f for f in evaluate(snap, ARM_CHECKS)}


@pytest.fixture
def found(fake: FakeAzure) -> dict[tuple[str, str], Finding]:
    return findings(fake)


# (check, resource name, expected status, words the message must contain)
NEGATIVE_SHAPES = [
    ("azure.sql.server_no_open_firewall", "contoso-sql", Status.FAIL, ["AllowAllWindowsAzureIps", "other customers'"]),
    ("azure.sql.server_no_open_firewall", "contoso-sql", Status.FAIL, ["partners (1.0.0.0-255.255.255.255"]),
    ("azure.keyvault.logging_enabled", "contoso-kv", Status.FAIL, ["no diagnostic setting"]),
    ("azure.network.nsg_flow_logs", "jump-nsg", Status.FAIL, ["subnet jump has no VNet flow log"]),
    ("azure.monitor.alert_network_changes", DEMO_SUBSCRIPTION, Status.FAIL, ["4 network security operation(s)"]),
    (
        "azure.monitor.alert_policy_changes",
        DEMO_SUBSCRIPTION,
        Status.FAIL,
        ["Microsoft.Security/securitySolutions/write"],
    ),
    ("azure.monitor.alert_sql_firewall_changes", DEMO_SUBSCRIPTION, Status.FAIL, ["firewallRules/delete"]),
    ("azure.security.alert_notifications_on", DEMO_SUBSCRIPTION, Status.FAIL, ["notifications off"]),
    ("azure.security.notify_owners", DEMO_SUBSCRIPTION, Status.FAIL, ["not the Owner role"]),
    ("azure.sql.server_auditing_retention_90d", "contoso-sql-reporting", Status.FAIL, ["30 days"]),
    ("azure.sql.database_tde_enabled", "legacy", Status.FAIL, ["transparent data encryption disabled"]),
    ("azure.storage.blob_soft_delete", "contosopublic", Status.FAIL, ["blob soft delete is off"]),
    ("azure.storage.default_network_deny", "contosopublic", Status.FAIL, ["defaultAction Allow"]),
    ("azure.storage.default_network_deny", "contosologs", Status.FAIL, ["0.0.0.0/0"]),
    ("azure.sql.server_entra_admin", "contoso-sql", Status.FAIL, ["only the SQL login sqladmin"]),
]

# The well-configured counterparts, so a check that fails everything would be caught too.
GOOD_SHAPES = [
    ("azure.keyvault.logging_enabled", "contoso-kv-audit", Status.PASS),
    ("azure.network.nsg_flow_logs", "web-nsg", Status.PASS),
    ("azure.security.contact_email_set", DEMO_SUBSCRIPTION, Status.PASS),
    ("azure.sql.database_tde_enabled", "orders", Status.PASS),
    ("azure.sql.database_tde_enabled", "master", Status.NOT_APPLICABLE),
    ("azure.storage.blob_soft_delete", "contosologs", Status.PASS),
    ("azure.sql.server_entra_admin", "contoso-sql-reporting", Status.PASS),
    ("azure.sql.server_no_open_firewall", "contoso-sql-reporting", Status.PASS),
]


@pytest.mark.parametrize("check_id,name,status,words", NEGATIVE_SHAPES, ids=lambda v: str(v)[:40])
def test_demo_finds_each_negative_shape(
    found: dict[tuple[str, str], Finding], check_id: str, name: str, status: Status, words: list[str]
) -> None:
    finding = found[(check_id, name)]
    assert finding.status == status, finding.message
    for word in words:
        assert word in finding.message, finding.message


@pytest.mark.parametrize("check_id,name,status", GOOD_SHAPES, ids=lambda v: str(v)[:40])
def test_demo_passes_the_good_counterparts(
    found: dict[tuple[str, str], Finding], check_id: str, name: str, status: Status
) -> None:
    assert found[(check_id, name)].status == status, found[(check_id, name)].message


def test_every_arm_read_is_served_and_only_gets_are_sent(fake: FakeAzure) -> None:
    snap = arm_snapshot(fake)
    assert snap.complete
    assert not [r for r in snap.resources if r.errors], [r.errors for r in snap.resources if r.errors]
    assert {m for m, _, _, _ in fake.requests if m != "POST"} == {"GET"}
    assert not [r for r in fake.calls("arm") if r[3] != 200]
    errors = [f for f in evaluate(snap, ARM_CHECKS) if f.status == Status.ERROR]
    assert not errors, [(f.check_id, f.message) for f in errors]
    types = {r.type for r in snap.resources}
    assert {"azure.sql.database", "azure.network.flowlog", "azure.network.watcher", "azure.monitor.workspace"} <= types


def test_a_denied_child_listing_is_an_error_for_its_checks(fake: FakeAzure) -> None:
    fake.fail("arm", r"/networkWatchers/[^/]+/flowLogs$", 403, times=-1)
    fake.fail("arm", r"/Microsoft\.Security/securityContacts$", 403, times=-1)
    snap = arm_snapshot(fake)
    assert [e.resource_type for e in snap.errors] == ["azure.network.flowlog"]
    assert snap.errors[0].region == "westeurope"
    result = {(f.check_id, f.resource_id.rsplit("/", 1)[-1]): f for f in evaluate(snap, ARM_CHECKS)}
    for nsg in ("jump-nsg", "web-nsg"):
        flow = result[("azure.network.nsg_flow_logs", nsg)]
        assert flow.status == Status.ERROR and "networkWatchers.flowLogs in westeurope" in flow.message
    contact = result[("azure.security.contact_email_set", DEMO_SUBSCRIPTION)]
    assert contact.status == Status.ERROR and "AuthorizationFailed" in contact.message
