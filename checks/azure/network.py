"""Network security groups: no administration ports open to the internet, traffic flow logged."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agent.models import Resource, Snapshot
from checks.azure._arm import ARM_READER, find, same_id
from checks.azure._util import open_ports, props
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, not_applicable, passed

_NSGS = "GET /subscriptions/{id}/providers/Microsoft.Network/networkSecurityGroups?api-version=2023-09-01"


@check(
    id="azure.network.nsg_admin_ports_restricted",
    title="Network security groups do not allow SSH, RDP or other admin ports from the internet",
    severity=Severity.HIGH,
    resource_type="azure.network.nsg",
    rationale=(
        "Remote administration ports open to the internet are scanned and brute-forced within minutes. "
        "Reach them through Azure Bastion, a VPN or just-in-time access instead."
    ),
    remediation=Remediation(
        console=(
            "1. Open the network security group > Settings > Inbound security rules.\n"
            "2. Delete or narrow every Allow rule whose source is Any/Internet/0.0.0.0/0 on ports 22, 3389 "
            "(or a range containing them) to your VPN or Bastion subnet.\n"
            "3. Prefer Azure Bastion or Defender for Cloud just-in-time VM access."
        ),
        cli="az network nsg rule delete --resource-group <group> --nsg-name <nsg> --name <rule>",
        docs="https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 7.1", "CIS Microsoft Azure Foundations v3.0.0 7.2"),
    params={"ports": [22, 3389]},
    reads=(
        _NSGS + ": properties.securityRules (direction, access, protocol, sourceAddressPrefix(es), "
        "destinationPortRange(s))",
    ),
    needs=ARM_READER,
)
def nsg_admin_ports_restricted(nsg: Resource, ctx: Context) -> Verdict:
    ports = [int(p) for p in ctx.params.get("ports", [22, 3389])]
    rules = props(nsg).get("securityRules")
    if rules is None:
        raise MissingInput(f"NSG {nsg.name} has no securityRules list")
    try:
        hits = open_ports(rules, ports)
    except ValueError as exc:
        raise MissingInput(f"NSG {nsg.name} has a rule with an unreadable port range: {exc}") from exc
    if hits:
        shown = ", ".join(f"{name} (port {port})" for name, port in hits)
        return failed(f"NSG {nsg.name} allows the internet in on admin ports: {shown}")
    return passed(f"NSG {nsg.name} allows no internet traffic to ports {', '.join(map(str, ports))}")


# -- flow logs -------------------------------------------------------------------------------------


def _flow_log_for(snapshot: Snapshot, target: str) -> Mapping[str, Any] | None:
    """The properties of the flow log whose target is ``target`` (an NSG, VNet, subnet or NIC id)."""
    for fl in snapshot.of_type("azure.network.flowlog"):
        p = fl.attributes.get("properties") or {}
        if same_id(p.get("targetResourceId"), target):
            return {"name": fl.name, **p}
    return None


def _flow_log_problem(log: Mapping[str, Any], min_days: int) -> str:
    """'' when the flow log is on and keeps records long enough, else what is wrong."""
    if log.get("enabled") is not True:
        return f"flow log {log.get('name')} is disabled"
    policy = log.get("retentionPolicy") or {}
    days = int(policy.get("days") or 0)
    # Retention off, or 0 days, means records are never deleted.
    if policy.get("enabled") is True and 0 < days < min_days:
        return f"flow log {log.get('name')} keeps records {days} days (< {min_days})"
    return ""


def _vnet_of(subnet_id: str) -> str:
    cut = subnet_id.lower().find("/subnets/")
    return subnet_id[:cut] if cut >= 0 else subnet_id


def _most_specific(snapshot: Snapshot, targets: Iterable[str]) -> Mapping[str, Any] | None:
    """VNet flow logs: a NIC-level log overrides the subnet's, which overrides the VNet's."""
    for target in targets:
        found = _flow_log_for(snapshot, target)
        if found is not None:
            return found
    return None


def _subnet_ids_of_nic(snapshot: Snapshot, nic_id: str) -> list[str]:
    nic = find(snapshot, "azure.network.nic", nic_id)
    if nic is None:
        raise MissingInput(f"network interface {nic_id.rsplit('/', 1)[-1]} was not collected")
    configs = (nic.attributes.get("properties") or {}).get("ipConfigurations") or []
    return [
        str(((c.get("properties") or {}).get("subnet") or {}).get("id"))
        for c in configs
        if ((c.get("properties") or {}).get("subnet") or {}).get("id")
    ]


@check(
    id="azure.network.nsg_flow_logs",
    title="Traffic through each network security group is flow-logged and kept at least 90 days",
    severity=Severity.MEDIUM,
    resource_type="azure.network.nsg",
    rationale=(
        "Flow logs record which addresses talked to which ports through the network, the evidence needed "
        "to scope an intrusion or a data exfiltration. An NSG flow log, or a VNet flow log covering every "
        "subnet and interface the NSG is attached to, gives that record."
    ),
    remediation=Remediation(
        console=(
            "1. Network Watcher > Flow logs > Create: flow log type 'Virtual network', select the virtual "
            "networks of the NSG's subnets and interfaces, a storage account, and retention 90 days or more "
            "(0 keeps records forever).\n"
            "2. Optionally enable traffic analytics to a Log Analytics workspace."
        ),
        cli="az network watcher flow-log create --location <region> --resource-group <group> --name <name> "
        "--vnet <vnet-id> --storage-account <account-id> --retention 90",
        docs="https://learn.microsoft.com/azure/network-watcher/vnet-flow-logs-overview",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 7.5", "CIS Microsoft Azure Foundations v3.0.0 6.1.5"),
    requires=("azure.network.watcher", "azure.network.flowlog", "azure.network.nic"),
    params={"days": 90},
    reads=(
        _NSGS + ": properties.subnets, properties.networkInterfaces",
        "GET /subscriptions/{id}/providers/Microsoft.Network/networkWatchers?api-version=2023-09-01: id",
        "GET {watcher}/flowLogs?api-version=2023-09-01: properties.targetResourceId, enabled, "
        "retentionPolicy (enabled, days)",
        "GET /subscriptions/{id}/providers/Microsoft.Network/networkInterfaces?api-version=2023-09-01: "
        "properties.ipConfigurations[].properties.subnet.id",
    ),
    needs=ARM_READER,
)
def nsg_flow_logs(nsg: Resource, ctx: Context) -> Verdict:
    min_days = int(ctx.params.get("days", 90))
    snap = ctx.snapshot
    own = _flow_log_for(snap, nsg.id)
    own_problem = _flow_log_problem(own, min_days) if own is not None else ""
    if own is not None and not own_problem:
        return passed(f"NSG {nsg.name} is flow-logged by {own.get('name')}")
    p = props(nsg)
    subnets = [str(s.get("id")) for s in p.get("subnets") or [] if s.get("id")]
    nics = [str(n.get("id")) for n in p.get("networkInterfaces") or [] if n.get("id")]
    if not subnets and not nics and own is None:
        return not_applicable(f"NSG {nsg.name} is attached to no subnet or network interface")
    gaps: list[str] = []
    for subnet in subnets:
        log = _most_specific(snap, (subnet, _vnet_of(subnet)))
        label = f"subnet {subnet.rsplit('/', 1)[-1]}"
        gaps.append(f"{label} has no VNet flow log" if log is None else _flow_log_problem(log, min_days))
    for nic in nics:
        log = _most_specific(snap, [nic] + [t for s in _subnet_ids_of_nic(snap, nic) for t in (s, _vnet_of(s))])
        label = f"interface {nic.rsplit('/', 1)[-1]}"
        gaps.append(f"{label} has no VNet flow log" if log is None else _flow_log_problem(log, min_days))
    gaps = [g for g in gaps if g]
    if (subnets or nics) and not gaps:
        return passed(f"NSG {nsg.name} is covered by VNet flow logs on all its subnets and interfaces")
    head = own_problem or "no NSG flow log"
    return failed(f"NSG {nsg.name} is not fully flow-logged: {'; '.join([head, *gaps])}")
