"""Compute Engine: firewall exposure, default network, external IPs, service accounts, OS Login."""

from __future__ import annotations

from typing import Any

from agent.models import Resource
from checks.base import (
    Context,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    need,
    not_applicable,
    passed,
)
from checks.gcp._compute import is_windows, os_login
from checks.gcp._reads import CE_DOCS, COMPUTE_PROJECTS, FIREWALLS, INSTANCES, NEEDS, NETWORKS, ORG_POLICIES
from checks.gcp._util import label, open_ports

VPC_DOCS = "https://cloud.google.com/firewall/docs/"
ADMIN_PORTS = (22, 3389)
DB_PORTS = (1433, 1521, 3306, 5432, 5984, 6379, 7000, 9042, 9200, 11211, 27017)
FULL_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def _firewall_verdict(fw: Resource, ports: tuple[int, ...], what: str) -> Verdict:
    need(fw, "direction")
    opened = open_ports(fw.attributes, [int(p) for p in ports])
    if opened:
        return failed(f"firewall rule {label(fw)} opens {what} port(s) {', '.join(map(str, opened))} to the internet")
    return passed(f"firewall rule {label(fw)} opens no {what} port to the internet")


_FW_CLI = "gcloud compute firewall-rules update <rule> --source-ranges=<office-cidr>"


@check(
    id="gcp.compute.firewall_admin_ports_closed",
    title="No firewall rule opens SSH or RDP to 0.0.0.0/0",
    severity=Severity.HIGH,
    resource_type="gcp.compute.firewall",
    rationale=(
        "SSH and RDP open to the internet are scanned and brute-forced within minutes. Use IAP "
        "TCP forwarding or a narrow source range instead."
    ),
    remediation=Remediation(
        console=(
            "1. Open VPC network > Firewall and choose the rule.\n"
            "2. Replace 0.0.0.0/0 with 35.235.240.0/20 (IAP) or your office ranges, or delete the rule."
        ),
        cli=_FW_CLI,
        docs=VPC_DOCS + "using-firewalls",
    ),
    params={"ports": list(ADMIN_PORTS)},
    reads=(FIREWALLS,),
    needs=NEEDS,
)
def firewall_admin_ports_closed(fw: Resource, ctx: Context) -> Verdict:
    return _firewall_verdict(fw, tuple(ctx.params.get("ports", ADMIN_PORTS)), "admin")


@check(
    id="gcp.compute.firewall_db_ports_closed",
    title="No firewall rule opens database ports to 0.0.0.0/0",
    severity=Severity.HIGH,
    resource_type="gcp.compute.firewall",
    rationale=(
        "Database ports reachable from anywhere invite credential stuffing and exploitation of "
        "database vulnerabilities. Databases should be reachable only from application networks."
    ),
    remediation=Remediation(
        console=(
            "1. Open VPC network > Firewall and choose the rule.\n"
            "2. Narrow the source ranges to your application subnets, or delete the rule."
        ),
        cli=_FW_CLI,
        docs=VPC_DOCS + "firewalls",
    ),
    params={"ports": list(DB_PORTS)},
    reads=(FIREWALLS,),
    needs=NEEDS,
)
def firewall_db_ports_closed(fw: Resource, ctx: Context) -> Verdict:
    return _firewall_verdict(fw, tuple(ctx.params.get("ports", DB_PORTS)), "database")


@check(
    id="gcp.compute.default_network_absent",
    title="Projects do not use the auto-created default network",
    severity=Severity.MEDIUM,
    resource_type="gcp.compute.network",
    rationale=(
        "The default network comes with permissive pre-made firewall rules (SSH, RDP and ICMP from "
        "anywhere) and subnets in every region. Purpose-built networks are easier to reason about."
    ),
    remediation=Remediation(
        console=(
            "1. Create a custom-mode VPC network with the subnets you need and move workloads to it.\n"
            "2. Open VPC network > VPC networks, choose default and delete it."
        ),
        cli="gcloud compute networks delete default",
        docs="https://cloud.google.com/vpc/docs/vpc#default-network",
    ),
    reads=(NETWORKS + ": name",),
    needs=NEEDS,
)
def default_network_absent(network: Resource, ctx: Context) -> Verdict:
    name = str(need(network, "name"))
    if name == "default":
        return failed(f"project {network.account} still has the default network")
    return passed(f"network {name} is not the default network")


def _interfaces(instance: Resource) -> list[dict[str, Any]]:
    return list(need(instance, "networkInterfaces") or [])


@check(
    id="gcp.compute.instance_no_external_ip",
    title="VM instances have no external IP address",
    severity=Severity.MEDIUM,
    resource_type="gcp.compute.instance",
    rationale=(
        "An external address puts the VM directly on the internet, relying on firewall rules alone. "
        "Cloud NAT and a load balancer or IAP give access without exposing the VM."
    ),
    remediation=Remediation(
        console=(
            "1. Open Compute Engine > VM instances, choose the instance and Edit.\n"
            "2. Under Network interfaces, set External IPv4 address to None and save."
        ),
        cli="gcloud compute instances delete-access-config <instance> --zone=<zone> "
        "--access-config-name='External NAT'",
        docs=CE_DOCS + "ip-addresses/reserve-static-external-ip-address#unassign_ip",
    ),
    reads=(INSTANCES + ": networkInterfaces[].accessConfigs[].natIP, networkInterfaces[].ipv6AccessConfigs[]",),
    needs=NEEDS,
)
def instance_no_external_ip(instance: Resource, ctx: Context) -> Verdict:
    ips = [str(ac.get("natIP") or "ephemeral") for ni in _interfaces(instance) for ac in ni.get("accessConfigs") or []]
    ips += [
        str(ac.get("externalIpv6") or "ipv6")
        for ni in _interfaces(instance)
        for ac in ni.get("ipv6AccessConfigs") or []
    ]
    if ips:
        return failed(f"instance {label(instance)} has external IP(s) {', '.join(ips)}")
    return passed(f"instance {label(instance)} has only internal addresses")


@check(
    id="gcp.compute.instance_shielded_vm",
    title="VM instances boot as Shielded VMs with Secure Boot and integrity monitoring",
    severity=Severity.MEDIUM,
    resource_type="gcp.compute.instance",
    rationale=(
        "Secure Boot refuses boot components that are not signed, and integrity monitoring compares each "
        "boot with a known-good baseline, so a rootkit or bootkit cannot quietly persist on the VM."
    ),
    remediation=Remediation(
        console=(
            "1. Stop the instance, then Edit (the boot disk image must support Shielded VM).\n"
            "2. Under Shielded VM, turn on Secure Boot, vTPM and Integrity monitoring.\n"
            "3. Save and start the instance."
        ),
        cli="gcloud compute instances update <instance> --zone=<zone> --shielded-secure-boot "
        "--shielded-vtpm --shielded-integrity-monitoring",
        docs=CE_DOCS + "shielded-vm/modifying-shielded-vm",
    ),
    reads=(INSTANCES + ": shieldedInstanceConfig.enableSecureBoot, enableVtpm, enableIntegrityMonitoring",),
    needs=NEEDS,
)
def instance_shielded_vm(instance: Resource, ctx: Context) -> Verdict:
    if "shieldedInstanceConfig" in instance.errors:
        need(instance, "shieldedInstanceConfig")  # raises: unknown, never pass
    config = instance.attributes.get("shieldedInstanceConfig")
    if not config:  # the API omits the block for images without Shielded VM support
        return failed(f"instance {label(instance)} is not a Shielded VM")
    off = [
        name
        for key, name in (
            ("enableSecureBoot", "Secure Boot"),
            ("enableVtpm", "vTPM"),
            ("enableIntegrityMonitoring", "integrity monitoring"),
        )
        if not config.get(key)
    ]
    if off:
        return failed(f"instance {label(instance)} has {', '.join(off)} turned off")
    return passed(f"instance {label(instance)} boots with Secure Boot, vTPM and integrity monitoring")


@check(
    id="gcp.compute.instance_default_sa_full_scope",
    title="VM instances do not run as the default service account with full API access",
    severity=Severity.HIGH,
    resource_type="gcp.compute.instance",
    rationale=(
        "The Compute Engine default service account is an Editor by default; with the cloud-platform "
        "scope anyone who gets onto the VM can change almost anything in the project."
    ),
    remediation=Remediation(
        console=(
            "1. Stop the instance, then Edit.\n"
            "2. Under Identity and API access, choose a dedicated service account with minimal roles.\n"
            "3. Save and start the instance."
        ),
        cli="gcloud compute instances set-service-account <instance> --zone=<zone> "
        "--service-account=<sa-email> --scopes=cloud-platform",
        docs=CE_DOCS + "access/create-enable-service-accounts-for-instances",
    ),
    reads=(INSTANCES + ": serviceAccounts[].email, serviceAccounts[].scopes",),
    needs=NEEDS,
)
def instance_default_sa_full_scope(instance: Resource, ctx: Context) -> Verdict:
    accounts = list(need(instance, "serviceAccounts") or [])
    for sa in accounts:
        email = str(sa.get("email", ""))
        if email.endswith("-compute@developer.gserviceaccount.com") and FULL_SCOPE in (sa.get("scopes") or []):
            return failed(f"instance {label(instance)} runs as the default service account with full API access")
    if not accounts:
        return passed(f"instance {label(instance)} runs without a service account")
    return passed(f"instance {label(instance)} does not combine the default service account with full scope")


@check(
    id="gcp.compute.instance_os_login",
    title="Linux VM instances use OS Login for SSH access",
    severity=Severity.MEDIUM,
    resource_type="gcp.compute.instance",
    requires=("gcp.compute.project", "gcp.project"),
    rationale=(
        "OS Login ties SSH access to IAM identities, so removing a person from IAM removes their SSH "
        "access; metadata SSH keys are unmanaged and outlive the people who added them. The organization "
        "policy compute.requireOsLogin turns it on whatever the metadata says. Windows VMs do not use it "
        "(CIS GCP 4.4)."
    ),
    remediation=Remediation(
        console=(
            "1. Open IAM & Admin > Organization Policies and enforce Require OS Login "
            "(compute.requireOsLogin) on the organisation or folder; or\n"
            "2. Open Compute Engine > Metadata for the project, add enable-oslogin = TRUE and remove any "
            "instance override."
        ),
        cli="gcloud resource-manager org-policies enable-enforce compute.requireOsLogin --organization=<org-id>",
        docs=CE_DOCS + "oslogin/set-up-oslogin",
    ),
    reads=(
        INSTANCES + ": metadata.items[enable-oslogin], status, disks[].licenses, disks[].guestOsFeatures",
        COMPUTE_PROJECTS + ": commonInstanceMetadata.items[enable-oslogin]",
        ORG_POLICIES + ": orgPolicy[constraints/compute.requireOsLogin] on the project, folders, organization",
    ),
    needs=NEEDS,
)
def instance_os_login(instance: Resource, ctx: Context) -> Verdict:
    if is_windows(instance):
        return not_applicable(f"instance {label(instance)} runs Windows: OS Login is for Linux")
    on, where = os_login(ctx, instance)
    if str(instance.attributes.get("status", "RUNNING")) == "TERMINATED" and not on:
        return not_applicable(f"instance {label(instance)} is stopped")
    if on:
        return passed(f"instance {label(instance)} uses OS Login ({where})")
    return failed(f"instance {label(instance)} does not use OS Login ({where})")
