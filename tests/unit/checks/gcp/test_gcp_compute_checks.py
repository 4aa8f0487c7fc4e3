"""GCP Compute Engine checks: firewalls, networks, subnets, instances (OS Login, SSH keys, serial port...)."""

from __future__ import annotations

from typing import Any

import pytest
from gcp_check_fixtures import (
    DEFAULT_SA,
    ERROR,
    FAIL,
    FULL,
    NA,
    PASS,
    PROJECT,
    Case,
    case,
    cproject,
    listing_failed,
    meta,
    org_policy,
    project,
    res,
    run,
    vm,
)

from agent.models import Resource
from checks.gcp import compute, compute_hardening

OS_LOGIN_ON = org_policy("compute.requireOsLogin", True)
SERIAL_OFF = org_policy("compute.disableSerialPortAccess", True)
WINDOWS_DISK = [
    {
        "boot": True,
        "licenses": [
            "https://www.googleapis.com/compute/v1/projects/windows-cloud/global/licenses/windows-server-2022-dc"
        ],
    }
]
UNKNOWN = {
    "orgPolicy:constraints/compute.requireOsLogin": "organization policies of organizations/3 could not "
    "be read: PERMISSION_DENIED",
    "orgPolicy:constraints/compute.disableSerialPortAccess": "PERMISSION_DENIED",
}


def policies(**effective: dict[str, Any]) -> Resource:
    base = dict(project().attributes["effectiveOrgPolicies"])
    for value in effective.values():
        base.update(value)
    return project(effectiveOrgPolicies=base)


def fw(ports: list[str] | None, ranges: list[str], proto: str = "tcp", **kw: Any) -> Resource:
    rule: dict[str, Any] = {"IPProtocol": proto}
    if ports is not None:
        rule["ports"] = ports
    return res("gcp.compute.firewall", "fw", direction="INGRESS", sourceRanges=ranges, allowed=[rule], **kw)


def subnet(purpose: str = "PRIVATE", **config: Any) -> Resource:
    attrs: dict[str, Any] = {"purpose": purpose}
    if config:
        attrs["logConfig"] = config
    return res("gcp.compute.subnetwork", "sub", **attrs)


FULL_LOGS = {
    "enable": True,
    "aggregationInterval": "INTERVAL_5_SEC",
    "flowSampling": 1,
    "metadata": "INCLUDE_ALL_METADATA",
}

CASES = [
    # firewall ------------------------------------------------------------------------------------------
    case(compute.firewall_admin_ports_closed, fw(["22"], ["0.0.0.0/0"]), FAIL, "22", id="ssh"),
    case(
        compute.firewall_admin_ports_closed,
        fw(["3000-4000"], ["::/0"]),
        FAIL,
        "3389",
        id="rdp-range-v6",
        looks_fine="no rule names 3389, but the range 3000-4000 contains it, open to all of IPv6",
    ),
    case(compute.firewall_admin_ports_closed, fw(None, ["0.0.0.0/0"], proto="all"), FAIL, "22", id="all"),
    case(compute.firewall_admin_ports_closed, fw(["22"], ["10.0.0.0/8"]), PASS, id="internal"),
    case(
        compute.firewall_admin_ports_closed,
        fw(["22"], ["0.0.0.0/1", "128.0.0.0/1"]),
        FAIL,
        "22",
        id="defect-split-halves",
        looks_fine="no range is 0.0.0.0/0, but the two /1 halves admit every address",
    ),
    case(
        compute.firewall_admin_ports_closed,
        fw(["3389"], []),
        FAIL,
        "3389",
        id="defect-no-source",
        looks_fine="no source range at all reads as 'nobody', but an ingress rule without a source applies to 0.0.0.0/0",
    ),
    case(compute.firewall_admin_ports_closed, fw(["22"], [], sourceTags=["bastion"]), PASS, id="source-tags-only"),
    case(compute.firewall_admin_ports_closed, fw(["22"], ["35.235.240.0/20"]), PASS, id="iap-range"),
    case(compute.firewall_admin_ports_closed, fw(["22"], ["0.0.0.0/0"], disabled=True), PASS, id="disabled"),
    case(compute.firewall_admin_ports_closed, fw(["443"], ["0.0.0.0/0"]), PASS, id="https"),
    case(
        compute.firewall_admin_ports_closed,
        res("gcp.compute.firewall", "fw", errors={"direction": "x"}),
        ERROR,
        id="error",
    ),
    case(compute.firewall_db_ports_closed, fw(["5432"], ["0.0.0.0/0"]), FAIL, "5432", id="fail"),
    case(compute.firewall_db_ports_closed, fw(["22"], ["0.0.0.0/0"]), PASS, id="pass"),
    case(
        compute.firewall_db_ports_closed,
        fw(None, ["0.0.0.0/0"]),
        FAIL,
        "3306",
        id="no-ports",
        looks_fine="no port is listed, which means every TCP port",
    ),
    case(
        compute.firewall_db_ports_closed,
        res("gcp.compute.firewall", "fw", errors={"direction": "x"}),
        ERROR,
        id="error",
    ),
    # networks ------------------------------------------------------------------------------------------
    case(compute.default_network_absent, res("gcp.compute.network", "default"), FAIL, "default network", id="fail"),
    case(compute.default_network_absent, res("gcp.compute.network", "prod"), PASS, id="pass"),
    case(
        compute.default_network_absent,
        res("gcp.compute.network", "default", autoCreateSubnetworks=False),
        FAIL,
        id="renamed-mode",
        looks_fine="switched to custom subnet mode, but it is still the default network "
        "with its pre-made firewall rules",
    ),
    case(
        compute.default_network_absent,
        Resource(
            provider="gcp", account=PROJECT, region="global", type="gcp.compute.network", id="n", errors={"name": "x"}
        ),
        ERROR,
        id="error",
    ),
    # subnets and flow logs --------------------------------------------------------------------------------
    case(compute_hardening.subnet_flow_logs, subnet(**FULL_LOGS), PASS, id="pass"),
    case(compute_hardening.subnet_flow_logs, subnet(), FAIL, "off", id="off"),
    case(
        compute_hardening.subnet_flow_logs,
        subnet(enable=True),
        FAIL,
        "samples 0.5",
        id="console-default",
        looks_fine="flow logs are on, but the API default samples only half of the flows",
    ),
    case(
        compute_hardening.subnet_flow_logs,
        subnet(**{**FULL_LOGS, "filterExpr": "inIpRange(connection.src_ip, '10.0.0.0/8')"}),
        FAIL,
        "filters",
        id="filtered",
    ),
    case(
        compute_hardening.subnet_flow_logs,
        subnet(**{**FULL_LOGS, "aggregationInterval": "INTERVAL_15_MIN", "metadata": "EXCLUDE_ALL_METADATA"}),
        FAIL,
        "INTERVAL_15_MIN",
        id="coarse",
    ),
    case(compute_hardening.subnet_flow_logs, subnet("REGIONAL_MANAGED_PROXY"), NA, id="proxy-only"),
    case(
        compute_hardening.subnet_flow_logs,
        subnet(**{**FULL_LOGS, "flowSampling": 0.5}),
        PASS,
        params={"flow_sampling": 0.5},
        id="param",
    ),
    case(
        compute_hardening.subnet_flow_logs,
        res("gcp.compute.subnetwork", "sub", errors={"logConfig": "x"}),
        ERROR,
        id="error",
    ),
    # external IPs, Shielded VM, default service account ------------------------------------------------------
    case(
        compute.instance_no_external_ip,
        vm(networkInterfaces=[{"accessConfigs": [{"natIP": "34.1.2.3"}]}]),
        FAIL,
        "34.1.2.3",
        id="fail",
    ),
    case(compute.instance_no_external_ip, vm(), PASS, id="pass"),
    case(
        compute.instance_no_external_ip,
        vm(networkInterfaces=[{"accessConfigs": [{"type": "ONE_TO_ONE_NAT"}]}]),
        FAIL,
        "ephemeral",
        id="ephemeral",
        looks_fine="no natIP is shown, but an access config gets an ephemeral external address",
    ),
    case(
        compute.instance_no_external_ip,
        res("gcp.compute.instance", "vm", errors={"networkInterfaces": "x"}),
        ERROR,
        id="error",
    ),
    case(compute.instance_shielded_vm, vm(), FAIL, "not a Shielded VM", id="not-shielded"),
    case(
        compute.instance_shielded_vm,
        vm(shieldedInstanceConfig={"enableSecureBoot": False, "enableVtpm": True, "enableIntegrityMonitoring": True}),
        FAIL,
        "Secure Boot turned off",
        id="fail",
        looks_fine="the instance is a Shielded VM, but Secure Boot (off by default) is not on",
    ),
    case(
        compute.instance_shielded_vm,
        vm(shieldedInstanceConfig={"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True}),
        PASS,
        id="pass",
    ),
    case(
        compute.instance_shielded_vm,
        res("gcp.compute.instance", "vm", errors={"shieldedInstanceConfig": "x"}),
        ERROR,
        id="error",
    ),
    case(
        compute.instance_default_sa_full_scope,
        vm(serviceAccounts=[{"email": DEFAULT_SA, "scopes": [FULL]}]),
        FAIL,
        "default service account",
        id="fail",
    ),
    case(
        compute.instance_default_sa_full_scope,
        vm(serviceAccounts=[{"email": DEFAULT_SA, "scopes": ["https://www.googleapis.com/auth/logging.write"]}]),
        PASS,
        id="narrow-scope",
    ),
    case(
        compute.instance_default_sa_full_scope,
        vm(serviceAccounts=[{"email": "app@p.iam.gserviceaccount.com", "scopes": [FULL]}]),
        PASS,
        id="own-sa",
    ),
    case(
        compute.instance_default_sa_full_scope,
        vm(
            serviceAccounts=[
                {"email": "app@p.iam.gserviceaccount.com", "scopes": []},
                {"email": DEFAULT_SA, "scopes": [FULL]},
            ]
        ),
        FAIL,
        id="second-account",
        looks_fine="the first service account listed is a dedicated one",
    ),
    case(
        compute.instance_default_sa_full_scope,
        res("gcp.compute.instance", "vm", errors={"serviceAccounts": "x"}),
        ERROR,
        id="error",
    ),
    # OS Login ------------------------------------------------------------------------------------------------
    case(compute.instance_os_login, [vm(), cproject("TRUE"), project()], PASS, "project metadata", id="project"),
    case(
        compute.instance_os_login,
        [vm(metadata=meta(enable_oslogin="false")), cproject("TRUE"), project()],
        FAIL,
        "instance metadata",
        id="override-off",
        looks_fine="the project turns OS Login on, but this instance's own metadata turns it off",
    ),
    case(compute.instance_os_login, [vm(), cproject(None), project()], FAIL, id="off"),
    case(compute.instance_os_login, [vm()], ERROR, "not in this snapshot", id="no-project"),
    case(
        compute.instance_os_login,
        [vm(), cproject("TRUE"), project()],
        ERROR,
        "input missing",
        id="project-listing-failed",
        errors=listing_failed("gcp.compute.project"),
    ),
    case(
        compute.instance_os_login,
        [vm(metadata=meta(enable_oslogin="false")), cproject(None), policies(p=OS_LOGIN_ON)],
        PASS,
        "compute.requireOsLogin enforced on folders/2",
        id="defect-org-policy-enforced",
    ),
    case(
        compute.instance_os_login,
        [vm(disks=WINDOWS_DISK), cproject(None), project()],
        NA,
        "Windows",
        id="defect-windows-license",
    ),
    case(
        compute.instance_os_login,
        [vm(disks=[{"boot": True, "guestOsFeatures": [{"type": "WINDOWS"}]}]), cproject(None), project()],
        NA,
        id="defect-windows-guest-os",
    ),
    case(
        compute.instance_os_login,
        [vm(), cproject(None), project(errors=UNKNOWN)],
        ERROR,
        "could override",
        id="defect-org-policy-unreadable",
    ),
    case(
        compute.instance_os_login,
        [vm(), cproject("TRUE"), project(errors=UNKNOWN)],
        PASS,
        id="metadata-on-policy-unknown",
    ),
    # project-wide SSH keys ---------------------------------------------------------------------------------------
    case(
        compute_hardening.instance_block_project_ssh_keys,
        [vm(metadata=meta(block_project_ssh_keys="TRUE")), cproject(), project()],
        PASS,
        "blocks",
        id="pass",
    ),
    case(compute_hardening.instance_block_project_ssh_keys, [vm(), cproject(), project()], FAIL, "accepts", id="fail"),
    case(
        compute_hardening.instance_block_project_ssh_keys,
        [vm(metadata=meta(block_project_ssh_keys="false")), cproject(), project()],
        FAIL,
        id="set-false",
        looks_fine="the key block-project-ssh-keys is present, with the value false",
    ),
    case(
        compute_hardening.instance_block_project_ssh_keys,
        [vm(), cproject(), policies(p=OS_LOGIN_ON)],
        PASS,
        "OS Login",
        id="os-login",
    ),
    case(
        compute_hardening.instance_block_project_ssh_keys,
        [vm(disks=WINDOWS_DISK), cproject(), project()],
        NA,
        id="windows",
    ),
    case(
        compute_hardening.instance_block_project_ssh_keys,
        [vm(labels={"goog-gke-node": ""}), cproject(), project()],
        NA,
        id="gke",
    ),
    case(
        compute_hardening.instance_block_project_ssh_keys,
        [vm(), cproject(), project(errors=UNKNOWN)],
        ERROR,
        id="error",
    ),
    # serial port -------------------------------------------------------------------------------------------------
    case(compute_hardening.instance_serial_port_disabled, [vm(), cproject(), project()], PASS, id="pass"),
    case(
        compute_hardening.instance_serial_port_disabled,
        [vm(metadata=meta(serial_port_enable="TRUE")), cproject(), project()],
        FAIL,
        "instance metadata",
        id="fail",
    ),
    case(
        compute_hardening.instance_serial_port_disabled,
        [vm(), cproject(serial_port_enable="1"), project()],
        FAIL,
        "project metadata",
        id="project-wide",
        looks_fine="the instance's metadata says nothing, but the project's serial-port-enable=1 applies to it",
    ),
    case(
        compute_hardening.instance_serial_port_disabled,
        [vm(metadata=meta(serial_port_enable="TRUE")), cproject(), policies(p=SERIAL_OFF)],
        PASS,
        "disableSerialPortAccess",
        id="org-policy",
    ),
    case(
        compute_hardening.instance_serial_port_disabled,
        [vm(metadata=meta(serial_port_enable="TRUE")), cproject(), project(errors=UNKNOWN)],
        ERROR,
        id="error",
    ),
    case(
        compute_hardening.instance_serial_port_disabled,
        [vm(), project()],
        ERROR,
        "not in this snapshot",
        id="no-compute-project",
    ),
    # IP forwarding --------------------------------------------------------------------------------------------------
    case(compute_hardening.instance_ip_forwarding_off, vm(canIpForward=False), PASS, id="pass"),
    case(compute_hardening.instance_ip_forwarding_off, vm(canIpForward=True), FAIL, "canIpForward", id="fail"),
    case(
        compute_hardening.instance_ip_forwarding_off, vm(canIpForward=True, labels={"goog-gke-node": ""}), NA, id="gke"
    ),
    case(
        compute_hardening.instance_ip_forwarding_off,
        vm("gke-router-1", canIpForward=True),
        FAIL,
        id="gke-lookalike",
        looks_fine="named like a GKE node, but without GKE's goog-gke-node label",
    ),
    case(
        compute_hardening.instance_ip_forwarding_off,
        res("gcp.compute.instance", "vm", errors={"canIpForward": "x"}),
        ERROR,
        id="error",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    run(c)
