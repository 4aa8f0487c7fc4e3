"""ARM checks on key vaults and network security groups added for issue #12: vault audit logging, RBAC,
network restriction; NSG flow logs (NSG flow logs and VNet flow logs with their precedence)."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

from typing import Any

import pytest
from azure_check_fixtures import ERROR, FAIL, NA, PASS, RG, SUB, Case, arm, case, check_case, listing_error
from test_azure_resource_checks import vault

import checks.azure.keyvault as kv
import checks.azure.network as network
from agent.models import Resource

WS = f"{RG}/providers/Microsoft.OperationalInsights/workspaces/ws"
VNET = f"{RG}/providers/Microsoft.Network/virtualNetworks/vnet1"
SUBNET = f"{VNET}/subnets/app"
NIC = f"{RG}/providers/Microsoft.Network/networkInterfaces/vm1-nic"
NSG_ID = f"{RG}/providers/Microsoft.Network/networkSecurityGroups/nsg"
WATCHER = f"/subscriptions/{SUB}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_westeurope"


def vault_with(
    settings: list[dict[str, Any]] | None = None, errors: dict[str, str] | None = None, **props: Any
) -> Resource:
    attrs: dict[str, Any] = {} if settings is None else {"DiagnosticSettings": settings}
    return arm("azure.keyvault.vault", "Microsoft.KeyVault/vaults", "kv", properties=props, errors=errors, **attrs)


def setting(*logs: dict[str, Any], target: str | None = "workspaceId", name: str = "to-ws") -> dict[str, Any]:
    p: dict[str, Any] = {"logs": list(logs), "metrics": [{"category": "AllMetrics", "enabled": True}]}
    if target:
        p[target] = WS
    return {"name": name, "properties": p}


def log(category: str = "", group: str = "", enabled: bool = True) -> dict[str, Any]:
    return {"category": category or None, "categoryGroup": group or None, "enabled": enabled}


def nsg(subnets: tuple[str, ...] = (SUBNET,), nics: tuple[str, ...] = ()) -> Resource:
    props = {
        "securityRules": [],
        "subnets": [{"id": s} for s in subnets],
        "networkInterfaces": [{"id": n} for n in nics],
    }
    return arm("azure.network.nsg", "Microsoft.Network/networkSecurityGroups", "nsg", properties=props)


def flowlog(target: str, name: str = "fl", enabled: bool = True, days: int = 90, retention: bool = True) -> Resource:
    rid = f"{WATCHER}/flowLogs/{name}"
    props = {
        "targetResourceId": target,
        "enabled": enabled,
        "storageId": f"{RG}/providers/Microsoft.Storage/storageAccounts/flows",
        "retentionPolicy": {"days": days, "enabled": retention},
        "format": {"type": "JSON", "version": 2},
    }
    return Resource(
        provider="azure",
        account=SUB,
        region="westeurope",
        type="azure.network.flowlog",
        id=rid,
        name=name,
        attributes={"id": rid, "name": name, "properties": props},
    )


def nic(subnet: str = SUBNET) -> Resource:
    props = {"ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": subnet}}}]}
    return Resource(
        provider="azure",
        account=SUB,
        region="westeurope",
        type="azure.network.nic",
        id=NIC,
        name="vm1-nic",
        attributes={"id": NIC, "properties": props},
    )


CASES = [
    # key vault logging
    case(kv.logging_enabled, vault_with([setting(log("AuditEvent"))]), PASS, "workspaceId", id="pass"),
    case(
        kv.logging_enabled,
        vault_with([setting(log(group="audit"), target="storageAccountId")]),
        PASS,
        "storageAccountId",
        id="audit-group",
    ),
    case(
        kv.logging_enabled,
        vault_with([setting(log(group="allLogs"), target="eventHubAuthorizationRuleId")]),
        PASS,
        "eventHub",
        id="all-logs-hub",
    ),
    case(kv.logging_enabled, vault_with([]), FAIL, "no diagnostic setting", id="fail"),
    case(
        kv.logging_enabled,
        vault_with([setting(log("AzurePolicyEvaluationDetails"))]),
        FAIL,
        "none exporting AuditEvent",
        id="policy-only",
        looks_fine="the vault has a diagnostic setting to a workspace, but it exports policy evaluations (and metrics), not AuditEvent",
    ),
    case(
        kv.logging_enabled,
        vault_with([setting(log("AuditEvent", enabled=False))]),
        FAIL,
        "none exporting",
        id="disabled-entry",
    ),
    case(
        kv.logging_enabled,
        vault_with([setting(log("AuditEvent"), target=None)]),
        FAIL,
        "none exporting",
        id="no-destination",
    ),
    case(
        kv.logging_enabled,
        vault_with(errors={"DiagnosticSettings": "AuthorizationFailed: no"}),
        ERROR,
        "DiagnosticSettings",
        id="error",
    ),
    # key vault RBAC
    case(kv.rbac_authorization, vault(enableRbacAuthorization=True), PASS, "Azure RBAC", id="pass"),
    case(
        kv.rbac_authorization,
        vault(enableRbacAuthorization=False, accessPolicies=[{"objectId": "x"}]),
        FAIL,
        "1 defined",
        id="fail",
    ),
    case(
        kv.rbac_authorization,
        vault(accessPolicies=[]),
        FAIL,
        "not set",
        id="unset",
        looks_fine="no access policy is defined, but RBAC authorization is not set either: the vault is on the access-policy model",
    ),
    case(
        kv.rbac_authorization,
        arm("azure.keyvault.vault", "Microsoft.KeyVault/vaults", "kv"),
        ERROR,
        "properties",
        id="error",
    ),
    # key vault network
    case(
        kv.public_network_restricted, vault(publicNetworkAccess="Disabled"), PASS, "public access disabled", id="pass"
    ),
    case(
        kv.public_network_restricted,
        vault(
            publicNetworkAccess="Enabled",
            networkAcls={"defaultAction": "Deny", "ipRules": [{"value": "203.0.113.4/32"}]},
        ),
        PASS,
        "denies",
        id="firewall",
    ),
    case(kv.public_network_restricted, vault(publicNetworkAccess="Enabled"), FAIL, "every network", id="fail"),
    case(
        kv.public_network_restricted,
        vault(
            publicNetworkAccess="Enabled",
            privateEndpointConnections=[{"properties": {"privateLinkServiceConnectionState": {"status": "Approved"}}}],
            networkAcls={"defaultAction": "Allow"},
        ),
        FAIL,
        "despite 1 private endpoint",
        id="endpoint-but-open",
        looks_fine="a private endpoint exists, but public access is still enabled with default Allow",
    ),
    case(
        kv.public_network_restricted,
        vault(networkAcls={"defaultAction": "Deny", "ipRules": [{"value": "0.0.0.0/0"}]}),
        FAIL,
        "0.0.0.0/0",
        id="deny-any",
    ),
    case(
        kv.public_network_restricted,
        vault(networkAcls={"defaultAction": "Deny", "ipRules": [{"value": "bad"}]}),
        ERROR,
        "unreadable",
        id="garbage",
    ),
    case(
        kv.public_network_restricted,
        arm("azure.keyvault.vault", "Microsoft.KeyVault/vaults", "kv"),
        ERROR,
        "properties",
        id="error",
    ),
    # NSG flow logs
    case(network.nsg_flow_logs, [nsg(), flowlog(NSG_ID)], PASS, "flow-logged by fl", id="pass-nsg-flow-log"),
    case(network.nsg_flow_logs, [nsg(), flowlog(VNET)], PASS, "VNet flow logs", id="pass-vnet"),
    case(network.nsg_flow_logs, [nsg(), flowlog(NSG_ID, days=0)], PASS, "flow-logged", id="zero-forever"),
    case(
        network.nsg_flow_logs,
        [nsg(), flowlog(NSG_ID, days=7, retention=False)],
        PASS,
        "flow-logged",
        id="retention-off-forever",
    ),
    case(
        network.nsg_flow_logs,
        [nsg(nics=(NIC,), subnets=()), nic(), flowlog(VNET)],
        PASS,
        "VNet flow logs",
        id="nic-via-vnet",
    ),
    case(network.nsg_flow_logs, [nsg()], FAIL, "subnet app has no VNet flow log", id="fail"),
    case(network.nsg_flow_logs, [nsg(), flowlog(NSG_ID, days=30)], FAIL, "keeps records 30 days", id="short"),
    case(
        network.nsg_flow_logs,
        [nsg(), flowlog(NSG_ID, enabled=False)],
        FAIL,
        "is disabled",
        id="disabled",
        looks_fine="an NSG flow log names the NSG, but it is disabled",
    ),
    case(
        network.nsg_flow_logs,
        [nsg(), flowlog(VNET, "vnet-fl"), flowlog(SUBNET, "subnet-off", enabled=False)],
        FAIL,
        "subnet-off is disabled",
        id="subnet-override",
        looks_fine="a VNet flow log on the VNet is enabled, but a subnet-level flow log (which takes precedence) is disabled",
    ),
    case(
        network.nsg_flow_logs,
        [
            nsg(nics=(NIC,), subnets=()),
            nic(f"{RG}/providers/Microsoft.Network/virtualNetworks/other/subnets/s"),
            flowlog(VNET),
        ],
        FAIL,
        "interface vm1-nic",
        id="nic-other-vnet",
    ),
    case(network.nsg_flow_logs, [nsg(subnets=(), nics=())], NA, "attached to no subnet", id="unattached"),
    case(
        network.nsg_flow_logs,
        [nsg(nics=(NIC,), subnets=()), flowlog(VNET)],
        ERROR,
        "was not collected",
        id="nic-missing",
    ),
    case(
        network.nsg_flow_logs,
        [nsg()],
        ERROR,
        "input missing",
        errors=[listing_error("azure.network.flowlog")],
        id="flowlogs-denied",
    ),
    case(
        network.nsg_flow_logs, [nsg(), flowlog(NSG_ID, days=30)], PASS, "flow-logged", params={"days": 30}, id="param"
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    check_case(c)


def test_every_check_here_has_pass_fail_error() -> None:
    seen: dict[str, set[Any]] = {}
    for item in CASES:
        seen.setdefault(item.values[0].check.id, set()).add(item.values[0].expect)
    for chk in (kv.logging_enabled, kv.rbac_authorization, kv.public_network_restricted, network.nsg_flow_logs):
        assert {PASS, FAIL, ERROR} <= seen.get(chk.id, set()), chk.id


def test_flow_log_ids_match_case_insensitively() -> None:
    upper = flowlog(NSG_ID.replace("resourceGroups", "resourcegroups").upper())
    finding = Case(network.nsg_flow_logs, [nsg(), upper], PASS).run()
    assert finding.status == PASS, finding.message
