"""Network security groups: no administration ports open to the internet."""

from __future__ import annotations

from agent.models import Resource
from checks.azure._util import open_ports, props
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, passed


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
    params={"ports": [22, 3389]},
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
